import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import { pipeline as chain } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { decryptedStream, encryptStream, isEncrypted, type BackupKey } from './crypto.js';

/** Gzip-compressed newline-delimited JSON: the backup's file format, one value per line. */

export interface LineWriter {
  write(line: string): Promise<void>;
  /** Flushes, syncs to disk and closes the file. */
  close(): Promise<void>;
}

/** With `key`, the gzip stream is encrypted (crypto.ts): header, ciphertext, then the tag. */
export function gzipLineWriter(path: string, key?: BackupKey): LineWriter {
  const gzip = createGzip({ level: 6 });
  const file = createWriteStream(path);
  const done = key ? pipeline(gzip, ...encryptStream(key), file) : pipeline(gzip, file);
  // Surface a write error at the next write or at close, not as an unhandled rejection.
  let failed: unknown;
  done.catch((err) => {
    failed = err;
  });
  return {
    async write(line) {
      if (failed) throw failed;
      if (!gzip.write(line.endsWith('\n') ? line : line + '\n')) await once(gzip, 'drain');
    },
    async close() {
      gzip.end();
      await done;
      await fsyncFile(path);
    },
  };
}

/**
 * Each line of a gzip NDJSON file, parsed. An encrypted file (crypto.ts) needs `key`, and is
 * checked whole before its first line is read; a plain file is read as it is.
 */
export async function* readGzipLines<T>(path: string, key?: BackupKey): AsyncGenerator<T> {
  const source = (await isEncrypted(path))
    ? await decryptedStream(path, key)
    : createReadStream(path);
  // Errors of any stream end the last one, so the loop below throws them.
  const text = chain(source, createGunzip(), () => {});
  text.setEncoding('utf8');
  let rest = '';
  for await (const chunk of text as AsyncIterable<string>) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) if (line.length > 0) yield JSON.parse(line) as T;
  }
  if (rest.length > 0) yield JSON.parse(rest) as T;
}

export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Makes a rename durable: the directory entry itself is synced (a no-op where unsupported). */
export async function fsyncDir(path: string): Promise<void> {
  try {
    await fsyncFile(path);
  } catch {
    // Some platforms cannot open a directory for sync; the rename is still atomic there.
  }
}
