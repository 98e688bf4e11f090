/**
 * `npm run test:couchdb [-- tap arguments]`: the whole suite (or the files named) against a
 * real Apache CouchDB 3.x that every test file shares at once, instead of an embedded store
 * per file.
 *
 *   COUCHDB_URL           http://ADMIN:PASSWORD@HOST:5984, a server admin's credentials in it
 *   COUCHDB_PROXY_SECRET  that CouchDB's [chttpd_auth] secret (proxy authentication on), which
 *                         the gateway signs its X-Auth-CouchDB-Token headers with
 *
 * Tests give every user, team and database a unique name and keep their jobs' state in
 * databases of their own, so parallel files never meet; tests that need the embedded store's
 * own process (kill -9, restarts, its data directory) are skipped with a reason.
 */
import { spawn } from 'node:child_process';

const USAGE = `usage: COUCHDB_URL=http://ADMIN:PASSWORD@HOST:5984 COUCHDB_PROXY_SECRET=… npm run test:couchdb [-- tap arguments]
  COUCHDB_URL           a CouchDB 3.x, with a server admin's name and password in the URL
  COUCHDB_PROXY_SECRET  its [chttpd_auth] secret; proxy authentication must be enabled`;

async function main(): Promise<number> {
  const url = process.env.COUCHDB_URL;
  const secret = process.env.COUCHDB_PROXY_SECRET;
  if (!url || !secret) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    process.stderr.write(`COUCHDB_URL is not a URL\n${USAGE}\n`);
    return 2;
  }
  const auth = `Basic ${Buffer.from(
    `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`,
  ).toString('base64')}`;
  parsed.username = '';
  parsed.password = '';
  const base = parsed.toString().replace(/\/$/, '');
  const session = await fetch(`${base}/_session`, { headers: { authorization: auth } }).then(
    async (r) => (r.ok ? ((await r.json()) as { userCtx?: { roles?: string[] } }) : null),
    () => null,
  );
  if (!session?.userCtx?.roles?.includes('_admin')) {
    process.stderr.write(
      `${base} is unreachable, or the URL's credentials are not a server admin's\n`,
    );
    return 2;
  }
  const child = spawn('npx', ['tap', ...process.argv.slice(2)], { stdio: 'inherit' });
  return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
}

process.exitCode = await main();
