import type { ErrorObject } from 'ajv';
import { evaluateIsolated, readDesignSource } from './sources.js';

/**
 * The one reason formatter: ajv errors → "farmer.phone must be an E.164 number…". Its source
 * lives in design-docs/ because validate_doc_update inlines it; Node code that needs a reason
 * (the start-up rule check) evaluates that same file, so every reason reads alike.
 */

export const REASON_SOURCE = readDesignSource('fleet/sawa/validate_doc_update/reason.js');

type Formatter = (
  label: string,
  errors: readonly ErrorObject[] | null | undefined,
  messages?: Record<string, string>,
) => string;

const format = evaluateIsolated<Formatter>(REASON_SOURCE);

/**
 * One sentence for all `errors`, each part prefixed with `label` and the field path;
 * `messages` (field path → text) replaces the generic wording for a field.
 */
export function formatReason(
  label: string,
  errors: readonly ErrorObject[] | null | undefined,
  messages: Record<string, string> = {},
): string {
  return format(label, errors, messages);
}
