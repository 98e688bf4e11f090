import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { buildDesignDocs, loadSyncRules, type DesignDocSet, type RuleSet } from './index.js';

export interface SyncRules {
  ruleSet: RuleSet;
  designDocs: DesignDocSet;
}

declare module 'fastify' {
  interface FastifyInstance {
    syncRules: SyncRules;
  }
}

/**
 * The deployment's sync rules, checked once at start-up (a bad rule stops the
 * service with RulesError), and the design documents built from them: every
 * plugin that needs either reads `app.syncRules` instead of building its own.
 */
export default fp(
  async function rulesPlugin(app: FastifyInstance) {
    const ruleSet = loadSyncRules();
    app.decorate('syncRules', { ruleSet, designDocs: buildDesignDocs(ruleSet) });
  },
  { name: 'sync-rules' },
);
