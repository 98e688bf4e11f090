import * as store from './store.js';

/** `npm run bench`: every benchmark in turn, results as Markdown tables on stdout. */
async function main(): Promise<void> {
  const only = process.argv[2];
  if (!only || only === 'store') {
    process.stdout.write('## Embedded store vs in-process PouchDB (LevelDB)\n\n');
    process.stdout.write(store.report(await store.run()) + '\n\n');
  }
}

await main();
