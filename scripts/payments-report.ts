/**
 * Every payment request the payments worker has claimed, with totals by state.
 *
 *   npm run payments-report                         a table, oldest first
 *   npm run payments-report -- --format json|csv    for programs and spreadsheets
 *   npm run payments-report -- --stuck-after 1h --fail-above 0    from cron: alert on stuck or flagged
 *
 * Read-only. Exit codes: 0 done (and stuck + flagged at or under --fail-above), 1 above it,
 * 2 usage or configuration, 3 CouchDB unreachable. See docs/integrations.md.
 */
import { parseDuration } from '../server/conflicts/duration.js';
import {
  formatPayments,
  paymentsReport,
  type PaymentsFormat,
} from '../server/jobs/integrations/payments/report.js';
import {
  CliError,
  connectCouch,
  EXIT,
  intOption,
  loadCliConfig,
  parseCliArgs,
  run,
  type CliIo,
} from './cli.js';

const USAGE = `usage: npm run payments-report -- [--format table|json|csv] [--stuck-after AGE] [--fail-above N]
  AGE is a whole number and a unit: 90s, 15m, 12h, 3d (default 1h)`;

const FORMATS: readonly PaymentsFormat[] = ['table', 'json', 'csv'];

export async function main(io: CliIo): Promise<number> {
  const args = parseCliArgs(
    USAGE,
    {
      format: { type: 'string', default: 'table' },
      'stuck-after': { type: 'string', default: '1h' },
      'fail-above': { type: 'string' },
    },
    io.argv,
    io.stdout,
  );
  const format = args.format as PaymentsFormat;
  if (!FORMATS.includes(format)) {
    throw new CliError(`--format must be one of ${FORMATS.join(', ')} (got ${format})`, EXIT.usage);
  }
  const stuckAfterMs = parseDuration(args['stuck-after']);
  if (stuckAfterMs === null) {
    throw new CliError(
      `--stuck-after must be like 15m, 1h or 2d (got ${args['stuck-after']})`,
      EXIT.usage,
    );
  }
  const failAbove =
    args['fail-above'] === undefined
      ? undefined
      : intOption(args['fail-above'], 'fail-above', 0, 1e9);
  const config = loadCliConfig(io.env);
  const couch = await connectCouch(config);
  const now = new Date();
  const { rows, summary } = await paymentsReport(couch.nano, {
    jobsDb: config.JOBS_DB,
    now,
    stuckAfterMs,
  });
  const report = { generated_at: now.toISOString(), summary, rows };
  io.stdout.write(`${formatPayments(report, format)}\n`);
  const attention = summary.stuck + summary.flagged;
  if (failAbove !== undefined && attention > failAbove) {
    io.stderr.write(`${attention} payments stuck or flagged, above --fail-above ${failAbove}\n`);
    return EXIT.failed;
  }
  return EXIT.ok;
}

run(main, import.meta.url);
