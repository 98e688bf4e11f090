import PouchDB, { type Database } from 'pouchdb';
import PouchFind from 'pouchdb-find';

/**
 * The PouchDB constructor the store uses: Node's LevelDB adapter plus pouchdb-find
 * for `_find`/`_index`. Design-document JavaScript is never evaluated by PouchDB
 * here: views, filters and validation go through the sandbox instead.
 */
PouchDB.plugin(PouchFind);

export type Db = Database;

export function openPouch(path: string): Db {
  return new PouchDB(path, { adapter: 'leveldb' });
}

export { PouchDB };
