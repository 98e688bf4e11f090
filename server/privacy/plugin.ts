import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import privacyRoutes from './routes.js';

/** The data-protection routes (docs/data-protection.md). The audit hook is registered earlier (hook.ts). */
async function privacyPlugin(app: FastifyInstance): Promise<void> {
  await app.register(privacyRoutes);
}

export default fp(privacyPlugin, {
  name: 'sawa-privacy',
  dependencies: ['couch', 'accounts', 'sawa-audit'],
});
