import { isIP } from 'node:net';

/**
 * TRUST_PROXY as Fastify's `trustProxy`. Off by default: `req.ip` is then the TCP peer and
 * any X-Forwarded-For is ignored, so a client cannot pick the address its login limits are
 * counted under. Set it to the front end's hop count (`1` for one Caddy or nginx) or to the
 * proxy's addresses and CIDRs (`10.0.0.5, 10.1.0.0/16`, or proxy-addr's names `loopback`,
 * `linklocal`, `uniquelocal`); only then does the address come from X-Forwarded-For, read
 * from the right and stopping at the first hop that is not trusted.
 */

const NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Fastify's trustProxy: a hop count becomes a function of the hop (what proxy-addr does too). */
export type TrustProxy = false | string[] | ((address: string, hop: number) => boolean);

/** Why one TRUST_PROXY entry is not acceptable, or null when it is. */
function entryProblem(entry: string): string | null {
  if (NAMES.has(entry)) return null;
  const [ip, prefix, extra] = entry.split('/');
  const family = isIP(ip ?? '');
  if (!family || extra !== undefined) return `"${entry}" is not an IP address or CIDR`;
  if (prefix === undefined) return null;
  const bits = family === 4 ? 32 : 128;
  if (!/^[0-9]{1,3}$/.test(prefix) || Number(prefix) > bits)
    return `"${entry}" has a prefix length that is not 0 to ${bits}`;
  return null;
}

/** Problems with a TRUST_PROXY value, for the configuration check (empty: fine). */
export function trustProxyProblems(value: string | undefined): string[] {
  if (value === undefined || value.trim() === 'false' || /^[0-9]+$/.test(value.trim())) return [];
  if (value.trim() === 'true')
    return ['"true" would trust every peer\'s X-Forwarded-For: give a hop count or addresses'];
  return splitList(value)
    .map(entryProblem)
    .filter((p): p is string => p !== null);
}

export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The `trustProxy` server option for a checked TRUST_PROXY value. */
export function trustProxy(value: string | undefined): TrustProxy {
  if (value === undefined || value.trim() === '' || value.trim() === 'false') return false;
  if (/^[0-9]+$/.test(value.trim())) {
    const hops = Number(value.trim());
    return hops > 0 ? (_address, hop) => hop < hops : false;
  }
  return splitList(value);
}
