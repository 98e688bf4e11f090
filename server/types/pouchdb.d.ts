// PouchDB's own packages ship no types, and @types/pouchdb merges a global
// `Buffer` interface that breaks Node's. These declarations cover what Sawa uses.
declare module 'pouchdb' {
  export interface ChangesFeed extends PromiseLike<any> {
    on(event: 'change', cb: (change: any) => void): ChangesFeed;
    on(
      event: 'complete' | 'error' | 'paused' | 'active' | 'denied',
      cb: (info: any) => void,
    ): ChangesFeed;
    cancel(): void;
  }
  export interface ReplicationEmitter extends PromiseLike<any> {
    on(event: string, cb: (info: any) => void): ReplicationEmitter;
    cancel(): void;
  }
  export interface Database {
    readonly name: string;
    info(): Promise<{
      doc_count: number;
      update_seq: number | string;
      db_name: string;
      [k: string]: unknown;
    }>;
    get(id: string, opts?: Record<string, unknown>): Promise<any>;
    put(
      doc: Record<string, unknown>,
      opts?: Record<string, unknown>,
    ): Promise<{ ok: boolean; id: string; rev: string }>;
    post(doc: Record<string, unknown>): Promise<{ ok: boolean; id: string; rev: string }>;
    remove(id: string, rev: string): Promise<{ ok: boolean; id: string; rev: string }>;
    remove(doc: Record<string, unknown>): Promise<{ ok: boolean; id: string; rev: string }>;
    bulkDocs(docs: unknown[], opts?: Record<string, unknown>): Promise<any[]>;
    allDocs(
      opts?: Record<string, unknown>,
    ): Promise<{ total_rows: number; offset?: number; rows: any[]; [k: string]: unknown }>;
    bulkGet(
      opts: Record<string, unknown>,
    ): Promise<{ results: Array<{ id: string; docs: any[] }> }>;
    revsDiff(
      diff: Record<string, string[]>,
    ): Promise<Record<string, { missing: string[]; possible_ancestors?: string[] }>>;
    changes(
      opts?: Record<string, unknown>,
    ): ChangesFeed & Promise<{ results: any[]; last_seq: number | string }>;
    getAttachment(docId: string, attId: string, opts?: Record<string, unknown>): Promise<any>;
    putAttachment(
      docId: string,
      attId: string,
      rev: string,
      data: unknown,
      type: string,
    ): Promise<any>;
    compact(opts?: Record<string, unknown>): Promise<any>;
    viewCleanup(): Promise<any>;
    query(fun: string, opts?: Record<string, unknown>): Promise<any>;
    find(req: Record<string, unknown>): Promise<any>;
    createIndex(req: Record<string, unknown>): Promise<any>;
    getIndexes(): Promise<any>;
    deleteIndex(req: Record<string, unknown>): Promise<any>;
    close(): Promise<void>;
    destroy(): Promise<void>;
    replicate: {
      to(
        target: Database | string,
        opts?: Record<string, unknown>,
      ): ReplicationEmitter & Promise<any>;
      from(
        source: Database | string,
        opts?: Record<string, unknown>,
      ): ReplicationEmitter & Promise<any>;
    };
    sync(
      other: Database | string,
      opts?: Record<string, unknown>,
    ): ReplicationEmitter & Promise<any>;
  }
  interface PouchDBConstructor {
    new (name: string, opts?: Record<string, unknown>): Database;
    plugin(plugin: unknown): PouchDBConstructor;
    fetch(url: string | Request, opts?: RequestInit): Promise<Response>;
    defaults(opts: Record<string, unknown>): PouchDBConstructor;
  }
  const PouchDB: PouchDBConstructor;
  export default PouchDB;
}

declare module 'pouchdb-find' {
  const plugin: unknown;
  export default plugin;
}

declare module 'pouchdb-adapter-memory' {
  const plugin: unknown;
  export default plugin;
}
