import PouchDB from 'pouchdb';
import MemoryAdapter from 'pouchdb-adapter-memory';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack } from '/work/main/bench/gateway-stack.js';
import { fieldRecords } from '/work/main/bench/gateway-records.js';
PouchDB.plugin(MemoryAdapter);
const dir = await mkdtemp(join(tmpdir(), 'probe-'));
const stack = await startStack(dir, { SYNC_RATE_LIMIT_PER_MIN: '100000' });
try {
  const r = await fetch(`${stack.service}/auth/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'agent-bench', password: 'bench-password-123' }) });
  const auth = await r.json() as any;
  const db = auth.dbs.user;
  const docs = fieldRecords(1000, 'agent-bench');
  const s = await fetch(`${stack.store}/${db}/_bulk_docs`, { method: 'POST', headers: { authorization: stack.adminAuth, 'content-type': 'application/json' }, body: JSON.stringify({ docs }) });
  console.log('seed', s.status);
  const log: any[] = [];
  const remote = new PouchDB(`${stack.service}/sync/${db}`, { skip_setup: true, fetch: async (u: any, o: any = {}) => {
    const h = new Headers(o.headers); h.set('authorization', `Bearer ${auth.access_token}`);
    const res = await PouchDB.fetch(u, { ...o, headers: h });
    const clone = res.clone(); const text = await clone.text();
    log.push({ m: o.method ?? 'GET', u: String(u).replace(stack.service, '').slice(0, 120), reqBody: o.body ? String(o.body).length : 0, status: res.status, resBody: text.length, enc: res.headers.get('content-encoding') });
    return res;
  }});
  const phone = new PouchDB('p1', { adapter: 'memory' });
  await phone.replicate.from(remote);
  for (const l of log.slice(0, 12)) console.log(l);
  console.log(log.length);
  const ex = log.find(l => l.u.includes('_bulk_get') || l.u.includes('_all_docs'));
  console.log(ex);
  console.log('token length', auth.access_token.length);
} finally { await stack.stop(); }
