import t from 'tap';
import { createAjv } from '../../server/rules/compile.js';
import { formatReason } from '../../server/rules/index.js';

/** The reason formatter on keywords the reference rules do not use, so deployments get plain text too. */
function reason(schema: object, data: unknown, messages: Record<string, string> = {}): string {
  const validate = createAjv().compile(schema);
  t.notOk(validate(data), 'invalid');
  return formatReason('thing', validate.errors, messages);
}

const obj = (properties: object) => ({ type: 'object', properties });

t.equal(
  reason(obj({ n: { type: 'number', exclusiveMinimum: 0 } }), { n: 0 }),
  'thing.n must be greater than 0',
);
t.equal(
  reason(obj({ n: { type: 'number', exclusiveMaximum: 10 } }), { n: 10 }),
  'thing.n must be less than 10',
);
t.equal(
  reason(obj({ n: { type: 'integer', multipleOf: 5 } }), { n: 7 }),
  'thing.n must be a multiple of 5',
);
t.equal(
  reason(obj({ n: { type: ['string', 'null'] } }), { n: 1 }),
  'thing.n must be a string or null',
);
t.equal(reason(obj({ b: { type: 'boolean' } }), { b: 'yes' }), 'thing.b must be true or false');
t.equal(
  reason(obj({ s: { type: 'string', minLength: 3 } }), { s: 'ab' }),
  'thing.s must be at least 3 characters',
);
t.equal(
  reason(obj({ s: { type: 'string', pattern: '^[A-Z]+$' } }), { s: 'ab' }),
  'thing.s must match the pattern ^[A-Z]+$',
);
t.equal(
  reason(obj({ d: { type: 'string', format: 'date' } }), { d: '2024-02-30' }),
  'thing.d must be a date like 2024-05-01',
);
t.equal(reason(obj({ c: { const: 'x' } }), { c: 'y' }), 'thing.c must be "x"');
t.equal(
  reason(obj({ tags: { type: 'array', maxItems: 1, items: { type: 'string' } } }), {
    tags: ['a', 2],
  }),
  'thing.tags must have at most 1 item; thing.tags[1] must be a string',
);
t.equal(
  reason(obj({ tags: { type: 'array', uniqueItems: true } }), { tags: ['a', 'a'] }),
  'thing.tags must not repeat items (0 and 1)',
);
t.equal(
  reason(obj({ id: { anyOf: [{ type: 'string' }, { type: 'integer' }] } }), { id: 1.5 }),
  'thing.id does not match any allowed form',
  'anyOf speaks once, not per branch',
);
t.equal(
  reason(
    obj({ id: { anyOf: [{ type: 'string' }, { type: 'integer' }] } }),
    { id: 1.5 },
    { id: 'must be a name or a number' },
  ),
  'thing.id must be a name or a number',
);
t.equal(
  reason(
    obj({ tags: { type: 'array', items: { type: 'string', maxLength: 2 } } }),
    { tags: ['abc'] },
    { tags: 'must be short codes' },
  ),
  'thing.tags[0] must be short codes',
  'a message for a list applies to its items',
);
t.equal(reason({ type: 'object' }, 'text'), 'thing must be an object');
t.equal(
  reason({ type: 'object', minProperties: 2 }, { a: 1 }),
  'thing must have at least 2 fields',
);
t.equal(formatReason('thing', []), 'thing is invalid');
t.equal(formatReason('thing', null), 'thing is invalid');
