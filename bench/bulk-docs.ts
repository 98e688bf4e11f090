import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './spawn-store.js';

/**
 * Issue 8 item 4: one big `_bulk_docs` must cost time linear in its documents and must not
 * keep anyone else waiting. The service runs as `npm start` runs it (the embedded store in the
 * same process), a server admin posts N small documents straight to the store (the gateway
 * caps a request at SYNC_MAX_DOCS_PER_REQUEST), and meanwhile `/health` is asked every 50 ms.
 */

export interface Figure {
  docs: number;
  writeMs: number;
  msPerThousand: number;
  healthMaxMs: number;
  healthP99Ms: number;
  healthProbes: number;
}

const SIZES = (process.env.BENCH_BULK_SIZES ?? '5000,10000,20000').split(',').map(Number);

async function service(dataDir: string) {
  const [port, storePort] = [await freePort(), await freePort()];
  const main = fileURLToPath(new URL('../server/server.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      STORE_PORT: String(storePort),
      DATA_DIR: dataDir,
      COUCHDB_USER: 'admin',
      COUCHDB_PASSWORD: 'bench-admin-password',
      JWT_SECRET: 'bench-jwt-secret-that-is-long-enough-0123456789',
      JOBS_ENABLED: 'none',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 400; i++) {
    if (
      await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    store: `http://127.0.0.1:${storePort}`,
    auth: 'Basic ' + Buffer.from('admin:bench-admin-password').toString('base64'),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Asks `/health` every 50 ms until stopped; each probe's latency. */
function probe(url: string): { stop(): Promise<number[]> } {
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      await fetch(`${url}/health`).then((r) => r.arrayBuffer());
      latencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return latencies;
    },
  };
}

export async function run(): Promise<Figure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sawa-bench-bulk-'));
  const svc = await service(dir);
  const json = { authorization: svc.auth, 'content-type': 'application/json' };
  const figures: Figure[] = [];
  try {
    // The first request warms the process up (JIT, the first database); it is not reported.
    for (const [i, n] of [500, ...SIZES].entries()) {
      const db = `bulk-${i}-${n}`;
      await fetch(`${svc.store}/${db}`, { method: 'PUT', headers: json });
      const docs = Array.from({ length: n }, (_, i) => ({
        _id: `farmer-${i.toString(36).padStart(6, '0')}`,
        type: 'farmer',
        name: `Farmer ${i}`,
        village: 'Mlali',
        phone: '+255712345678',
      }));
      const probes = probe(svc.url);
      const t0 = performance.now();
      const res = await fetch(`${svc.store}/${db}/_bulk_docs`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ docs }),
      });
      await res.arrayBuffer();
      const writeMs = performance.now() - t0;
      const latencies = (await probes.stop()).sort((a, b) => a - b);
      if (res.status !== 201) throw new Error(`_bulk_docs ${n}: ${res.status}`);
      if (i === 0) continue;
      figures.push({
        docs: n,
        writeMs,
        msPerThousand: (writeMs / n) * 1000,
        healthMaxMs: latencies[latencies.length - 1] ?? 0,
        healthP99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
        healthProbes: latencies.length,
      });
    }
  } finally {
    await svc.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
}

export function report(figures: Figure[]): string {
  const rows = figures.map(
    (f) =>
      `| ${f.docs} | ${(f.writeMs / 1000).toFixed(1)} s | ${f.msPerThousand.toFixed(0)} ms | ` +
      `${f.healthMaxMs.toFixed(0)} ms | ${f.healthP99Ms.toFixed(0)} ms | ${f.healthProbes} |`,
  );
  return [
    '| documents | `_bulk_docs` | per 1,000 | `/health` max | p99 | probes |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(report(await run()) + '\n');
}
