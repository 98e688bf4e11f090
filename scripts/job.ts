/**
 * One run of a job, now, from the command line: the very code the service schedules, under
 * the same lease, so it is safe while the service runs (if an instance is running the job,
 * this says so and does nothing).
 *
 *   npm run job -- reconcile      run the conflict reconciler once
 *   npm run job -- aggregate      run the aggregator once
 *   npm run job -- --list         the jobs, their schedules, and whether this configuration schedules them
 *
 * Configuration as the service reads it (COUCHDB_URL, or the embedded store's under DATA_DIR).
 * What the run did goes to stdout, one `key: value` per line (`--json` for one JSON object);
 * its log goes to stderr. Exit codes: 0 done, 1 the job failed, 2 usage or configuration,
 * 3 CouchDB unreachable, 75 another process holds the job's lease (try again later),
 * 130 stopped by Ctrl-C (the next run finishes the work).
 */
import pino from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { ConfigError, type Config } from '../server/config.js';
import { jobs } from '../server/jobs/registry.js';
import { createScheduler, planJobs } from '../server/jobs/scheduler.js';
import { loadSyncRules } from '../server/rules/index.js';
import {
  CliError,
  EXIT,
  connectCouch,
  interruptSignal,
  loadCliConfig,
  parseCliArgs,
  run,
} from './cli.js';

/** sysexits EX_TEMPFAIL: someone else is running it; nothing was done. */
const EXIT_BUSY = 75;

const USAGE = `usage: npm run job -- <job> [--json]
       npm run job -- --list
jobs: ${jobs.map((j) => j.name).join(', ')}`;

run(async () => {
  const args = process.argv.slice(2);
  const name = args.find((a) => !a.startsWith('-'));
  const values = parseCliArgs(
    USAGE,
    { list: { type: 'boolean' }, json: { type: 'boolean' } },
    args.filter((a) => a !== name),
  );
  const config = loadCliConfig();
  if (values.list) {
    for (const p of configured(() => planJobs(config, jobs))) {
      process.stdout.write(
        `${p.job.name}\t${p.schedule}\t${p.enabled ? 'scheduled here' : 'not scheduled here (JOBS_ENABLED)'}\n`,
      );
    }
    return EXIT.ok;
  }
  if (!name) throw new CliError(USAGE, EXIT.usage);
  if (!jobs.some((j) => j.name === name))
    throw new CliError(`no job ${name}\n${USAGE}`, EXIT.usage);

  const couch = await connectCouch(config);
  const log = humanLog(config);
  const scheduler = configured(() =>
    createScheduler({ nano: couch.nano, config, rules: loadSyncRules(), log, jobs }),
  );
  const signal = interruptSignal();
  const outcome = await scheduler.run(name, { signal });
  if (!outcome.ran) {
    process.stderr.write(`${name} not run: ${outcome.detail}\n`);
    return EXIT_BUSY;
  }
  if (!outcome.ok) {
    process.stderr.write(`${name} failed after ${outcome.ms} ms: ${outcome.error}\n`);
    return EXIT.failed;
  }
  const result = { ...outcome.result, ms: outcome.ms };
  if (values.json) process.stdout.write(`${JSON.stringify({ job: name, ...result })}\n`);
  else for (const [k, v] of Object.entries(result)) process.stdout.write(`${k}: ${v}\n`);
  return outcome.result.stopped ? EXIT.interrupted : EXIT.ok;
});

/** JOBS_ENABLED and JOB_<NAME>_SCHEDULE are checked here too: a bad one is a usage error. */
function configured<T>(build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
}

/** The job's log on stderr as `level: message key=value…` lines, for a person at a terminal. */
function humanLog(config: Config): FastifyBaseLogger {
  const skip = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'job']);
  const write = (line: string) => {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const level = pino.levels.labels[entry.level as number] ?? 'log';
    const fields = Object.entries(entry)
      .filter(([k]) => !skip.has(k))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    process.stderr.write(
      `${level}: ${entry.msg ?? ''}${fields.length ? ` ${fields.join(' ')}` : ''}\n`,
    );
  };
  return pino({ level: config.LOG_LEVEL }, { write }) as unknown as FastifyBaseLogger;
}
