import { generateValidateDocUpdate } from '../rules/index.js';
import type { SyncRules } from '../rules/plugin.js';

/**
 * Source of the app's `sawa:rules` module: the generated validate_doc_update for a private
 * database, the very text CouchDB and the gateway run, and the schema of each type the app
 * writes (its forms are built from them). Made from the deployment's rules at build time, so
 * a deployment that changes its rules gets a phone that checks the new ones.
 */

/** The types the field app reads or writes. */
export const APP_TYPES = ['farmer', 'visit', 'payment_request', 'payment_status'] as const;

export function rulesModuleSource({ ruleSet, designDocs }: SyncRules): string {
  // The text installed in every private database, not a second generation of it.
  const installed = designDocs.private.find((d) => d.validate_doc_update)?.validate_doc_update;
  const vdu = installed ?? generateValidateDocUpdate(ruleSet, 'private');
  const rules: Record<string, unknown> = {};
  for (const type of APP_TYPES) {
    const rule = ruleSet.rule(type);
    if (!rule) continue;
    const { properties, required } = rule.schema as { properties: unknown; required: unknown };
    rules[type] = { schema: { properties, required } };
  }
  return [
    `export const validateDocUpdate = (${vdu});`,
    `export const rules = ${JSON.stringify(rules)};`,
  ].join('\n');
}
