import { canonicalJson } from './verify-json.js';

/**
 * Two `_security` objects compared by what they grant: within `admins` and `members`, the
 * order of names and roles does not matter and an empty list is the same as none (CouchDB's
 * `_users` answers `{"members":{"roles":["_admin"]}, …}`, the embedded store adds empty
 * `names`); anything else in them must be equal.
 */
export function sameSecurityMeaning(a: unknown, b: unknown): boolean {
  return canonicalJson(meaning(a)) === canonicalJson(meaning(b));
}

function meaning(sec: unknown): unknown {
  if (!sec || typeof sec !== 'object' || Array.isArray(sec)) return sec ?? {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(sec as Record<string, unknown>)) {
    const v = key === 'admins' || key === 'members' ? principals(value) : value;
    if (v !== undefined) out[key] = v;
  }
  return out;
}

function principals(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, list] of Object.entries(value as Record<string, unknown>)) {
    if (Array.isArray(list)) {
      if (list.length) out[key] = [...new Set(list.map(String))].sort();
    } else out[key] = list;
  }
  return Object.keys(out).length ? out : undefined;
}
