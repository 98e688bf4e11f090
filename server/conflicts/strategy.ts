import { createHash } from 'node:crypto';
import type { ConflictStrategy } from '../../sync-rules/index.js';
import type { RuleSet } from '../rules/index.js';

/** How conflicts of one document type are settled, as its sync rule says. */
export interface TypeStrategy {
  strategy: ConflictStrategy;
  /** The date-time field that ranks revisions (`updated_at`, or `created_at` for immutable types). */
  field: string;
  /** Changes whenever the rule does, so held conflicts are retried after a rule change. */
  ruleHash: string;
}

/** The strategy for `type`, or null when no rule names it. */
export function strategyFor(rules: RuleSet, type: string | null): TypeStrategy | null {
  const rule = type === null ? undefined : rules.rule(type);
  if (!rule) return null;
  return {
    strategy: rule.conflict.strategy,
    // Checked at start-up: every strategy but manual names one; manual ranks nothing.
    field: rule.conflict.field ?? 'updated_at',
    ruleHash: createHash('sha256').update(JSON.stringify(rule)).digest('hex').slice(0, 16),
  };
}
