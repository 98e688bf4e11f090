import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/**
 * A secret kept in a file under DATA_DIR (mode 0600), made on first use. Used in
 * development and for the embedded store when no secret is configured, so a
 * fresh clone runs without "admin party" and without secrets in the repository.
 */
export async function fileSecret(
  dataDir: string,
  name: string,
  bytes = 24,
): Promise<{ value: string; path: string; created: boolean }> {
  const path = resolve(join(dataDir, name));
  try {
    const value = (await readFile(path, 'utf8')).trim();
    if (value) return { value, path, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dataDir, { recursive: true });
  const value = randomBytes(bytes).toString('base64url');
  await writeFile(path, value + '\n', { mode: 0o600, flag: 'w' });
  await chmod(path, 0o600);
  return { value, path, created: true };
}
