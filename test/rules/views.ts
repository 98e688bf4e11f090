import t from 'tap';
import { readDesignSource } from '../../server/rules/sources.js';
import {
  farmer,
  paymentRequest,
  paymentStatus,
  smsRequest,
  smsStatus,
  visit,
} from './fixtures/docs.js';

/** Each map function, run as CouchDB runs it: the file's function text with an `emit` in scope. */
function mapper(view: string) {
  const source = readDesignSource(`fleet/sawa/views/${view}/map.js`);
  return (doc: Record<string, unknown>) => {
    const rows: [unknown, unknown][] = [];
    const emit = (key: unknown, value: unknown) => rows.push([key, value]);
    const map = new Function('emit', `return (${source});`)(emit) as (d: unknown) => void;
    map(JSON.parse(JSON.stringify(doc)));
    return rows;
  };
}

t.test('conflicts', async (t) => {
  const map = mapper('conflicts');
  t.same(map(farmer({ _rev: '2-a' })), [], 'no conflicts, no row');
  t.same(map(farmer({ _rev: '2-a', _conflicts: [] })), []);
  t.same(map(farmer({ _rev: '2-a', _conflicts: ['2-b', '2-c'] })), [
    [['farmer', 'farmer-1'], { rev: '2-a', conflicts: ['2-b', '2-c'] }],
  ]);
  t.same(
    map({ _id: 'odd', _rev: '3-a', _conflicts: ['3-b'] }),
    [[[null, 'odd'], { rev: '3-a', conflicts: ['3-b'] }]],
    'a document without a type is still found',
  );
  t.equal(readDesignSource('fleet/sawa/views/conflicts/reduce.js'), '_count');
});

t.test('by_type_and_date', async (t) => {
  const map = mapper('by_type_and_date');
  t.same(
    map(visit({ visited_at: '2024-05-01T23:30:00+03:00', activity: 'survey' })),
    [[['visit', '2024-05-01', 'survey'], { _id: 'farmer-1' }]],
    'visits by the local day of visited_at; the value links the farmer',
  );
  t.same(map(farmer({ created_at: '2024-04-30T08:00:00+03:00' })), [
    [['farmer', '2024-04-30', 'Mbeya', 'Isyesye'], null],
  ]);
  t.same(map(paymentRequest({ provider: 'airtel', amount: 5000 })), [
    [['payment_request', '2024-05-01', 'airtel'], 5000],
  ]);
  t.same(map(paymentStatus({ status: 'failed', updated_at: '2024-05-03T10:00:00+03:00' })), [
    [['payment_status', '2024-05-03', 'mpesa', 'failed'], null],
  ]);
  t.same(map(smsRequest()), [[['sms_request', '2024-05-01'], null]]);
  t.same(map(smsStatus({ status: 'delivered' })), [
    [['sms_status', '2024-05-01', 'africastalking', 'delivered'], null],
  ]);
  t.same(
    map({ _id: 'x', type: 'harvest', created_at: '2024-06-01T00:00:00Z' }),
    [[['harvest', '2024-06-01'], null]],
    'other types count per day',
  );
  t.same(map(visit({ visited_at: 'not a date' })), [
    [['visit', null, 'training'], { _id: 'farmer-1' }],
  ]);
  t.same(map({ _id: 'untyped' }), [], 'untyped documents are not counted');
  t.equal(readDesignSource('fleet/sawa/views/by_type_and_date/reduce.js'), '_count');
});
