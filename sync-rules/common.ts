/**
 * What every reference document shares: `type`, `owner`, `created_at`, `updated_at`, and
 * room for CouchDB's own `_id`, `_rev`, `_attachments`… Deployments may keep or replace this.
 */

/** A Tanzanian phone number in E.164 form: +255 and nine digits. */
export const E164_TZ = '^\\+255[0-9]{9}$';
/** Any E.164 number: +, country code, up to 15 digits in all. */
export const E164 = '^\\+[1-9][0-9]{6,14}$';

export const E164_TZ_MESSAGE = 'must be an E.164 number: +255 and 9 digits, e.g. +255712345678';
export const E164_MESSAGE = 'must be an E.164 number: + and country code, e.g. +255712345678';
export const DATE_TIME_MESSAGE =
  'must be an ISO 8601 date-time with a time zone, e.g. 2024-05-01T09:30:00+03:00';

/** Fields every reference document sets on create and never changes. */
export const COMMON_IMMUTABLE = ['owner', 'created_at'] as const;

export const COMMON_MESSAGES: Record<string, string> = {
  created_at: DATE_TIME_MESSAGE,
  updated_at: DATE_TIME_MESSAGE,
};

const DATE_TIME = { type: 'string', format: 'date-time' } as const;

interface Fields {
  properties: Record<string, unknown>;
  required: readonly string[];
}

/**
 * The full JSON Schema of a document of `type`: common fields plus the type's own.
 * Unknown fields are refused, so personal data can only live where the rule says it does.
 */
export function documentSchema(type: string, fields: Fields): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      type: { const: type },
      owner: { type: 'string', minLength: 1 },
      created_at: DATE_TIME,
      updated_at: DATE_TIME,
      ...fields.properties,
    },
    required: ['type', 'owner', 'created_at', 'updated_at', ...fields.required],
    // CouchDB's special fields (_id, _rev, _attachments, _revisions…) travel with the document.
    patternProperties: { '^_': true },
    additionalProperties: false,
  };
}

/** A string of 1 to `max` characters. */
export function text(max: number) {
  return { type: 'string', minLength: 1, maxLength: max } as const;
}
