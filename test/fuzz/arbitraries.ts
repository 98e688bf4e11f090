import fc from 'fast-check';
import { farmer, paymentRequest } from '../gateway/helper.js';

/**
 * Generators for what a hostile phone can send: documents with CouchDB's special members
 * bent every way, ids that are also JavaScript's own property names, query strings and
 * headers. `FUZZ_RUNS` sets how many requests each property sends (`npm run fuzz`).
 */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
export const fuzzOptions = { numRuns: RUNS, endOnFailure: true } as const;

const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

export const docId = fc.oneof(
  fc.constantFrom(...PROTO_NAMES, 'pay-0', 'farmer-1', '_local/x', '_design/x', '_bad', ''),
  fc.string({ maxLength: 12 }),
);

const key = fc.oneof(fc.constantFrom(...PROTO_NAMES, 'type', 'owner'), fc.string({ maxLength: 8 }));
const json = fc.jsonValue({ maxDepth: 3 });

export const attachment = fc.oneof(
  json,
  fc.constant({ follows: true }),
  fc.record(
    {
      data: fc.oneof(fc.base64String({ maxLength: 16 }), json),
      content_type: fc.oneof(fc.constantFrom('text/plain', 'image/jpeg'), json),
      stub: fc.oneof(fc.boolean(), json),
      digest: fc.oneof(fc.constant('md5-XrY7u+Ae7tCTyyK7j1rNww=='), json),
      length: json,
      revpos: json,
      follows: json,
    },
    { requiredKeys: [] },
  ),
);

const hash = fc.oneof(fc.stringMatching(/^[0-9a-f]{1,8}$/), json);
export const revisions = fc.oneof(
  json,
  fc.record(
    {
      start: fc.oneof(fc.integer({ min: -1, max: 6 }), json),
      ids: fc.oneof(fc.array(hash, { maxLength: 6 }), json),
    },
    { requiredKeys: [] },
  ),
);

export const rev = fc.oneof(
  fc.stringMatching(/^[1-6]-[0-9a-f]{1,8}$/),
  fc.constantFrom('1-', '-1-a', '0-a', 'x'),
  json,
);

/** A farmer or payment_request of `owner`, valid or not, with members added and bent. */
export function document(owner: string) {
  const base = fc.constantFrom(
    farmer(owner, 'farmer-1'),
    paymentRequest(owner, 'pay-1'),
    {} as Record<string, unknown>,
  );
  const extra = fc.record(
    {
      _id: fc.oneof(docId, json),
      _rev: rev,
      _revisions: revisions,
      _deleted: fc.oneof(fc.boolean(), json),
      _attachments: fc.oneof(fc.dictionary(fc.oneof(key, fc.string()), attachment), json),
      _conflicts: json,
      _other: json,
      owner: fc.oneof(fc.constant(owner), json),
      amount: json,
      type: json,
    },
    { requiredKeys: [] },
  );
  return fc
    .tuple(base, extra, fc.dictionary(key, json, { maxKeys: 3 }))
    .map(([b, e, more]) => ({ ...b, ...more, ...e }));
}

export const newEdits = fc.oneof(fc.boolean(), json);

const PARAMS = [
  'new_edits',
  'rev',
  'revs',
  'open_revs',
  'conflicts',
  'attachments',
  'latest',
  'batch',
  'keys',
  'key',
  'startkey',
  'limit',
  'include_docs',
  'revs_info',
  'atts_since',
];
export const query = fc
  .array(
    fc.tuple(
      fc.constantFrom(...PARAMS),
      fc.oneof(
        fc.constantFrom('true', 'false', '0', '-1', '[]', '["a"]', 'all', '"x"', '1-a'),
        fc.string({ maxLength: 8 }),
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => new URLSearchParams(pairs).toString());

export const headers = fc.record(
  {
    'content-type': fc.constantFrom(
      'application/json',
      'text/plain',
      'multipart/related; boundary=x',
      'application/json; charset=latin1',
    ),
    'if-match': fc.oneof(fc.constantFrom('"1-a"', '*'), fc.string({ maxLength: 8 })),
    accept: fc.constantFrom('application/json', 'multipart/mixed', '*/*', 'text/html'),
    'x-sawa-device': fc.string({ maxLength: 40 }),
    'content-encoding': fc.constantFrom('identity', 'gzip', 'br'),
  },
  { requiredKeys: [] },
);

/** Header values fetch accepts (no control characters or non-Latin-1). */
export function sendable(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).filter(([, v]) => /^[\x20-\x7e]*$/.test(v)));
}

const STAFF_PARAMS = [
  'limit',
  'after',
  'cursor',
  'actor',
  'subject',
  'action',
  'since',
  'until',
  'x',
];
/** Query strings for the staff routes (sync health, operations, audit): their own parameters. */
export const staffQuery = fc
  .array(
    fc.tuple(
      fc.constantFrom(...STAFF_PARAMS),
      fc.oneof(
        fc.constantFrom('0', '1', '200', '201', '999', '-1', '1e3', '', 'null', '2026-01-01'),
        fc.constantFrom('2026-01-01T00:00:00.000Z:0123456789ab', '__proto__', 'a'.repeat(300)),
        fc.string({ maxLength: 12 }),
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => new URLSearchParams(pairs).toString());

/** Bodies for the privacy routes: mostly near the `{ "reason": "…" }` they take. */
export const reasonBody = fc.oneof(
  fc.record({ reason: fc.oneof(fc.string({ maxLength: 20 }), json) }, { requiredKeys: [] }),
  fc.record({ reason: fc.string({ minLength: 490, maxLength: 510 }), extra: json }),
  json,
);
