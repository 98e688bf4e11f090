import PouchDB from 'pouchdb';
import MemoryAdapter from 'pouchdb-adapter-memory';
import { randomUUID } from 'node:crypto';
import { SawaClient } from '../../client/index.js';
import type { SawaClientOptions, SawaStorage } from '../../client/index.js';

PouchDB.plugin(MemoryAdapter);

/** A phone: the Sawa client over PouchDB on the memory adapter, its own local databases. */
export function phoneClient(url: string, opts: Partial<SawaClientOptions> = {}): SawaClient {
  return new SawaClient({
    url,
    PouchDB: PouchDB as unknown as SawaClientOptions['PouchDB'],
    device: `test-${randomUUID().slice(0, 8)}`,
    localOptions: { adapter: 'memory' },
    localPrefix: `phone-${randomUUID()}-`,
    ...opts,
  });
}

/** Storage that outlives a client, as localStorage outlives a page. */
export function sharedStorage(): SawaStorage & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return {
    values,
    get: (k) => values.get(k) ?? null,
    set: (k, v) => void values.set(k, v),
    remove: (k) => void values.delete(k),
  };
}

let n = 0;
/** A visit the reference rules accept. */
export function visit(owner: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const at = new Date(Date.UTC(2025, 0, 6, 8, n++)).toISOString();
  return {
    _id: `visit-${Date.now().toString(36)}-${n}`,
    type: 'visit',
    owner,
    created_at: at,
    updated_at: at,
    farmer_id: 'farmer-1',
    visited_at: at,
    activity: 'training',
    ...extra,
  };
}
