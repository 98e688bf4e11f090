import { readFile } from 'node:fs/promises';
import type { FastifyJWTOptions } from '@fastify/jwt';
import { ConfigError, type Config } from '../config.js';
import { fileSecret } from '../secrets.js';

/**
 * The @fastify/jwt options from configuration. HS256 (the default) signs with JWT_SECRET;
 * in development a missing secret is generated once under DATA_DIR, as the embedded store's
 * admin password is. RS256/ES256/EdDSA sign with the PEM key files, so other services can
 * verify Sawa's tokens with the public key alone. Only the configured algorithm is accepted
 * when verifying (no `alg: none`, no algorithm confusion).
 */
export async function jwtOptions(
  config: Config,
  log: (msg: string) => void = () => undefined,
): Promise<FastifyJWTOptions> {
  const algorithm = config.JWT_ALGORITHM;
  const common = {
    sign: { algorithm, expiresIn: `${config.ACCESS_TOKEN_TTL_SEC}s` },
    verify: { algorithms: [algorithm] },
  };
  if (algorithm === 'HS256') {
    return { ...common, secret: await hmacSecret(config, log) };
  }
  const { JWT_PRIVATE_KEY_FILE: privateFile, JWT_PUBLIC_KEY_FILE: publicFile } = config;
  if (!privateFile || !publicFile) {
    throw new ConfigError([
      `JWT_PRIVATE_KEY_FILE and JWT_PUBLIC_KEY_FILE are required with JWT_ALGORITHM=${algorithm}`,
    ]);
  }
  const read = async (key: string, path: string) => {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      throw new ConfigError([
        `${key} cannot be read (${(err as NodeJS.ErrnoException).code}): ${path}`,
      ]);
    }
  };
  return {
    ...common,
    secret: {
      private: await read('JWT_PRIVATE_KEY_FILE', privateFile),
      public: await read('JWT_PUBLIC_KEY_FILE', publicFile),
    },
  };
}

async function hmacSecret(config: Config, log: (msg: string) => void): Promise<string> {
  if (config.JWT_SECRET) return config.JWT_SECRET;
  if (config.NODE_ENV !== 'development') {
    throw new ConfigError([
      `JWT_SECRET is required when NODE_ENV=${config.NODE_ENV} (32 or more random characters), ` +
        'or set JWT_ALGORITHM to RS256/ES256/EdDSA with JWT_PRIVATE_KEY_FILE and JWT_PUBLIC_KEY_FILE',
    ]);
  }
  const s = await fileSecret(config.DATA_DIR, 'jwt-secret', 48);
  log(`development JWT secret ${s.created ? 'generated and ' : ''}kept in ${s.path}`);
  return s.value;
}
