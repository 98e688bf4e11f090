import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../errors.js';
import { params } from '../http.js';
import { clearCookieHeader } from '../auth/index.js';

/** Reads `{name, password}` from JSON or an HTML form, as CouchDB's `POST /_session` accepts both. */
function credentials(req: FastifyRequest): { name: unknown; password: unknown } {
  const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(raw);
    return { name: form.get('name') ?? form.get('username'), password: form.get('password') };
  }
  if (type.startsWith('application/json')) {
    try {
      const body = JSON.parse(raw) as Record<string, unknown>;
      return { name: body.name ?? body.username, password: body.password };
    } catch {
      throw errors.invalidJson();
    }
  }
  throw errors.badContentType('application/json or application/x-www-form-urlencoded');
}

/** Cookie sessions: `GET`, `POST` and `DELETE /_session`. */
export default async function sessionRoutes(app: FastifyInstance): Promise<void> {
  const auth = app.authenticator;

  app.get('/_session', async (req) => ({
    ok: true,
    userCtx: req.userCtx,
    info: {
      authentication_handlers: app.store.opts.proxyAuth
        ? ['proxy', 'cookie', 'default']
        : ['cookie', 'default'],
      ...(req.authMethod !== 'none' ? { authenticated: req.authMethod } : {}),
    },
  }));

  app.post('/_session', async (req, reply) => {
    const { name, password } = credentials(req);
    if (typeof name !== 'string' || typeof password !== 'string') {
      throw errors.unauthorized('Name or password is incorrect.');
    }
    const user = await auth.login(name, password);
    if (!user) throw errors.unauthorized('Name or password is incorrect.');
    reply.header('set-cookie', auth.cookieFor(user, req));
    const next = params.str(req, 'next');
    if (next !== undefined && next.startsWith('/')) return reply.redirect(next, 302);
    return { ok: true, name: user.name, roles: user.roles };
  });

  app.delete('/_session', async (req, reply) => {
    reply.header(
      'set-cookie',
      clearCookieHeader({
        timeoutSec: app.store.opts.sessionTimeoutSec,
        secure: req.protocol === 'https',
      }),
    );
    return { ok: true };
  });
}
