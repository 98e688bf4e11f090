/**
 * What every command-line entry point shares: exit codes, arguments, configuration read as
 * the service reads it, the CouchDB connection, progress on stderr, Ctrl-C. Scripts print
 * results on stdout and everything meant for a person watching on stderr.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../server/config.js';
import { createCouch, type Couch, type CouchConnection } from '../server/couch/client.js';
import { scriptCouch } from '../server/couch/connection.js';
import { couchStatus } from '../server/errors.js';

export const EXIT = {
  ok: 0,
  /** The command ran, and some of its work failed. */
  failed: 1,
  /** Bad arguments or configuration: nothing was done. */
  usage: 2,
  /** CouchDB could not be reached: nothing was done. */
  unavailable: 3,
  /** Stopped by Ctrl-C or SIGTERM: run the command again to finish. */
  interrupted: 130,
} as const;

/** An error meant for the person at the terminal: printed without a stack, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** What a command reads and writes: the process's own, or a test's when run in-process. */
export interface CliIo {
  argv: string[];
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** What is piped in (a password); the process's stdin when not given. */
  stdin?: NodeJS.ReadableStream;
  /** Stops the command cleanly; the process's Ctrl-C and SIGTERM when not given. */
  signal?: AbortSignal;
}

/** A command's main function: reads only `io`, returns its exit code. */
export type CliMain = (io: CliIo) => Promise<number>;

/**
 * Runs a command's main function and exits with the code it returns, or with the error's.
 * Given `entry` (the command's `import.meta.url`), only when that is the script node was
 * started with, so tests can import the command and call its `main` in-process (`runMain`).
 */
export function run(main: CliMain, entry?: string): void {
  if (entry && (!process.argv[1] || realpathSync(process.argv[1]) !== fileURLToPath(entry))) return;
  const io = { argv: process.argv.slice(2), env: process.env, ...stdio() };
  void runMain(main, io).then((code) => {
    process.exitCode = code;
  });
}

function stdio() {
  return { stdout: process.stdout, stderr: process.stderr };
}

/**
 * Runs `main` with `io` and returns its exit code; a CliError prints its message, anything
 * else (a bug) its stack, on `io.stderr`.
 */
export async function runMain(main: CliMain, io: CliIo): Promise<number> {
  try {
    return await main(io);
  } catch (err) {
    if (err instanceof CliError) {
      if (err.message) io.stderr.write(`${err.message}\n`);
      return err.exitCode;
    }
    const e = err as { stack?: string; code?: unknown; message?: string };
    // Sawa's own errors (codes SAWA_…) carry a message meant for people; SAWA_INTERNAL is
    // a bug, whose stack helps whoever reports it.
    const ours =
      typeof e?.code === 'string' && e.code.startsWith('SAWA_') && e.code !== 'SAWA_INTERNAL';
    io.stderr.write(`error: ${ours ? e.message : (e?.stack ?? String(err))}\n`);
    return EXIT.failed;
  }
}

/**
 * node:util parseArgs, strict, with `--help` (the usage on stdout, then exit 0); a mistake
 * becomes a usage error.
 */
