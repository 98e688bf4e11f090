import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { storeEntry } from './store-build.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface StoreProcess {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  exited: Promise<number | string | null>;
  /** SIGTERM (a clean stop) or SIGKILL (a crash), then waits for the end. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** The last 4,000 characters the store wrote to stderr (its warnings and errors). */
  output(): string;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * `npm run store` as a child process (its entry point compiled once, see store-build.ts),
 * on a free loopback port, resolved once it answers `GET /_up`. Used where
 * the store must be a process of its own: crash tests, and every store test
 * (the test process then does not load the store's sources at all).
 */
export async function spawnStore(env: Record<string, string>): Promise<StoreProcess> {
  const port = env.STORE_PORT ?? String(await freePort());
  const child = spawn(process.execPath, [await storeEntry()], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'test',
      ...env,
      STORE_PORT: port,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  live.add(child);
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? signal);
    }),
  );
  let output = '';
  child.stderr!.on('data', (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  let ended = false;
  void exited.then(() => (ended = true));
  for (const started = Date.now(); ;) {
    if (ended) throw new Error(`the store exited before answering:\n${output}`);
    if (Date.now() - started > 60_000)
      throw new Error(`the store did not answer in 60 s:\n${output}`);
    const up = await fetch(`${url}/_up`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    child,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    output: () => output,
  };
}

export interface FreshStore {
  proc: StoreProcess;
  dataDir: string;
  proxySecret: string;
  /** Stops the store and deletes its data directory. */
  remove(): Promise<void>;
}

/**
 * A store process on a new data directory (`prefix` under the temp folder), with `admin` as
 * its server admin, a new proxy secret, and `env` besides.
 */
export async function spawnFreshStore(
  prefix: string,
  admin: { name: string; password: string },
  env: Record<string, string> = {},
): Promise<FreshStore> {
  const dataDir = await mkdtemp(join(tmpdir(), prefix));
  const proxySecret = randomBytes(24).toString('base64url');
  const proc = await spawnStore({
    DATA_DIR: dataDir,
    COUCHDB_USER: admin.name,
    COUCHDB_PASSWORD: admin.password,
    COUCHDB_PROXY_SECRET: proxySecret,
    ...env,
  }).catch(async (err: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  });
  return {
    proc,
    dataDir,
    proxySecret,
    async remove() {
      await proc.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A loopback port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
