import { rules, validateDocUpdate, type FieldSchema } from 'sawa:rules';
import { reasonParts } from './reasons.js';
import type { Doc } from './data.js';

/**
 * The phone refuses what the server would: a document is checked by the generated
 * validate_doc_update, the same text the gateway runs, before it is saved.
 */

export interface UserCtx {
  name: string;
  roles: string[];
}

/** Field → what is wrong with it (in the chosen language); `''` holds whole-document problems. */
export type Problems = Record<string, string>;

export function check(doc: Doc, old: Doc | null, user: UserCtx): Problems {
  try {
    validateDocUpdate(doc, old, { name: user.name, roles: user.roles }, {});
    return {};
  } catch (err) {
    const reason = (err as { forbidden?: string; unauthorized?: string }) ?? {};
    const text = reason.forbidden ?? reason.unauthorized ?? String(err);
    const problems: Problems = {};
    for (const p of reasonParts(text)) {
      const key = p.field ?? '';
      problems[key] = problems[key] ? `${problems[key]}; ${p.text}` : p.text;
    }
    return problems;
  }
}

const COMMON = new Set(['type', 'owner', 'created_at', 'updated_at']);

export interface Field {
  name: string;
  schema: FieldSchema;
  required: boolean;
}

/** The fields an agent fills in for `type`, in the rule's order, common fields left out. */
export function fieldsOf(type: string): Field[] {
  const rule = rules[type];
  if (!rule) return [];
  const required = new Set(rule.schema.required);
  return Object.entries(rule.schema.properties)
    .filter(([name]) => !COMMON.has(name))
    .map(([name, schema]) => ({ name, schema, required: required.has(name) }));
}
