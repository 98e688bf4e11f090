import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { proxyAuthHeaders } from '../server/couch/proxy-auth.js';
import { startStack } from './gateway-stack.js';
import { signup } from './gateway.js';
import { measureHop, type HopFigure, type HopWay } from './gateway-hop.js';

/**
 * `npm run bench hop`: the hop alone, without the syncs of `bench gateway` (a minute instead
 * of ten): a fresh stack, one user, `rounds` times 1,000 checkpoint reads each way, the two
 * ways taking turns. What the gateway adds to each request, with its noise in view.
 */
export async function runHop(rounds = 3): Promise<HopFigure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sawa-bench-hop-'));
  const stack = await startStack(dir, { SYNC_RATE_LIMIT_PER_MIN: '1000000', JOBS_ENABLED: 'none' });
  try {
    const user = 'agent-hop';
    const auth = await signup(stack.service, user);
    const asUser = proxyAuthHeaders({ name: user, roles: ['agent'], secret: stack.proxySecret });
    const checkpoint = `${auth.db}/_local/bench-hop`;
    await fetch(`${stack.store}/${checkpoint}`, {
      method: 'PUT',
      headers: { ...asUser, 'content-type': 'application/json' },
      body: '{"last_seq":"0"}',
    });
    const ways: HopWay[] = [
      { name: 'direct', url: `${stack.store}/${checkpoint}`, headers: asUser },
      {
        name: 'gateway',
        url: `${stack.service}/sync/${checkpoint}`,
        headers: { authorization: `Bearer ${auth.token}`, 'accept-encoding': 'identity' },
      },
    ];
    const out: HopFigure[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const f of await measureHop(ways, stack.pids))
        out.push({ ...f, name: `${f.name}, round ${i + 1}` });
    }
    return out;
  } finally {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
