import fc from 'fast-check';
import { farmer, paymentRequest } from '../gateway/helper.js';

/**
 * Generators for what a hostile phone can send: documents with CouchDB's special members
 * bent every way, ids that are also JavaScript's own property names, query strings and
 * headers. `FUZZ_RUNS` sets how many requests each property sends (`npm run fuzz`).
 */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
/** `FUZZ_SEED` (and `FUZZ_PATH`) replay a reported failure. */
export const fuzzOptions = {
  numRuns: RUNS,
  endOnFailure: true,
  ...(process.env.FUZZ_SEED && { seed: Number(process.env.FUZZ_SEED) }),
  ...(process.env.FUZZ_PATH && { path: process.env.FUZZ_PATH }),
} as const;

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

/** Phone numbers as people type them, and not. */
const phoneish = fc.oneof(
  {
    arbitrary: fc.constantFrom('0712345678', '+255712345678', '255712345678', '+254712345678'),
    weight: 4,
  },
  { arbitrary: fc.stringMatching(/^\+?[0-9 ()-]{0,18}$/), weight: 2 },
  { arbitrary: json, weight: 1 },
);

/** A body for one of the public, unauthenticated routes: sign-in by SMS and provider callbacks. */
export function publicBody(route: string) {
  const field = (values: fc.Arbitrary<unknown>) =>
    fc.oneof({ arbitrary: values, weight: 5 }, { arbitrary: json, weight: 1 });
  // Mostly the keys the route needs (so the handling behind validation is reached), or any.
  const shaped = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }, required: Array<keyof T>) =>
    fc.oneof(
      { arbitrary: fc.record(model, { requiredKeys: required }), weight: 4 },
      { arbitrary: fc.record(model, { requiredKeys: [] }), weight: 1 },
    );
  const words = fc.oneof(
    fc.constantFrom('Success', 'Failed', 'Buffered', 'DELIVERED', 'INS-0', 'INS-6', 'success'),
    fc.string({ maxLength: 12 }),
  );
  const shapes: Record<string, fc.Arbitrary<unknown>> = {
    'otp-request': fc.oneof(
      { arbitrary: fc.record({ phone: phoneish }), weight: 4 },
      { arbitrary: fc.record({ phone: phoneish, extra: json }, { requiredKeys: [] }), weight: 1 },
    ),
    'otp-verify': shaped(
      {
        phone: phoneish,
        code: field(fc.oneof(fc.stringMatching(/^[0-9]{6}$/), fc.string({ maxLength: 8 }))),
      },
      ['phone', 'code'],
    ),
    africastalking: shaped(
      {
        id: field(fc.string({ maxLength: 30 })),
        status: field(words),
        phoneNumber: phoneish,
        networkCode: field(fc.string({ maxLength: 6 })),
        failureReason: field(fc.string({ maxLength: 20 })),
        retryCount: field(fc.string({ maxLength: 3 })),
      },
      ['id', 'status'],
    ),
    beem: shaped(
      {
        request_id: field(fc.oneof(fc.integer(), fc.string({ maxLength: 12 }))),
        recipient_id: field(fc.oneof(fc.integer(), fc.string({ maxLength: 12 }))),
        dest_addr: phoneish,
        status: field(words),
      },
      ['request_id', 'status'],
    ),
    mpesa: shaped(
      {
        input_OriginalConversationID: field(fc.string({ maxLength: 32 })),
        input_TransactionID: field(fc.string({ maxLength: 12 })),
        input_ResultCode: field(words),
        input_ResultDesc: field(fc.string({ maxLength: 20 })),
        input_ThirdPartyConversationID: field(
          fc.oneof(fc.stringMatching(/^sawa[0-9a-f]{32}$/), fc.string({ maxLength: 40 })),
        ),
      },
      ['input_ResultCode', 'input_ThirdPartyConversationID'],
    ),
    azampay: shaped(
      {
        utilityref: field(
          fc.oneof(fc.stringMatching(/^sawa-[0-9a-f]{32}$/), fc.string({ maxLength: 40 })),
        ),
        transactionstatus: field(words),
        reference: field(fc.string({ maxLength: 20 })),
        msisdn: phoneish,
        amount: field(fc.string({ maxLength: 8 })),
      },
      ['utilityref', 'transactionstatus'],
    ),
  };
  return shapes[route] ?? json;
}

/** A body as JSON, as a form, or as bytes that are neither. */
export const encoding = fc.oneof(
  { arbitrary: fc.constant('json'), weight: 3 },
  { arbitrary: fc.constantFrom('form', 'garbage'), weight: 1 },
);

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
