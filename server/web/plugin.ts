import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppUnavailable } from '../errors.js';
import { buildApp, type AppFile, type AppFiles } from './build.js';

/**
 * Serves the field app at /app/. The app is built the first time it is asked for (about a
 * second, once per process), so `npm start` needs no build step and a service that nobody
 * opens the app on (a test, a jobs-only node) never builds it. Files answer with an ETag and
 * in brotli or gzip when the browser takes it: the page's weight is what a phone pays.
 */
export default async function appStatic(app: FastifyInstance): Promise<void> {
  let built: Promise<AppFiles> | null = null;
  const files = () => {
    built ??= buildApp(app.syncRules).catch((err: unknown) => {
      built = null; // a fixed source builds at the next request
      throw err;
    });
    return built;
  };

  const serve = async (path: string, req: FastifyRequest, reply: FastifyReply) => {
    let all: AppFiles;
    try {
      all = await files();
    } catch (err) {
      req.log.error({ err }, 'building the field app failed');
      throw new AppUnavailable();
    }
    const file = all.get(path);
    if (!file) return reply.callNotFound();
    return sendFile(file, req, reply);
  };

  const schema = { tags: ['app'] };
  app.get(
    '/app',
    { schema: { ...schema, summary: 'The field app (its page)' } },
    async (req, reply) => {
      // `/app` and `/app/` share a route (trailing slashes are ignored); the page's relative
      // scope needs the slash.
      if (!req.url.split('?')[0]!.endsWith('/'))
        return reply.redirect(`/app/${req.url.slice(4)}`, 301);
      return serve('', req, reply);
    },
  );
  app.get<{ Params: { file: string } }>(
    '/app/:file',
    {
      schema: {
        ...schema,
        summary: 'A file of the field app: app.js, app.css, sw.js, manifest.webmanifest, icon.svg',
        params: {
          type: 'object',
          properties: { file: { type: 'string', maxLength: 64 } },
          required: ['file'],
        },
      },
    },
    async (req, reply) => serve(req.params.file, req, reply),
  );
}

/** One built file, with its ETag, compressed as the browser accepts (also for /ops/). */
export function sendFile(file: AppFile, req: FastifyRequest, reply: FastifyReply) {
  // Each encoding is its own representation, so its own ETag.
  const accepts = String(req.headers['accept-encoding'] ?? '');
  const encoding = /\bbr\b/.test(accepts) ? 'br' : /\bgzip\b/.test(accepts) ? 'gzip' : null;
  const etag = `"${file.hash}${encoding ? `-${encoding}` : ''}"`;
  reply
    .header('content-type', file.type)
    .header('etag', etag)
    // Revalidated on every visit with a network (a 304 is a few hundred bytes); offline, the
    // service worker answers from its cache.
    .header('cache-control', 'no-cache')
    .header('vary', 'accept-encoding')
    .header('x-content-type-options', 'nosniff');
  if (req.headers['if-none-match'] === etag) return reply.code(304).send();
  if (encoding) reply.header('content-encoding', encoding);
  return reply.send(encoding ? file[encoding] : file.body);
}
