import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Invitation codes: 16 characters of Crockford's base32 (80 random bits) shown in groups of
 * four, `K7QX-M3PA-9TZC-W2HD`, to be read out or typed on a phone. Only their SHA-256 is
 * stored; the first 16 hex digits of it are the invitation's public id (what admins list
 * and revoke), so a code finds its record without a search and the id gives the code away
 * to nobody.
 */

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const LENGTH = 16;

export function newInviteCode(): string {
  const bytes = randomBytes(LENGTH);
  const chars = [...bytes].map((b) => ALPHABET[b & 31]);
  return [0, 4, 8, 12].map((i) => chars.slice(i, i + 4).join('')).join('-');
}

/** The code as typed, made canonical: case, dashes, spaces, and the letters people mistake for digits. */
export function normalizeInviteCode(input: string): string | null {
  const s = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return s.length === LENGTH && [...s].every((c) => ALPHABET.includes(c)) ? s : null;
}

export function inviteHash(normalized: string): string {
  return createHash('sha256').update(normalized).digest('hex');
}

export const inviteIdOf = (hash: string): string => hash.slice(0, 16);

export function hashesMatch(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
