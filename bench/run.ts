import * as store from './store.js';
import * as reconcile from './reconcile.js';
import * as aggregate from './aggregate.js';
import * as gateway from './gateway.js';
import * as importUsers from './import.js';
import * as bulkDocs from './bulk-docs.js';
import * as conflicts from './store-conflicts.js';
import * as client from './client.js';
import * as live from './live.js';
import * as outbox from './outbox.js';
import * as exportBench from './export.js';
import { reportHop } from './gateway-hop.js';
import { runHop } from './hop.js';

/**
 * `npm run bench [name…]`: every benchmark in turn (or the named ones), results
 * as Markdown on stdout. Run it twice and compare: this machine is shared and noisy.
 */
const benches: Record<string, { title: string; go: () => Promise<string> }> = {
  store: {
    title: 'Embedded store vs in-process PouchDB (LevelDB)',
    go: async () => store.report(await store.run()),
  },
  conflicts: {
    title: 'Embedded store: _bulk_get with latest over one document with many conflicting leaves',
    go: async () => conflicts.report(await conflicts.run()),
  },
  gateway: {
    title: 'Sync gateway vs direct: first sync of 10,000 records and an incremental sync',
    go: async () => gateway.report(await gateway.run()),
  },
  hop: {
    title:
      "The gateway's cost per request: 1,000 checkpoint reads direct and through it, three times",
    go: async () => reportHop(await runHop()).join('\n'),
  },
  'bulk-docs': {
    title: 'One big _bulk_docs: write time and /health latency meanwhile',
    go: async () => bulkDocs.report(await bulkDocs.run()),
  },
  client: {
    title: 'Sawa client vs stock PouchDB on a shaped 2G link: 3,000 visit records',
    go: async () => client.report(await client.run()),
  },
  reconcile: {
    title: 'Conflict reconciler: 1,000 user databases, 10 changed',
    go: async () => reconcile.report(await reconcile.run()),
  },
  aggregate: {
    title: 'Aggregator: 1,000 user databases, 10 changed',
    go: async () => aggregate.report(await aggregate.run()),
  },
  live: {
    title: 'A fleet in live sync: phones waiting on longpoll _changes through the gateway',
    go: async () => {
      const out: string[] = [];
      for (const spec of live.liveRuns()) out.push(live.report(await live.run(spec)));
      return out.join('\n\n');
    },
  },
  'live-dbs': {
    title: 'Embedded store: memory per open database',
    go: async () => live.reportDbs(await live.runDbs()),
  },
  outbox: {
    title: 'Outbox run: finding the due open claims among 20,000 final ones',
    go: async () => outbox.report(await outbox.run()),
  },
  export: {
    title: "A person's export, streamed vs built in memory: memory as the person's data grows",
    go: async () => exportBench.report(await exportBench.run()),
  },
  import: {
    title: 'Bulk onboarding: 1,000 agents imported (scrypt and provisioning at production cost)',
    go: async () => importUsers.report(await importUsers.run()),
  },
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !(w in benches));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}\n`,
    );
    process.exit(2);
  }
  for (const [name, bench] of Object.entries(benches)) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    process.stdout.write(`## ${bench.title}\n\n${await bench.go()}\n\n`);
  }
}

await main();
