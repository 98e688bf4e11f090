/**
 * Restores databases from a backup directory, and checks them (docs/backup.md).
 *
 * Encrypted sets are read with BACKUP_ENCRYPTION_KEY from the environment.
 *
 *   npm run restore -- --from DIR [--at SET] [--db NAME]... [--rename FROM:TO]... [--prefix P]
 *                      [--verify] [--verify-only] [--concurrency N]
 *
 * Applies the full set and each incremental set after it, in order, up to the newest (or
 * --at SET). --verify then compares document counts, listing checksums and _security with
 * the live databases; --verify-only compares without restoring. --db (else BACKUP_DATABASES)
 * narrows both to some databases. Exit codes: 0 done (and verified), 1 failed or a mismatch
 * (documents the backup skipped count as one), 2 usage or configuration, 3 CouchDB unreachable,
 * 130 interrupted (run again: writes are idempotent).
 */
import { checkKey, resolveChain, restore } from '../server/backup/restore.js';
import { cliKey, cliPatterns } from './backup.js';
import { describeScope } from '../server/backup/scope.js';
import { verify } from '../server/backup/verify.js';
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
import { DB_NAME } from '../server/util/db-name.js';

const USAGE = `usage: npm run restore -- --from DIR [--at SET] [--db NAME]... [--rename FROM:TO]... [--prefix P] [--verify] [--verify-only] [--concurrency N]
  --from DIR        the backup directory
  --at SET          restore to this set (a directory name in DIR; default the newest complete one)
  --db NAME         only this database, or with a final * every one whose name starts so
                    (repeatable; default BACKUP_DATABASES, else every database of the set)
  --rename FROM:TO  restore database FROM as TO (repeatable), e.g. for a restore drill
  --prefix P        restore every other database under P + its name (drill-userdb-…)
  --verify          after restoring, compare counts, checksums and _security with the live databases
  --verify-only     compare without restoring
  --concurrency N   databases at once, 1 to 64 (default 4)`;

/** The command: reads only `io` (tests call it in-process), returns its exit code. */
export async function main(io: CliIo): Promise<number> {
  const args = parseCliArgs(
    USAGE,
    {
      from: { type: 'string' },
      at: { type: 'string' },
      db: { type: 'string', multiple: true },
      rename: { type: 'string', multiple: true },
      prefix: { type: 'string' },
      verify: { type: 'boolean', default: false },
      'verify-only': { type: 'boolean', default: false },
      concurrency: { type: 'string', default: '4' },
    },
    io.argv,
    io.stdout,
  );
  if (!args.from) throw new CliError(`--from is required\n${USAGE}`, EXIT.usage);
  const concurrency = intOption(args.concurrency, 'concurrency', 1, 64);
  const rename = renaming(args.rename ?? [], args.prefix);
  const chain = await resolveChain(args.from, args.at).catch((err: Error) => {
    throw new CliError(err.message, EXIT.usage);
  });
  const target = chain.at(-1)!;
  const config = loadCliConfig(io.env);
  const only = cliPatterns(args.db, config.BACKUP_DATABASES);
  const key = config.BACKUP_ENCRYPTION_KEY ? cliKey(config.BACKUP_ENCRYPTION_KEY) : undefined;
  // Before anything is written: an encrypted set needs its key (exit 2 when it is missing or wrong).
  try {
    checkKey(chain, key);
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.usage);
  }
  const couch = await connectCouch(config);
  try {
    const signal = io.signal ?? interruptSignal();
    io.stderr.write(`restoring ${chain.map((s) => s.id).join(' → ')}\n`);
    // A set of some databases is never taken for the whole server.
    const scope = target.scope ? describeScope(target.scope) : undefined;
    const covers = `set ${target.id} covers ${scope ?? 'every database (of its fleet)'}`;
    io.stderr.write(`${covers}${only ? `; taking ${only.join(', ')}` : ''}\n`);

    if (!args['verify-only']) {
      let bar: Progress | undefined;
      try {
        const done = await restore({
          nano: couch.nano,
          from: args.from,
          at: target.id,
          only,
          rename,
          concurrency,
          key,
          signal,
          onDatabase: (db, stats, n, total) => {
            bar ??= progress('restoring', total, io.stderr, io.stdout);
            if (stats.existed)
              bar.line(`note: ${stats.into} already existed; restored into it`, io.stderr);
            if (stats.skipped) {
              bar.line(
                `warning: ${db}: ${stats.skipped} documents were not in the backup (skipped when it was made; --verify lists them)`,
                io.stderr,
              );
            }
            bar.update(n, `${db} (${stats.docs} docs)`);
          },
        });
        bar?.end();
        const docs = Object.values(done).reduce((n, s) => n + s.docs, 0);
        io.stdout.write(
          `restored ${Object.keys(done).length} databases, ${docs} documents, from ${target.id}\n`,
        );
      } catch (err) {
        bar?.end();
        if (signal.aborted) return EXIT.interrupted;
        throw err;
      }
    }

    if (args.verify || args['verify-only']) {
      const checks = await verify(couch.nano, target, only, rename);
      const bad = checks.filter((c) => !c.ok);
      for (const c of bad) io.stdout.write(`MISMATCH ${c.db}: ${c.problems.join('; ')}\n`);
      io.stdout.write(
        `verified ${checks.length} databases against ${target.id}: ${bad.length} differ` +
          `${scope && scope !== 'every database' ? ` (the set holds ${scope})` : ''}\n`,
      );
      if (bad.length) return EXIT.failed;
    }
    return EXIT.ok;
  } finally {
    await couch.close();
  }
}

/** The name each database is restored under, from --rename FROM:TO and --prefix. */
function renaming(
  pairs: string[],
  prefix: string | undefined,
): ((db: string) => string) | undefined {
  const names = new Map<string, string>();
  for (const pair of pairs) {
    const [from, to, extra] = pair.split(':');
    if (!from || !to || extra !== undefined || !DB_NAME.test(to)) {
      throw new CliError(
        `--rename wants FROM:TO with a valid database name TO (got ${JSON.stringify(pair)})\n${USAGE}`,
        EXIT.usage,
      );
    }
    names.set(from, to);
  }
  if (prefix !== undefined && !DB_NAME.test(`${prefix}x`)) {
    throw new CliError(
      `--prefix must start a valid database name (got ${JSON.stringify(prefix)})`,
      EXIT.usage,
    );
  }
  if (!names.size && prefix === undefined) return undefined;
  return (db) => names.get(db) ?? (prefix !== undefined ? prefix + db : db);
}

run(main, import.meta.url);
