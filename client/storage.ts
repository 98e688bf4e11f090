import type { SawaStorage } from './types.js';

/** The default storage: a session that lasts as long as the client object. */
export function memoryStorage(): SawaStorage {
  const values = new Map<string, string>();
  return {
    get: (key) => values.get(key) ?? null,
    set: (key, value) => void values.set(key, value),
    remove: (key) => void values.delete(key),
  };
}
