import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

/** One way to the same checkpoint read: a URL and the headers that authenticate it. */
export interface HopWay {
  name: string;
  url: string;
  headers: Record<string, string>;
}

export interface HopFigure {
  name: string;
  requests: number;
  medianMs: number;
  p90Ms: number;
  /** CPU per request of each process, ms (Linux /proc; NaN elsewhere) */
  cpuMs: { phone: number; store: number; service: number };
}

/** CPU time of a process so far, ms, from /proc (NaN where there is none). */
function cpuOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

function get(agent: Agent, way: HopWay): Promise<void> {
  const u = new URL(way.url);
  return new Promise((resolve, reject) => {
    const r = request(
      { hostname: u.hostname, port: u.port, path: u.pathname, headers: way.headers, agent },
      (res) => res.resume().on('end', resolve),
    );
    r.on('error', reject).end();
  });
}

/**
 * The cost of one request on its own: `n` checkpoint reads one after another on one kept-alive
 * connection, uncompressed, each way; the median and 90th percentile round trip and the CPU
 * each process spent per request. What the gateway adds to every request of a sync.
 */
export async function measureHop(
  ways: HopWay[],
  pids: { store: number; service: number },
  n = 1000,
): Promise<HopFigure[]> {
  const out: HopFigure[] = [];
  for (const way of ways) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 50; i++) await get(agent, way); // warm
    const times: number[] = [];
    const phone0 = process.cpuUsage();
    const store0 = cpuOf(pids.store);
    const service0 = cpuOf(pids.service);
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await get(agent, way);
      times.push(performance.now() - t0);
    }
    const phone = process.cpuUsage(phone0);
    agent.destroy();
    times.sort((a, b) => a - b);
    out.push({
      name: way.name,
      requests: n,
      medianMs: times[n >> 1] as number,
      p90Ms: times[Math.floor(n * 0.9)] as number,
      cpuMs: {
        phone: (phone.user + phone.system) / 1000 / n,
        store: (cpuOf(pids.store) - store0) / n,
        service: (cpuOf(pids.service) - service0) / n,
      },
    });
  }
  return out;
}

export function reportHop(figures: HopFigure[]): string[] {
  const ms = (x: number) => (Number.isNaN(x) ? '—' : x.toFixed(2));
  return [
    '| one checkpoint read | requests | median ms | p90 ms | CPU/request: phone | store | service |',
    '|---|---|---|---|---|---|---|',
    ...figures.map(
      (f) =>
        `| ${f.name} | ${f.requests} | ${ms(f.medianMs)} | ${ms(f.p90Ms)} | ${ms(f.cpuMs.phone)} | ${ms(f.cpuMs.store)} | ${ms(f.cpuMs.service)} |`,
    ),
  ];
}
