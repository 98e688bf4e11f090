/**
 * Backs up every database (or those of --db / BACKUP_DATABASES) to a directory of compressed
 * files (docs/backup.md).
 *
 *   npm run backup -- --out DIR [--full] [--db NAME|PREFIX*]... [--concurrency N]
 *
 * The first backup into DIR is full; later ones copy only what changed since the newest set
 * there, unless --full. Prints the new set's summary on stdout, progress on stderr. Exit
 * codes: 0 done, 1 failed (nothing half-written counts: run again) or done with documents
 * it could not read (listed as SKIPPED; the set holds everything else), 2 usage or
 * configuration, 3 CouchDB unreachable, 130 interrupted.
 */
import { backup } from '../server/backup/backup.js';
import { describeScope, parseDatabasePatterns } from '../server/backup/scope.js';
import { parseBackupKey } from '../server/backup/crypto.js';
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
  type Progress,
  type CliIo,
} from './cli.js';

const USAGE = `usage: npm run backup -- --out DIR [--full] [--encrypt] [--db NAME]... [--concurrency N]
  --out DIR         the backup directory (created if needed); sets accumulate in it
  --full            a full backup even if DIR already holds one (default: incremental)
  --db NAME         only this database, or with a final * every one whose name starts so
                    (repeatable; default BACKUP_DATABASES, else every database)
  --encrypt         encrypt the set's files (AES-256-GCM) with BACKUP_ENCRYPTION_KEY from the
                    environment; a set on top of an encrypted one is always encrypted
  --concurrency N   databases at once, 1 to 64 (default 4)`;

/** The command: reads only `io` (tests call it in-process), returns its exit code. */
export async function main(io: CliIo): Promise<number> {
  const args = parseCliArgs(
    USAGE,
    {
      out: { type: 'string' },
      full: { type: 'boolean', default: false },
      encrypt: { type: 'boolean', default: false },
      db: { type: 'string', multiple: true },
      concurrency: { type: 'string', default: '4' },
    },
    io.argv,
    io.stdout,
  );
  if (!args.out) throw new CliError(`--out is required\n${USAGE}`, EXIT.usage);
  const concurrency = intOption(args.concurrency, 'concurrency', 1, 64);
  const config = loadCliConfig(io.env);
  const databases = cliPatterns(args.db, config.BACKUP_DATABASES);
  const key =
    args.encrypt || config.BACKUP_ENCRYPTION_KEY ? cliKey(config.BACKUP_ENCRYPTION_KEY) : undefined;
  const couch = await connectCouch(config);
  try {
    const signal = io.signal ?? interruptSignal();
    let bar: Progress | undefined;
    let manifest;
    try {
      manifest = await backup({
        nano: couch.nano,
        source: couch.conn.url,
        out: args.out,
        full: args.full,
        key,
        encrypt: args.encrypt,
        databases,
        fleetPrefix: config.FLEET_NAME_PREFIX,
        concurrency,
        signal,
        onNote: (note) => io.stderr.write(`note: ${note}\n`),
        onDatabase: (db, entry, done, total) => {
          bar ??= progress('backing up', total, io.stderr, io.stdout);
          bar.update(done, `${db} (${entry.mode}, ${entry.written} docs)`);
        },
      });
    } catch (err) {
      bar?.end();
      if (signal.aborted) {
        io.stderr.write('interrupted: the unfinished set is ignored; run again\n');
        return EXIT.interrupted;
      }
      throw err;
    }
    bar?.end();
    const dbs = Object.values(manifest.databases);
    const written = dbs.reduce((n, e) => n + e.written, 0);
    const scoped = manifest.scope && describeScope(manifest.scope);
    io.stdout.write(
      `${manifest.kind} backup ${manifest.id}${manifest.parent ? ` (after ${manifest.parent})` : ''}: ` +
        `${dbs.length} databases, ${written} documents written` +
        `${scoped && scoped !== 'every database' ? ` (${scoped})` : ''}\n`,
    );
    const skipped = Object.entries(manifest.databases).flatMap(([db, e]) =>
      (e.skipped ?? []).map((s) => ({ db, ...s })),
    );
    if (skipped.length) {
      for (const s of skipped)
        io.stdout.write(`SKIPPED ${s.db} ${JSON.stringify(s.id)}: ${s.reason}\n`);
      io.stderr.write(
        `${skipped.length} documents could not be backed up (listed as SKIPPED, and in the ` +
          `manifest); everything else is in set ${manifest.id}. The next backup tries them again.\n`,
      );
      return EXIT.failed;
    }
    return EXIT.ok;
  } finally {
    await couch.close();
  }
}

/** --db values, else BACKUP_DATABASES, as patterns (scope.ts); undefined: every database. */
export function cliPatterns(flags: string[] | undefined, setting: string | undefined) {
  const given = flags?.length ? flags : setting;
  if (given === undefined) return undefined;
  try {
    return parseDatabasePatterns(given);
  } catch (err) {
    throw new CliError(`--db: ${(err as Error).message}`, EXIT.usage);
  }
}

/** BACKUP_ENCRYPTION_KEY, parsed; a missing or malformed key is a configuration error (exit 2). */
export function cliKey(text: string | undefined) {
  try {
    return parseBackupKey(text);
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.usage);
  }
}

run(main, import.meta.url);
