/**
 * `obj[key]` only when `key` is the object's own property. Document ids,
 * database, view, filter and attachment names come from requests: a name
 * such as `constructor` or `toString` must never reach Object.prototype.
 */
export function own<T>(
  obj: Readonly<Record<string, T>> | null | undefined,
  key: string,
): T | undefined {
  return obj != null && Object.hasOwn(obj, key) ? obj[key] : undefined;
}
