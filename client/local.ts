/**
 * One local database and what the client keeps in it: the pull checkpoint (the server's
 * sequence) and the push checkpoint (the local sequence), as `_local` documents, which never
 * replicate. Pulls and pushes of one database run one at a time (`exclusive`): seeding the
 * push checkpoint from a pull must see the database as the pull left it.
 */
export interface LocalDb {
  /** The server's database name. */
  name: string;
  /** The PouchDB. */
  db: any;
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  getCheckpoint(which: 'pull' | 'push'): Promise<unknown>;
  setCheckpoint(which: 'pull' | 'push', seq: unknown): Promise<void>;
}

export function localDb(name: string, db: any): LocalDb {
  let tail: Promise<unknown> = Promise.resolve();
  const id = (which: string) => `_local/sawa-${which}`;
  return {
    name,
    db,
    exclusive<T>(fn: () => Promise<T>): Promise<T> {
      const run = tail.then(fn, fn);
      tail = run.catch(() => {});
      return run;
    },
    async getCheckpoint(which) {
      try {
        return ((await db.get(id(which))) as { seq: unknown }).seq;
      } catch (err) {
        if ((err as { status?: number }).status === 404) return which === 'pull' ? '0' : 0;
        throw err;
      }
    },
    async setCheckpoint(which, seq) {
      for (;;) {
        let rev: string | undefined;
        try {
          rev = ((await db.get(id(which))) as { _rev: string })._rev;
        } catch (err) {
          if ((err as { status?: number }).status !== 404) throw err;
        }
        try {
          await db.put({ _id: id(which), _rev: rev, seq });
          return;
        } catch (err) {
          if ((err as { status?: number }).status !== 409) throw err;
        }
      }
    },
  };
}

/** Sequences compared by value: numbers on PouchDB's adapters, strings on CouchDB. */
export const sameSeq = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
