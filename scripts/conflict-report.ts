/**
 * Every unresolved conflict across the user and team databases, with a summary.
 *
 *   npm run conflict-report                              a table, oldest first
 *   npm run conflict-report -- --format json|csv         for programs and spreadsheets
 *   npm run conflict-report -- --user amina --type farmer --older-than 3d
 *   npm run conflict-report -- --older-than 1d --fail-above 0    from cron: alert on any day-old conflict
 *
 * Read-only: safe at any time. Progress goes to stderr, the report to stdout. Exit codes: 0
 * done (and at or under --fail-above), 1 above --fail-above or some databases could not be
 * read, 2 usage or configuration, 3 CouchDB unreachable. See docs/conflicts.md.
 */
import { conflictReport } from '../server/conflicts/report.js';
import { fleetDbs } from '../server/provisioning/fleet-dbs.js';
import { formatReport, type ReportFormat } from '../server/conflicts/format.js';
import { parseDuration } from '../server/conflicts/duration.js';
import { loadSyncRules } from '../server/rules/index.js';
import {
  CliError,
  EXIT,
  connectCouch,
  intOption,
  loadCliConfig,
  parseCliArgs,
  progress,
  run,
  type CliIo,
  type Progress,
} from './cli.js';

const USAGE = `usage: npm run conflict-report -- [--format table|json|csv] [--user NAME] [--type TYPE]
         [--older-than AGE] [--fail-above N] [--concurrency N]
  AGE is a whole number and a unit: 90s, 15m, 12h, 3d, 2w`;

const FORMATS: readonly ReportFormat[] = ['table', 'json', 'csv'];

/** The command: reads only `io` (tests call it in-process), returns its exit code. */
export async function main(io: CliIo): Promise<number> {
  const values = parseCliArgs(
    USAGE,
    {
      format: { type: 'string', default: 'table' },
      user: { type: 'string' },
      type: { type: 'string' },
      'older-than': { type: 'string' },
      'fail-above': { type: 'string' },
      concurrency: { type: 'string', default: '8' },
    },
    io.argv,
    io.stdout,
  );
  const format = values.format as ReportFormat;
  if (!FORMATS.includes(format)) {
    throw new CliError(
      `--format must be one of ${FORMATS.join(', ')} (got ${values.format})`,
      EXIT.usage,
    );
  }
  const olderThan = values['older-than'];
  const olderThanMs = olderThan === undefined ? undefined : parseDuration(olderThan);
  if (olderThanMs === null) {
    throw new CliError(
      `--older-than must be a number and a unit, like 90s, 15m, 12h, 3d or 2w (got ${olderThan})`,
      EXIT.usage,
    );
  }
  const failAbove =
    values['fail-above'] === undefined
      ? undefined
      : intOption(values['fail-above'], 'fail-above', 0, 1e9);
  const concurrency = intOption(values.concurrency as string, 'concurrency', 1, 64);

  const config = loadCliConfig(io.env);
  const rules = loadSyncRules();
  const couch = await connectCouch(config);
  let bar: Progress | undefined;
  const now = new Date();
  const { rows, summary } = await conflictReport(couch.nano, rules, {
    fleet: fleetDbs(config),
    user: values.user,
    type: values.type,
    olderThanSeconds: olderThanMs === undefined ? undefined : olderThanMs / 1000,
    concurrency,
    now,
    progress: ({ done, total, found }) => {
      bar ??= progress('databases', total, io.stderr, io.stdout);
      bar.update(done, `${found} conflict${found === 1 ? '' : 's'}`);
    },
  }).finally(() => couch.close());
  bar?.end();

  const filters: Record<string, string> = {};
  if (values.user !== undefined) filters.user = values.user;
  if (values.type !== undefined) filters.type = values.type;
  if (olderThan !== undefined) filters['older than'] = olderThan;
  const report = { generated_at: now.toISOString(), filters, summary, conflicts: rows };
  io.stdout.write(`${formatReport(report, format).replace(/\n$/, '')}\n`);

  let code: number = EXIT.ok;
  if (summary.failed.length) {
    io.stderr.write(
      `${summary.failed.length} database(s) could not be read: the report is incomplete\n`,
    );
    code = EXIT.failed;
  }
  if (failAbove !== undefined && rows.length > failAbove) {
    io.stderr.write(`${rows.length} conflicts, above --fail-above ${failAbove}\n`);
    code = EXIT.failed;
  }
  return code;
}

run(main, import.meta.url);
