/**
 * Rolls this build's design documents out to every user and team database.
 *
 *   npm run deploy-design-docs [-- --dry-run] [--concurrency N] [--full] [--keep-obsolete]
 *
 * Same modules as the service's start-up rollout (server/migrations/). Prints each change on
 * stdout, progress and failures on stderr. Exit codes: 0 every database is current, 1 some
 * failed (run again), 2 usage or configuration, 3 CouchDB unreachable, 130 interrupted (run
 * again: it resumes).
 */
import { buildDesignDocs, loadSyncRules, RulesError } from '../server/rules/index.js';
import { DEPLOY_DEFAULTS } from '../server/migrations/design-docs.js';
import { rollOutDesignDocs } from '../server/migrations/rollout.js';
import { fleetDbs } from '../server/provisioning/fleet-dbs.js';
import {
  CliError,
  connectCouch,
  EXIT,
  interruptSignal,
  intOption,
  loadCliConfig,
  parseCliArgs,
  progress,
  run,
  type CliIo,
  type Progress,
} from './cli.js';

const USAGE = `usage: npm run deploy-design-docs -- [--dry-run] [--concurrency N] [--full] [--keep-obsolete]
  --dry-run         say what would change, change nothing
  --concurrency N   databases at once, 1 to 64 (default ${DEPLOY_DEFAULTS.concurrency})
  --full            check every database, even after an interrupted run (default: resume it)
  --keep-obsolete   leave Sawa design documents this build no longer has`;

export async function main(io: CliIo): Promise<number> {
  const args = parseCliArgs(
    USAGE,
    {
      'dry-run': { type: 'boolean', default: false },
      concurrency: { type: 'string', default: String(DEPLOY_DEFAULTS.concurrency) },
      full: { type: 'boolean', default: false },
      'keep-obsolete': { type: 'boolean', default: false },
    },
    io.argv,
    io.stdout,
  );
  const concurrency = intOption(args.concurrency, 'concurrency', 1, 64);
  const dryRun = args['dry-run'];
  const config = loadCliConfig(io.env);
  const built = (() => {
    try {
      return buildDesignDocs(loadSyncRules());
    } catch (err) {
      if (err instanceof RulesError) throw new CliError(err.message, EXIT.usage);
      throw err;
    }
  })();
  const couch = await connectCouch(config);
  const signal = io.signal ?? interruptSignal();

  let bar: Progress | undefined;
  const result = await rollOutDesignDocs(couch.nano, built, {
    from: args.full ? 'full' : 'resume',
    fleet: fleetDbs(config),
    dryRun,
    concurrency,
    prune: !args['keep-obsolete'],
    signal,
    onListed: (total) => {
      bar = progress(dryRun ? 'checking' : 'deploying', total, io.stderr, io.stdout);
      bar.update(0);
    },
    onProgress: (e) => {
      for (const change of e.changes) bar?.line(change);
      if (e.outcome === 'failed') bar?.line(`FAILED ${e.db}: ${e.error}`, io.stderr);
      bar?.update(e.done, e.done < e.total ? e.db : '');
    },
  });
  bar?.end();

  const verb = dryRun ? 'would update' : 'updated';
  const from = result.resumedAfter ? ` (resumed after ${result.resumedAfter})` : '';
  io.stdout.write(
    `design docs ${result.target.slice(0, 12)}${dryRun ? ' (dry run)' : ''}: ` +
      `${result.scanned} of ${result.total} databases checked${from}, ${result.updated} ${verb}, ` +
      `${result.unchanged} unchanged, ${result.failed.length} failed\n`,
  );
  if (result.aborted) {
    io.stderr.write('interrupted: run the command again to finish\n');
    return EXIT.interrupted;
  }
  if (result.failed.length) {
    io.stderr.write(
      `${result.failed.length} databases failed: run the command again to retry them\n`,
    );
    return EXIT.failed;
  }
  return EXIT.ok;
}

run(main, import.meta.url);
