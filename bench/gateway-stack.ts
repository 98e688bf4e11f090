import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './spawn-store.js';

/**
 * The embedded store and the Sawa service, each in its own process as in production, so the
 * phone under test (this process), the gateway and the store never share an event loop.
 */
export interface Stack {
  store: string;
  service: string;
  adminAuth: string;
  proxySecret: string;
  pids: { store: number; service: number };
  stop(): Promise<void>;
}

/** `flags`: the environment variable with Node flags for this process (e.g. `--cpu-prof`). */
function start(file: string, flags: string, env: Record<string, string>): ChildProcess {
  const main = fileURLToPath(new URL(file, import.meta.url));
  const extra = (process.env[flags] ?? '').split(' ').filter(Boolean);
  return spawn(process.execPath, [...extra, '--import', 'tsx', main], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (child.exitCode !== null) throw new Error(`${url}: process exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up`);
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function startStack(dir: string, env: Record<string, string> = {}): Promise<Stack> {
  const password = 'bench-admin-password';
  const proxySecret = randomBytes(24).toString('hex');
  const storePort = await freePort();
  const servicePort = await freePort();
  const storeUrl = `http://127.0.0.1:${storePort}`;
  const store = start('../server/store/main.ts', 'BENCH_STORE_NODE_ARGS', {
    STORE_PORT: String(storePort),
    STORE_HOST: '127.0.0.1',
    DATA_DIR: join(dir, 'store'),
    COUCHDB_USER: 'admin',
    COUCHDB_PASSWORD: password,
    COUCHDB_PROXY_SECRET: proxySecret,
  });
  await waitFor(`${storeUrl}/_up`, store);
  const service = start('../server/server.ts', 'BENCH_SERVICE_NODE_ARGS', {
    PORT: String(servicePort),
    HOST: '127.0.0.1',
    DATA_DIR: join(dir, 'service'),
    COUCHDB_URL: storeUrl,
    COUCHDB_USER: 'admin',
    COUCHDB_PASSWORD: password,
    COUCHDB_PROXY_SECRET: proxySecret,
    JWT_SECRET: randomBytes(32).toString('hex'),
    ...env,
  });
  const serviceUrl = `http://127.0.0.1:${servicePort}`;
  await waitFor(`${serviceUrl}/ready`, service);
  return {
    store: storeUrl,
    service: serviceUrl,
    adminAuth: 'Basic ' + Buffer.from(`admin:${password}`).toString('base64'),
    proxySecret,
    pids: { store: store.pid as number, service: service.pid as number },
    stop: async () => {
      await stop(service);
      await stop(store);
    },
  };
}
