/**
 * Backs up every database to a directory of compressed files (docs/backup.md).
 *
 *   npm run backup -- --out DIR [--full] [--concurrency N]
 *
 * The first backup into DIR is full; later ones copy only what changed since the newest set
 * there, unless --full. Prints the new set's summary on stdout, progress on stderr. Exit
 * codes: 0 done, 1 failed (nothing half-written counts: run again), 2 usage or configuration,
 * 3 CouchDB unreachable, 130 interrupted.
 */
import { fleetScope } from '../server/provisioning/names.js';
import { backup } from '../server/backup/backup.js';
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

const USAGE = `usage: npm run backup -- --out DIR [--full] [--encrypt] [--concurrency N]
  --out DIR         the backup directory (created if needed); sets accumulate in it
  --full            a full backup even if DIR already holds one (default: incremental)
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
      concurrency: { type: 'string', default: '4' },
    },
    io.argv,
    io.stdout,
  );
  if (!args.out) throw new CliError(`--out is required\n${USAGE}`, EXIT.usage);
  const concurrency = intOption(args.concurrency, 'concurrency', 1, 64);
  const config = loadCliConfig(io.env);
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
        scope: fleetScope(config.FLEET_NAME_PREFIX),
        concurrency,
        signal,
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
    io.stdout.write(
      `${manifest.kind} backup ${manifest.id}${manifest.parent ? ` (after ${manifest.parent})` : ''}: ` +
        `${dbs.length} databases, ${written} documents written\n`,
    );
    return EXIT.ok;
  } finally {
    await couch.close();
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