export function parseCliArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  usage: string,
  options: T,
  args: string[] = process.argv.slice(2),
  stdout: NodeJS.WritableStream = process.stdout,
) {
  if (args.includes('--help') || args.includes('-h')) {
    stdout.write(`${usage}\n`);
    throw new CliError('', EXIT.ok);
  }
  try {
    type Strict = { args: string[]; options: T; strict: true; allowPositionals: false };
    return parseArgs<Strict>({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n${usage}`, EXIT.usage);
  }
}

/** A whole number option within bounds, or a usage error naming it. */
export function intOption(value: string, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new CliError(
      `--${name} must be a whole number from ${min} to ${max} (got ${value})`,
      EXIT.usage,
    );
  }
  return n;
}

/** The service's configuration (server/config.ts), from the environment. */
export function loadCliConfig(env: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
}

/**
 * The CouchDB the service uses, resolved as server/couch/connection.ts does for everyone:
 * COUCHDB_URL, or else the embedded store of a running `npm start` or `npm run store`.
 */
export async function couchConnection(config: Config): Promise<CouchConnection> {
  try {
    return await scriptCouch(config);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
}

/** A connected CouchDB client as server admin, or a CliError saying what is wrong. */
export async function connectCouch(config: Config): Promise<Couch> {
  const couch = createCouch(await couchConnection(config));
  const where = couch.conn.url;
  const notAdmin = new CliError(
    `the credentials given for ${where} are not a CouchDB server admin's (user ${couch.conn.admin.name})`,
    EXIT.usage,
  );
  try {
    await couch.nano.request({ path: '_up' });
    const session = (await couch.nano.request({ path: '_session' })) as {
      userCtx?: { roles?: string[] };
    };
    if (!session.userCtx?.roles?.includes('_admin')) throw notAdmin;
  } catch (err) {
    if (err instanceof CliError) throw err;
    // CouchDB refuses wrong basic-auth credentials on every path, _up included.
    if (couchStatus(err) === 401) throw notAdmin;
    const hint = config.COUCHDB_URL ? '' : ' (is npm start or npm run store running?)';
    const status = couchStatus(err);
    throw new CliError(
      `CouchDB is not reachable at ${where}${status ? ` (HTTP ${status})` : ''}${hint}`,
      EXIT.unavailable,
    );
  }
  return couch;
}

/**
 * An AbortSignal for Ctrl-C and SIGTERM: the first asks the command to stop cleanly (it
 * finishes what it has in hand), the second exits at once.
 */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    process.stderr.write('\nstopping after the work in hand (again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

export interface Progress {
  /** `done` of the total finished; `note` is a short status shown beside the count. */
  update(done: number, note?: string): void;
  /** Prints a line (to stdout by default) without garbling the bar. */
  line(text: string, stream?: NodeJS.WritableStream): void;
  /** Leaves the final state on screen. */
  end(): void;
}

/**
 * Progress on stderr: a redrawn bar at a terminal, or one plain line per tenth of the work
 * when stderr is a file or a pipe (logs, CI), so the output stays readable there too.
 */
export function progress(
  label: string,
  total: number,
  stream: NodeJS.WritableStream = process.stderr,
  stdout: NodeJS.WritableStream = process.stdout,
): Progress {
  const tty = (stream as Partial<NodeJS.WriteStream>).isTTY === true;
  let done = 0;
  let note = '';
  let drawnAt = 0;
  let shown = false;
  let lastTenth = -1;
  const pct = () => (total ? Math.floor((done / total) * 100) : 100);
  const text = () => `${label} ${done}/${total} ${pct()}%${note ? ` ${note}` : ''}`;
  const draw = () => {
    const width = 30;
    const filled = total ? Math.round((done / total) * width) : width;
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const line = `${label} ${bar} ${done}/${total} ${pct()}%${note ? ` ${note}` : ''}`;
    const columns = (stream as Partial<NodeJS.WriteStream>).columns || 80;
    stream.write(`\r\x1b[2K${line.slice(0, columns - 1)}`);
    drawnAt = Date.now();
    shown = true;
  };
  const clear = () => {
    if (shown) stream.write('\r\x1b[2K');
    shown = false;
  };
  return {
    update(n, status) {
      done = n;
      note = status ?? note;
      if (tty) {
        // A redraw costs a terminal write; ten a second is as fast as anyone reads.
        if (done === total || Date.now() - drawnAt >= 100) draw();
        return;
      }
      const tenth = total ? Math.floor((done * 10) / total) : 10;
      if (tenth > lastTenth) {
        lastTenth = tenth;
        stream.write(`${text()}\n`);
      }
    },
    line(line, out = stdout) {
      if (tty) clear();
      out.write(`${line}\n`);
      if (tty) draw();
    },
    end() {
      if (!tty) return;
      draw();
      stream.write('\n');
      shown = false;
    },
  };
}
