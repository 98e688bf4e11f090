import { createPublicKey, type KeyObject } from 'node:crypto';

/**
 * A provider's public key as its portal shows it: base64 DER (SubjectPublicKeyInfo) or PEM.
 * A leaf module, so the configuration can check a key without importing any integration.
 */
export function readPublicKey(text: string): KeyObject {
  const t = text.trim();
  if (t.startsWith('-----BEGIN')) return createPublicKey(t);
  return createPublicKey({ key: Buffer.from(t, 'base64'), format: 'der', type: 'spki' });
}

/** For the configuration's check: `setting` must hold an RSA public key when it is set. */
export function rsaPublicKeyProblems(setting: string, text: string | undefined): string[] {
  if (text === undefined) return [];
  try {
    if (readPublicKey(text).asymmetricKeyType === 'rsa') return [];
  } catch {
    // reported below
  }
  return [`${setting}: not an RSA public key (base64 DER as the portal shows it, or PEM)`];
}
