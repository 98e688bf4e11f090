/**
 * Which user names Sawa accepts. A name becomes the CouchDB user name (through proxy
 * authentication), the `owner` of documents and, hex-encoded, the user's database name, so
 * it must be unambiguous: names are refused, never normalised. Two names that look alike
 * (`admin` and fullwidth `ａdmin`, `e` and `e` + combining accent) can never both exist,
 * because only ASCII is allowed at all.
 *
 * The rules:
 *   - 1 to 64 characters;
 *   - lower-case letters a-z, digits 0-9 and `_ . - +`;
 *   - starting with a letter, or else an E.164 phone number: `+`, then 7 to 15 digits,
 *     the first not 0 (`+255712345678`);
 *   - no `..` (nothing that reads like a path);
 *   - public signup also refuses a few names people would take for staff (RESERVED).
 * CouchDB's own reservations (names starting with `_`, such as `_admin`) fall out of these.
 */

export const USERNAME_RULES =
  'lower-case letters a-z, digits and _ . - +, starting with a letter, or an E.164 phone number (+255712345678); 1 to 64 characters';

export const USERNAME_MAX = 64;

/** Names only an admin (or the provision script) may give out. */
export const RESERVED = new Set([
  'admin',
  'administrator',
  'root',
  'sawa',
  'system',
  'support',
  'couchdb',
]);

const E164 = /^\+[1-9][0-9]{6,14}$/;
const ALLOWED = /^[a-z0-9_.+-]$/;

function describe(ch: string): string {
  const cp = ch.codePointAt(0) as number;
  const hex = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
  return `${JSON.stringify(ch)} (${hex})`;
}

/** What is wrong with `name` as a user name, in words for the client, or null when it is valid. */
export function usernameProblem(
  name: string,
  opts: { allowReserved?: boolean } = {},
): string | null {
  if (name.length === 0) return 'username must not be empty';
  if ([...name].length > USERNAME_MAX) return `username must be at most ${USERNAME_MAX} characters`;
  if (/[A-Z]/.test(name)) {
    const lower = name.toLowerCase();
    const hint = usernameProblem(lower, opts) === null ? `: use ${JSON.stringify(lower)}` : '';
    return `usernames are lower-case (upper-case letters are refused, not converted)${hint}`;
  }
  for (const ch of name) {
    if (!ALLOWED.test(ch)) {
      return `username must use only ${USERNAME_RULES}; ${describe(ch)} is not allowed`;
    }
  }
  if (name.startsWith('+')) {
    return E164.test(name)
      ? null
      : 'a username starting with + must be an E.164 phone number: + and 7 to 15 digits, e.g. +255712345678';
  }
  if (!/^[a-z]/.test(name)) {
    return 'username must start with a letter a-z (or be an E.164 phone number such as +255712345678)';
  }
  if (name.includes('..')) return 'username must not contain ".."';
  if (!opts.allowReserved && RESERVED.has(name)) {
    return `username ${JSON.stringify(name)} is reserved: choose another`;
  }
  return null;
}
