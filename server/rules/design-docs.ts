import { createHash } from 'node:crypto';
import { DATABASE_KINDS, type DatabaseKind, type SyncRule } from '../../sync-rules/types.js';
import { loadRules, type RuleSet } from './load.js';
import { designDocNames, hasValidation, readViews, type View } from './sources.js';
import { generateValidateDocUpdate } from './validate-doc-update.js';
import { deepFreeze } from '../util/freeze.js';

/**
 * Builds the design documents from design-docs/fleet/<ddoc>/ (views/<view>/map.js and reduce.js,
 * one function per file) and, where the folder has validate_doc_update/, the function
 * generated from the rules. One set per kind of database, since each kind admits different
 * document types. Each document carries `version`, a hash of its content, so a deploy can
 * tell an up-to-date database from a stale one without comparing functions.
 */

export type { View };

export interface DesignDoc {
  _id: string;
  language: 'javascript';
  /** sha256 (hex) of the canonical JSON of every other field; see designDocVersion. */
  version: string;
  /** The kind of database this design document is for. */
  kind: DatabaseKind;
  validate_doc_update?: string;
  views: Record<string, View>;
}

export type DesignDocSet = Record<DatabaseKind, DesignDoc[]>;

/** Where the user and team databases' design documents live: design-docs/fleet/. */
const FLEET = 'fleet';

/**
 * Built sets by rule set. Building is pure (the rules, and design-docs/ as read at start-up)
 * and costs about half a second of CPU, so a rule set is built once per process; the set is
 * frozen, being shared.
 */
const built = new WeakMap<RuleSet, DesignDocSet>();

export function buildDesignDocs(rules: RuleSet | readonly SyncRule[]): DesignDocSet {
  const ruleSet = isRuleSet(rules) ? rules : loadRules(rules);
  let set = built.get(ruleSet);
  if (!set) {
    set = deepFreeze(build(ruleSet));
    built.set(ruleSet, set);
  }
  return set;
}

function build(ruleSet: RuleSet): DesignDocSet {
  const names = designDocNames(FLEET);
  const forKind = (kind: DatabaseKind) =>
    names.map((name) => {
      const content = {
        _id: `_design/${name}`,
        language: 'javascript' as const,
        kind,
        ...(hasValidation(FLEET, name) && {
          validate_doc_update: generateValidateDocUpdate(ruleSet, kind),
        }),
        views: readViews(FLEET, name),
      };
      return { ...content, version: designDocVersion(content) };
    });
  return Object.fromEntries(DATABASE_KINDS.map((kind) => [kind, forKind(kind)])) as DesignDocSet;
}

/** The content hash: sha256 of the canonical JSON (sorted keys) of all but _rev and version. */
export function designDocVersion(doc: object): string {
  const {
    _rev: _ignoredRev,
    version: _ignoredVersion,
    ...content
  } = doc as Record<string, unknown>;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function isRuleSet(value: RuleSet | readonly SyncRule[]): value is RuleSet {
  return !Array.isArray(value) && 'validators' in value;
}
