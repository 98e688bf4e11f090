import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface SpawnedStore {
  url: string;
  auth: string;
  pid: number;
  stop(): Promise<void>;
}

/** A port nothing listens on now, for a server started in another process. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The embedded store in its own process, as `npm run store` runs it, so a
 * benchmark's client and server do not share one event loop (they would not in
 * the field: the phone is another machine).
 */
export async function spawnStore(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<SpawnedStore> {
  const port = await freePort();
  const password = 'bench-admin-password';
  const main = fileURLToPath(new URL('../server/store/main.ts', import.meta.url));
  const extra = (process.env.BENCH_STORE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...extra, '--import', 'tsx', main], {
    env: {
      ...process.env,
      STORE_PORT: String(port),
      STORE_HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      COUCHDB_USER: 'admin',
      COUCHDB_PASSWORD: password,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  let up = false;
  // Up to 30 s: a loaded machine starts the store slowly, and a benchmark run against a store
  // that never came up would only report connection errors.
  for (let i = 0; i < 600 && !up; i++) {
    up = await fetch(`${url}/_up`).then(
      (r) => r.ok,
      () => false,
    );
    if (child.exitCode !== null) throw new Error(`store exited with ${child.exitCode}`);
    if (!up) await new Promise((r) => setTimeout(r, 50));
  }
  if (!up) {
    child.kill('SIGKILL');
    throw new Error(`store did not answer ${url}/_up within 30 s`);
  }
  return {
    url,
    auth: 'Basic ' + Buffer.from(`admin:${password}`).toString('base64'),
    pid: child.pid as number,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
