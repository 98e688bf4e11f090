import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as esbuild from 'esbuild';
import { AppUnavailable } from '../errors.js';
import { APP_DIR, file, type AppFiles } from './build.js';
import { sendFile } from './plugin.js';

/**
 * The operator's page at /ops/ (app/ops/, docs/operations.md): built with esbuild like the
 * field app, the first time it is asked for, and served the same way. It holds no data: it
 * signs an admin or supervisor in and reads the staff routes with their token.
 */
const OPS_DIR = `${APP_DIR}ops/`;

async function buildOps(): Promise<AppFiles> {
  const files: AppFiles = new Map();
  const js = await esbuild.build({
    entryPoints: [`${OPS_DIR}main.ts`],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020'],
    write: false,
    logLevel: 'silent',
  });
  files.set('ops.js', await file('js', js.outputFiles[0]!.contents));
  files.set('ops.css', await file('css', await readFile(`${OPS_DIR}ops.css`)));
  files.set('', await file('html', await readFile(`${OPS_DIR}index.html`)));
  return files;
}

export default async function opsStatic(app: FastifyInstance): Promise<void> {
  let built: Promise<AppFiles> | null = null;
  const serve = async (path: string, req: FastifyRequest, reply: FastifyReply) => {
    built ??= buildOps().catch((err: unknown) => {
      built = null;
      throw err;
    });
    let all: AppFiles;
    try {
      all = await built;
    } catch (err) {
      req.log.error({ err }, 'building the operations page failed');
      throw new AppUnavailable();
    }
    const found = all.get(path);
    return found ? sendFile(found, req, reply) : reply.callNotFound();
  };
  const schema = { tags: ['operations'] };
  app.get(
    '/ops',
    { schema: { ...schema, summary: "The operator's page (admins and supervisors sign in)" } },
    async (req, reply) => {
      if (!req.url.split('?')[0]!.endsWith('/'))
        return reply.redirect(`/ops/${req.url.slice(4)}`, 301);
      return serve('', req, reply);
    },
  );
  app.get<{ Params: { file: string } }>(
    '/ops/:file',
    {
      schema: {
        ...schema,
        summary: "A file of the operator's page: ops.js, ops.css",
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
