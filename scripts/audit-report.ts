/**
 * The audit log (AUDIT_DB), filtered, for an inspection or a data subject's question.
 *
 *   npm run audit-report                                   a table, newest first
 *   npm run audit-report -- --format json|csv              for programs and spreadsheets
 *   npm run audit-report -- --actor boss --subject amina --action export --since 2026-01-01
 *
 * Read-only. Exit codes: 0 done, 2 usage or configuration, 3 CouchDB unreachable.
 * See docs/data-protection.md.
 */
import { createAuditLog, type AuditFilter, type StoredEntry } from '../server/audit/audit.js';
import {
  CliError,
  EXIT,
  connectCouch,
  intOption,
  loadCliConfig,
  parseCliArgs,
  run,
  type CliIo,
} from './cli.js';

const USAGE = `usage: npm run audit-report -- [--format table|json|csv] [--actor NAME] [--subject NAME]
         [--action ACTION] [--since TIME] [--until TIME] [--limit N]
  TIME is an ISO date or date-time (UTC): 2026-01-31 or 2026-01-31T12:00:00Z`;

const FORMATS = ['table', 'json', 'csv'] as const;
type Format = (typeof FORMATS)[number];
const COLUMNS = ['at', 'actor', 'action', 'subject', 'method', 'route', 'status', 'reason', 'ip'];

function isoOption(value: string | undefined, name: string, endOfDay: boolean) {
  if (value === undefined) return undefined;
  const t = Date.parse(/^\d{4}-\d\d-\d\d$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(t))
    throw new CliError(`--${name} must be an ISO date or time (got ${value})`, EXIT.usage);
  const day = /^\d{4}-\d\d-\d\d$/.test(value) && endOfDay ? 86_400_000 - 1 : 0;
  return new Date(t + day).toISOString();
}

const cell = (e: StoredEntry, c: string) => {
  const v = (e as unknown as Record<string, unknown>)[c];
  return v === undefined || v === null ? '' : String(v);
};

const csvCell = (s: string) =>
  /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;

export function formatAudit(entries: StoredEntry[], format: Format): string {
  if (format === 'json') return `${JSON.stringify({ entries }, null, 2)}\n`;
  if (format === 'csv') {
    const lines = [
      COLUMNS.join(','),
      ...entries.map((e) => COLUMNS.map((c) => csvCell(cell(e, c))).join(',')),
    ];
    return `${lines.join('\n')}\n`;
  }
  const rows = [COLUMNS, ...entries.map((e) => COLUMNS.map((c) => cell(e, c)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const text = rows.map((r) =>
    r
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  return `${text.join('\n')}\n${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}\n`;
}

export async function main(io: CliIo): Promise<number> {
  const values = parseCliArgs(
    USAGE,
    {
      format: { type: 'string', default: 'table' },
      actor: { type: 'string' },
      subject: { type: 'string' },
      action: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      limit: { type: 'string', default: '10000' },
    },
    io.argv,
    io.stdout,
  );
  const format = values.format as Format;
  if (!FORMATS.includes(format)) {
    throw new CliError(
      `--format must be one of ${FORMATS.join(', ')} (got ${values.format})`,
      EXIT.usage,
    );
  }
  const limit = intOption(values.limit as string, 'limit', 1, 1_000_000);
  const filter: AuditFilter = {
    actor: values.actor,
    subject: values.subject,
    action: values.action,
    since: isoOption(values.since, 'since', false),
    until: isoOption(values.until, 'until', true),
  };
  const config = loadCliConfig(io.env);
  const couch = await connectCouch(config);
  try {
    const log = createAuditLog(couch.nano, config.AUDIT_DB);
    const entries: StoredEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await log.list(filter, Math.min(500, limit - entries.length), cursor);
      entries.push(...page.entries);
      cursor = page.next_cursor ?? undefined;
    } while (cursor && entries.length < limit);
    io.stdout.write(formatAudit(entries, format));
    return EXIT.ok;
  } finally {
    await couch.close();
  }
}

run(main, import.meta.url);
