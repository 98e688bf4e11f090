import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline as chain, Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BackupKeyInvalid } from '../errors.js';

/**
 * Encrypted backup files (docs/backup.md): AES-256-GCM over the gzip stream, with a key from
 * BACKUP_ENCRYPTION_KEY. A file is
 *
 *   MAGIC (8 bytes) | key id (8) | IV (12) | ciphertext | GCM tag (16)
 *
 * and its first 28 bytes are the GCM additional data, so the header cannot be changed either.
 * The key id (the first 8 bytes of SHA-256 over a label and the key) names the key without
 * revealing it: a wrong key is reported before anything is decrypted. A reader checks the
 * whole file's tag before it hands out the first line, so nothing of a changed file is
 * ever restored.
 */

export const MAGIC = Buffer.from('SAWAENC1');
const ID_BYTES = 8;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const HEADER_BYTES = MAGIC.length + ID_BYTES + IV_BYTES;

export interface BackupKey {
  key: Buffer;
  /** Hex of the key id, recorded in the manifest. */
  id: string;
}

/** The key from BACKUP_ENCRYPTION_KEY: 32 bytes as 64 hex digits or base64. Never logged. */
export function parseBackupKey(text: string | undefined): BackupKey {
  if (!text) {
    throw new BackupKeyInvalid(
      'BACKUP_ENCRYPTION_KEY is not set: an encrypted backup needs a key (32 random bytes, e.g. `openssl rand -base64 32`)',
    );
  }
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32 || (!/^[0-9a-fA-F]{64}$/.test(t) && key.toString('base64') !== t)) {
    throw new BackupKeyInvalid(
      'BACKUP_ENCRYPTION_KEY must be 32 bytes, as 64 hex digits or as base64 (`openssl rand -base64 32`)',
    );
  }
  return { key, id: keyId(key) };
}

function keyId(key: Buffer): string {
  return createHash('sha256')
    .update('sawa-backup-key\n')
    .update(key)
    .digest()
    .subarray(0, ID_BYTES)
    .toString('hex');
}

/** The streams that encrypt one file: the cipher, then one that adds the header and the tag. */
export function encryptStream(k: BackupKey): [Transform, Transform] {
  const iv = randomBytes(IV_BYTES);
  const header = Buffer.concat([MAGIC, Buffer.from(k.id, 'hex'), iv]);
  const cipher = createCipheriv('aes-256-gcm', k.key, iv);
  cipher.setAAD(header);
  let started = false;
  const frame = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (!started) this.push(header);
      started = true;
      cb(null, chunk);
    },
    // Runs once the cipher has ended, so its tag is known.
    flush(cb) {
      if (!started) this.push(header);
      cb(null, cipher.getAuthTag());
    },
  });
  return [cipher, frame];
}

/** True when the file starts like an encrypted backup file. */
export async function isEncrypted(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(MAGIC.length);
    const { bytesRead } = await fh.read(buf, 0, MAGIC.length, 0);
    return bytesRead === MAGIC.length && buf.equals(MAGIC);
  } finally {
    await fh.close();
  }
}

/**
 * The plaintext (gzip) stream of an encrypted file, after checking the key id and then the
 * whole file's tag (one pass to check, one to read). A wrong key or a changed file: a
 * BackupKeyInvalid error naming the file, never a line of it.
 */
export async function decryptedStream(path: string, k: BackupKey | undefined): Promise<Readable> {
  const size = (await stat(path)).size;
  const fh = await open(path, 'r');
  const header = Buffer.alloc(HEADER_BYTES);
  const tag = Buffer.alloc(TAG_BYTES);
  try {
    if (size < HEADER_BYTES + TAG_BYTES) throw changed(path);
    await fh.read(header, 0, HEADER_BYTES, 0);
    await fh.read(tag, 0, TAG_BYTES, size - TAG_BYTES);
  } finally {
    await fh.close();
  }
  if (!k) {
    throw new BackupKeyInvalid(
      `${path} is encrypted: set BACKUP_ENCRYPTION_KEY to the key it was made with`,
    );
  }
  const id = header.subarray(MAGIC.length, MAGIC.length + ID_BYTES).toString('hex');
  if (id !== k.id) {
    throw new BackupKeyInvalid(
      `BACKUP_ENCRYPTION_KEY is not the key ${path} was encrypted with (key id ${id}, given ${k.id})`,
    );
  }
  const decipher = () => {
    const d = createDecipheriv('aes-256-gcm', k.key, header.subarray(MAGIC.length + ID_BYTES));
    d.setAAD(header);
    d.setAuthTag(tag);
    return d;
  };
  const body = () => createReadStream(path, { start: HEADER_BYTES, end: size - TAG_BYTES - 1 });
  try {
    await pipeline(body(), decipher(), new Writable({ write: (_c, _e, cb) => cb() }));
  } catch {
    throw changed(path);
  }
  // Checked: the second pass reads the same bytes (a file changed in between fails at its end).
  // Errors of either stream end the returned one (a tag that fails now is a changed file).
  return chain(body(), decipher(), () => {});
}

const changed = (path: string) =>
  new BackupKeyInvalid(`${path} failed authentication: it was changed or damaged since the backup`);
