import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';

/** Gzip-compressed newline-delimited JSON: the backup's file format, one value per line. */

export interface LineWriter {
  write(line: string): Promise<void>;
  /** Flushes, syncs to disk and closes the file. */
  close(): Promise<void>;
}

export function gzipLineWriter(path: string): LineWriter {
  const gzip = createGzip({ level: 6 });
  const file = createWriteStream(path);
  const done = pipeline(gzip, file);
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

/** Each line of a gzip NDJSON file, parsed. */
export async function* readGzipLines<T>(path: string): AsyncGenerator<T> {
  const lines = createInterface({
    input: createReadStream(path).pipe(createGunzip()),
    crlfDelay: Infinity,
  });
  for await (const line of lines) {
    if (line.length > 0) yield JSON.parse(line) as T;
  }
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
