// Deep equality of JSON values, for `const`, `enum` and `uniqueItems` on objects and arrays and
// for immutable fields. Unlike fast-deep-equal it never compares constructors, so values from two
// JavaScript realms (a sandbox and its host) still compare by content.
export default function equal(a, b) {
  if (a === b) return true;
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object') return a !== a && b !== b;
  var i;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (i = 0; i < a.length; i++) if (!equal(a[i], b[i])) return false;
    return true;
  }
  var keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (i = 0; i < keys.length; i++) {
    if (!Object.prototype.hasOwnProperty.call(b, keys[i])) return false;
    if (!equal(a[keys[i]], b[keys[i]])) return false;
  }
  return true;
}
