/**
 * Sync rules: load and check them at start-up, check a write in the gateway, build the
 * design documents that make CouchDB enforce the same rules.
 */
import { syncRules } from '../../sync-rules/index.js';
import { loadRules, type RuleSet } from './load.js';

export { loadRules, RulesError, type RuleSet } from './load.js';
export {
  createWriteChecker,
  type UserCtx,
  type WriteChecker,
  type WriteRejection,
} from './check.js';
export {
  buildDesignDocs,
  designDocVersion,
  type DesignDoc,
  type DesignDocSet,
  type View,
} from './design-docs.js';
export { generateValidateDocUpdate, assertSelfContained } from './validate-doc-update.js';
export { formatReason } from './messages.js';

/** The deployment's rules (sync-rules/index.ts), checked; throws RulesError. Call at start-up. */
export function loadSyncRules(): RuleSet {
  return loadRules(syncRules);
}
