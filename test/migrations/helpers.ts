import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Nano from 'nano';
import type { Test } from 'tap';
import { createCouch } from '../../server/couch/client.js';
import { ensureDb, ensureDesignDocs } from '../../server/provisioning/steps.js';
import { buildDesignDocs, type DesignDoc, type DesignDocSet } from '../../server/rules/index.js';
import { syncRules } from '../../sync-rules/index.js';
import type { TestCouch } from '../helpers/store.js';

/** The build as it stands (new) and as it stood before a rule change (old). */
export function designDocBuilds(): { old: DesignDocSet; current: DesignDocSet } {
  // The change: SMS texts used to be allowed up to 320 characters; now one SMS, 160.
  const before = syncRules.map((r) =>
    r.type === 'sms_request'
      ? {
          ...r,
          schema: {
            ...r.schema,
            properties: {
              ...(r.schema.properties as object),
              text: { type: 'string', minLength: 1, maxLength: 320 },
            },
          },
        }
      : r,
  );
  const old = buildDesignDocs(before);
  const current = buildDesignDocs(syncRules);
  if (old.private[0]?.version === current.private[0]?.version) throw new Error('no change');
  return { old, current };
}

export function adminNano(couch: TestCouch): Nano.ServerScope {
  return createCouch({ url: couch.url, admin: couch.admin, proxySecret: couch.proxySecret }).nano;
}

/** Creates each database with the given design documents, a few at a time. */
export async function seed(
  nano: Nano.ServerScope,
  dbs: readonly string[],
  ddocs: readonly DesignDoc[],
): Promise<void> {
  for (let i = 0; i < dbs.length; i += 10) {
    await Promise.all(
      dbs.slice(i, i + 10).map(async (db) => {
        await ensureDb(nano, db);
        await ensureDesignDocs(nano, db, ddocs);
      }),
    );
  }
}

export interface DbSnapshot {
  updateSeq: string;
  /** Design document id → { rev, version }. */
  ddocs: Record<string, { rev: string; version: unknown }>;
}

/** The database's update sequence and every design document's rev and version. */
export async function snapshot(nano: Nano.ServerScope, db: string): Promise<DbSnapshot> {
  const info = (await nano.request({ db })) as { update_seq: unknown };
  const res = (await nano.request({
    db,
    path: '_all_docs',
    qs: { startkey: '_design/', endkey: '_design0', include_docs: true },
  })) as { rows: Array<{ id: string; doc: { _rev: string; version?: unknown } }> };
  const ddocs = Object.fromEntries(
    res.rows.map((r) => [r.id, { rev: r.doc._rev, version: r.doc.version }]),
  );
  return { updateSeq: String(info.update_seq), ddocs };
}

export async function snapshots(
  nano: Nano.ServerScope,
  dbs: readonly string[],
): Promise<Record<string, DbSnapshot>> {
  return Object.fromEntries(
    await Promise.all(dbs.map(async (db) => [db, await snapshot(nano, db)])),
  );
}

export const userDbs = (prefix: string, n: number) =>
  Array.from(
    { length: n },
    (_, i) => `userdb-${Buffer.from(`${prefix}${String(i).padStart(3, '0')}`).toString('hex')}`,
  );

export interface FaultProxy {
  /** Base URL (no credentials) to give nano or the CLI instead of the store's. */
  url: string;
  /** Requests answered by the proxy itself, as `METHOD /path`. */
  refused: string[];
}

/**
 * A real HTTP hop in front of the store that passes every request through, except those
 * `fault` answers itself (a CouchDB-shaped refusal, say) or holds until a promise settles.
 */
export async function faultProxy(
  t: Test,
  target: string,
  fault: (req: IncomingMessage) => { status: number; body: object } | Promise<void> | null,
): Promise<FaultProxy> {
  const refused: string[] = [];
  const upstream = new URL(target);
  const pass = (req: IncomingMessage, res: ServerResponse) => {
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  };
  const server = createServer((req, res) => {
    const answer = fault(req);
    if (answer instanceof Promise) {
      void answer.then(() => pass(req, res));
      return;
    }
    if (answer) {
      refused.push(`${req.method} ${req.url}`);
      req.resume();
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
      return;
    }
    pass(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, refused };
}
