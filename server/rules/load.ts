import { Ajv2020 } from 'ajv/dist/2020.js';
import { SYNC_RULE_MESSAGES, SyncRuleSchema, type SyncRule } from '../../sync-rules/types.js';
import { createAjv, standaloneValidator } from './compile.js';
import { formatReason } from './messages.js';
import { ruleProblems } from './rule-problems.js';
import { deepFreeze } from '../util/freeze.js';

/**
 * Start-up check of the rule set. Every problem in every rule is collected and reported at
 * once, each naming its rule and field, so a deployment fixes its rules in one pass.
 */

export class RulesError extends Error {
  readonly code = 'SAWA_INVALID_RULES';
  constructor(readonly problems: readonly string[]) {
    super(`sync rules are invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'RulesError';
  }
}

/** A checked rule set, with each type's schema compiled to standalone validator code. */
export interface RuleSet {
  readonly rules: readonly SyncRule[];
  readonly types: readonly string[];
  rule(type: string): SyncRule | undefined;
  /** type → body of a function returning that type's ajv validator (see compile.ts). */
  readonly validators: ReadonlyMap<string, string>;
}

const checkShape = new Ajv2020({ allErrors: true, strict: false }).compile(SyncRuleSchema);

/**
 * Rule sets already checked and compiled, by their JSON (the last few): compiling is pure and
 * costs about half a second of CPU, and the service, the scripts and the jobs each load the
 * same rules. A rule set with problems is not kept: it throws every time. Its rules are
 * frozen, being shared.
 */
const loaded = new Map<string, RuleSet>();
const KEEP_LOADED = 8;

export function loadRules(input: readonly unknown[]): RuleSet {
  const key = jsonKey(input);
  const hit = key === undefined ? undefined : loaded.get(key);
  if (hit) return hit;
  const ruleSet = checkAndCompile(input);
  if (key !== undefined) {
    if (loaded.size >= KEEP_LOADED) loaded.delete(loaded.keys().next().value as string);
    loaded.set(key, ruleSet);
  }
  return ruleSet;
}

function jsonKey(input: unknown): string | undefined {
  try {
    return JSON.stringify(input);
  } catch {
    return undefined; // a cycle or a BigInt: checked below, and refused
  }
}

function checkAndCompile(input: readonly unknown[]): RuleSet {
  const problems: string[] = [];
  const ajv = createAjv();
  const byType = new Map<string, SyncRule>();
  const validators = new Map<string, string>();

  if (!Array.isArray(input) || input.length === 0) {
    throw new RulesError(['the rule set must be a non-empty list of rules']);
  }
  input.forEach((candidate, index) => {
    const label = labelOf(candidate, index);
    if (!checkShape(candidate)) {
      problems.push(formatReason(label, checkShape.errors, SYNC_RULE_MESSAGES));
      return;
    }
    const rule = structuredClone(candidate) as SyncRule;
    if (byType.has(rule.type)) {
      problems.push(`${label}: type "${rule.type}" is defined more than once`);
      return;
    }
    byType.set(rule.type, rule);
    const compiled = compileSchema(ajv, rule);
    if (typeof compiled !== 'string') {
      problems.push(`${label}: schema does not compile: ${compiled.error}`);
      return;
    }
    validators.set(rule.type, compiled);
    for (const problem of ruleProblems(rule)) problems.push(`${label}: ${problem}`);
  });
  if (problems.length) throw new RulesError(problems);

  // Frozen: a loaded set is shared by every later load of the same rules.
  const rules = deepFreeze([...byType.values()]);
  return {
    rules,
    types: rules.map((r) => r.type),
    rule: (type) => byType.get(type),
    validators,
  };
}

function compileSchema(ajv: Ajv2020, rule: SyncRule): string | { error: string } {
  try {
    ajv.addSchema(rule.schema, rule.type);
    ajv.getSchema(rule.type);
    return standaloneValidator(ajv, rule.type);
  } catch (err) {
    ajv.removeSchema(rule.type);
    return { error: (err as Error).message };
  }
}

function labelOf(candidate: unknown, index: number): string {
  const type = (candidate as { type?: unknown } | null)?.type;
  return typeof type === 'string' && type ? `rule ${type}` : `rule #${index + 1}`;
}
