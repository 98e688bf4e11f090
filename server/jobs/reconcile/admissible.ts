import { isDeepStrictEqual } from 'node:util';
import type { Body, Leaf } from '../../conflicts/leaves.js';
import { teamFromDbName } from '../../provisioning/names.js';
import { createWriteChecker, type RuleSet, type WriteChecker } from '../../rules/index.js';
import { own } from './merge.js';
import { replaced, type Plan } from './decide.js';

const checkers = new WeakMap<RuleSet, WriteChecker>();

/**
 * Why the rules would refuse `plan`, or null. A conflict branch may have reached CouchDB
 * without the gateway's judgement (a client straight to CouchDB, whose validate_doc_update
 * gets `oldDoc = null` for a history it cannot place), so a strategy that ranks branches by
 * the phones' own timestamps could hand the document to a forged branch. The document that
 * stays must be one the rules accept as an update of every revision it replaces: same type
 * and owner, immutable fields untouched, a document of an immutable type not changed at all.
 * Judged as a server admin: who wrote a branch is not known here, only what it says.
 */
export function refusal(rules: RuleSet, db: string, plan: Plan): string | null {
  let checker = checkers.get(rules);
  if (!checker) checkers.set(rules, (checker = createWriteChecker(rules)));
  const kind = teamFromDbName(db) === null ? 'private' : 'team';
  const kept: Body = plan.merged ? { ...plan.merged, _rev: plan.keep.rev } : plan.keep.body;
  for (const leaf of replaced(plan)) {
    if (leaf.rev === plan.keep.rev && !plan.merged) continue;
    if (sameContent(kept, leaf)) continue;
    const verdict = checker.checkWrite(kept, leaf.body, { name: null, roles: ['_admin'] }, kind);
    if (verdict) return `keeping ${plan.keep.rev} over ${leaf.rev}: ${verdict.reason}`;
  }
  return null;
}

function sameContent(body: Body, leaf: Leaf): boolean {
  return isDeepStrictEqual(own(body), own(leaf.body));
}
