import t from 'tap';
import { aggregatesDesignDoc } from '../../server/jobs/aggregate/aggregates-db.js';
import { factsOf, sharesOf, type Facts } from '../../server/jobs/aggregate/rollups.js';

/** Each view's map function, run as CouchDB runs it: the file's text with an `emit` in scope. */
function mapper(view: string) {
  const source = (aggregatesDesignDoc().views[view] as { map: string }).map;
  return (doc: Record<string, unknown>) => {
    const rows: [unknown, unknown][] = [];
    const emit = (key: unknown, value: unknown) => rows.push([key, value]);
    const map = new Function('emit', `return (${source});`)(emit) as (d: unknown) => void;
    map(JSON.parse(JSON.stringify(doc)));
    return rows;
  };
}

const contribution = {
  kind: 'contribution',
  db: 'userdb-61',
  doc_id: 'v1',
  facts: { type: 'visit', day: '2024-05-01', activity: 'survey', farmer_id: 'f1' },
  link: 'f1',
  buckets: [{ key: ['visits', 'userdb-61', '2024-05-01', 'Mbeya', 'survey'], value: [1, 0] }],
};
const bucket = {
  kind: 'bucket',
  report: 'visits',
  scope: 'userdb-61',
  day: '2024-05-01',
  dims: { district: 'Mbeya', activity: 'survey' },
  count: 2,
  amount: 0,
};

t.test('views', async (t) => {
  t.same(mapper('scopes')(contribution), [['userdb-61', null]]);
  t.same(mapper('rows')(bucket), [
    [['visits', '2024-05-01'], { scope: 'userdb-61', dims: bucket.dims, count: 2, amount: 0 }],
  ]);
  t.same(mapper('scopes')(bucket), [], 'scopes ignores buckets');
  t.same(mapper('rows')(contribution), [], 'rows ignores contributions');
  // Bucket values and links are kept in documents read by id (buckets.ts, linkers.ts): a
  // view read right after a write may miss it on a cluster.
  t.same(Object.keys(aggregatesDesignDoc().views).sort(), ['rows', 'scopes']);
});

t.test('rollups', async (t) => {
  const none = { facts: () => null, linkers: () => [] };
  t.equal(
    factsOf({ type: 'sms_request', created_at: '2024-05-01T00:00:00Z' }),
    null,
    'other types count nowhere',
  );
  t.equal(
    factsOf({ type: 'visit', activity: 'survey' }),
    null,
    'incomplete documents count nowhere',
  );
  const visit = factsOf({
    type: 'visit',
    visited_at: '2024-05-01T23:30:00+03:00',
    activity: 'survey',
    farmer_id: 'f1',
  })!;
  t.same(
    sharesOf('s', 'v1', visit, none),
    [{ key: ['visits', 's', '2024-05-01', '(unknown)', 'survey'], value: [1, 0] }],
    'the local day; no farmer: (unknown)',
  );
  const request = factsOf({
    type: 'payment_request',
    created_at: '2024-05-01T08:00:00+03:00',
    provider: 'mpesa',
    amount: 5000,
  })!;
  const status = (s: string, at: string): Facts => ({
    type: 'payment_status',
    request_id: 'p1',
    status: s,
    updated_at: at,
  });
  t.same(sharesOf('s', 'p1', request, none)[0]!.key.at(-1), 'pending');
  const two = {
    facts: () => null,
    linkers: () => [
      { id: 'a', facts: status('failed', '2024-05-01T10:00:00Z') },
      { id: 'b', facts: status('succeeded', '2024-05-02T10:00:00Z') },
    ],
  };
  t.same(
    sharesOf('s', 'p1', request, two),
    [{ key: ['payments', 's', '2024-05-01', 'mpesa', 'succeeded'], value: [1, 5000] }],
    'the newest status wins',
  );
  t.same(
    sharesOf('s', 'x', status('failed', ''), none),
    [],
    'a status counts through its request only',
  );
});
