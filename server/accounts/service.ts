import { createContext, type AccountsContext, type AccountsDeps } from './context.js';
import { toSawaUser } from './records.js';
import { SyncTimes } from './sync-times.js';
import type { AccountsService } from './types.js';

export interface Accounts extends AccountsService {
  ctx: AccountsContext;
}

/**
 * The accounts module as one object: the context the operations share plus the service the
 * rest of Sawa uses. The Fastify plugin and the provision script both build it here.
 */
export function createAccounts(
  deps: AccountsDeps,
  opts: { syncWriteIntervalMs?: number; syncBatchMs?: number } = {},
): Accounts {
  const ctx = createContext(deps);
  const syncTimes = new SyncTimes(
    ctx.users,
    opts.syncWriteIntervalMs ?? 60_000,
    (err, names) => {
      // Kept and tried again at each user's next write.
      deps.log.warn({ err: String(err), users: names.length }, 'could not record sync times');
    },
    opts.syncBatchMs,
  );
  return {
    ctx,
    async getUser(name) {
      const doc = await ctx.users.get(name);
      return doc ? toSawaUser(doc) : null;
    },
    async *listUsers() {
      for await (const doc of ctx.users.scan()) {
        const user = toSawaUser(doc);
        if (user) yield user;
      }
    },
    recordSync: (name, direction) => syncTimes.record(name, direction),
    flushSyncTimes: () => syncTimes.flush(),
    userChanges: ctx.users.cache,
  };
}
