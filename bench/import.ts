import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Nano from 'nano';
import { loadConfig } from '../server/config.js';
import { createAccounts } from '../server/accounts/service.js';
import { importUsers } from '../server/accounts/import-users.js';
import { DEFAULT_SCRYPT_COST } from '../server/accounts/passwords.js';
import { buildDesignDocs, loadSyncRules } from '../server/rules/index.js';
import { spawnStore } from './spawn-store.js';

/**
 * Bulk onboarding: 1,000 agents in 20 teams imported with the code behind
 * POST /admin/users/import and `npm run users -- import`, at production cost: a scrypt hash
 * (N=2^15) and a provisioned database (security, design docs) per agent. BENCH_IMPORT_AGENTS
 * runs a smaller batch.
 */

export interface Figures {
  agents: number;
  concurrency: number;
  ms: number;
  perAgentMs: number;
  created: number;
  failed: number;
}

export async function run(): Promise<Figures> {
  const agents = Number(process.env.BENCH_IMPORT_AGENTS ?? 1000);
  const concurrency = Number(process.env.BENCH_IMPORT_CONCURRENCY ?? 4);
  const dir = await mkdtemp(join(tmpdir(), 'sawa-bench-import-'));
  const store = await spawnStore(join(dir, 'store'));
  try {
    const url = new URL(store.url);
    url.username = 'admin';
    url.password = 'bench-admin-password';
    const silent = { warn: () => {}, error: () => {} };
    const { ctx } = createAccounts({
      nano: Nano(url.toString()),
      config: loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) }),
      ddocs: buildDesignDocs(loadSyncRules()),
      scrypt: DEFAULT_SCRYPT_COST,
      log: silent,
    });
    const rows = Array.from({ length: agents }, (_, i) => ({
      name: `Agent ${i}`,
      phone: `+2557${String(10_000_000 + i).padStart(8, '0')}`,
      teams: `team-${i % 20}`,
    }));
    const t0 = performance.now();
    const summary = await importUsers(ctx, rows, { concurrency });
    const ms = performance.now() - t0;
    return {
      agents,
      concurrency,
      ms: Math.round(ms),
      perAgentMs: Math.round(ms / agents),
      created: summary.created,
      failed: summary.failed,
    };
  } finally {
    await store.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export function report(f: Figures): string {
  return [
    '| agents | concurrency | created | failed | total | per agent |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${f.agents} | ${f.concurrency} | ${f.created} | ${f.failed} | ${(f.ms / 1000).toFixed(1)} s | ${f.perAgentMs} ms |`,
  ].join('\n');
}
