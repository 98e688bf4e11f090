import PouchDB, { type Database } from 'pouchdb';
import MemoryAdapter from 'pouchdb-adapter-memory';
import { randomUUID } from 'node:crypto';

PouchDB.plugin(MemoryAdapter);

export type Phone = Database;

/** A phone: a stock PouchDB on the memory adapter, as a mobile app would run it. */
export function phone(): Phone {
  return new PouchDB(`phone-${randomUUID()}`, { adapter: 'memory' });
}

/** A stock PouchDB HTTP client for a remote database, with headers added to every request. */
export function remote(url: string, headers: () => Record<string, string>): Phone {
  return new PouchDB(url, {
    skip_setup: true,
    fetch: (u: string | Request, o: RequestInit = {}) => {
      const h = new Headers(o.headers);
      for (const [k, v] of Object.entries(headers())) h.set(k, v);
      return PouchDB.fetch(u, { ...o, headers: h });
    },
  });
}
