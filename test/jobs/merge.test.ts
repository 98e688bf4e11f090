import t from 'tap';
import { threeWayMerge } from '../../server/jobs/reconcile/merge.js';
import { byTime, plan } from '../../server/jobs/reconcile/decide.js';
import { commonAncestor, type Leaf } from '../../server/conflicts/leaves.js';

const b = (rev: string, body: Record<string, unknown>) => ({ rev, body });

t.test('three-way merge', async (t) => {
  const ancestor = {
    name: 'Asha',
    village: 'Mvomero',
    acres: 2,
    location: { lat: -6.8, lon: 37.6 },
    tags: ['a'],
  };
  const newest = {
    ...ancestor,
    village: 'Kilosa',
    location: { lat: -6.9, lon: 37.6 },
    tags: ['a', 'b'],
  };
  const older = {
    ...ancestor,
    name: 'Asha M.',
    acres: 3,
    location: { lat: -6.8, lon: 37.7 },
    tags: ['c'],
  };
  const { body, contested } = threeWayMerge(ancestor, [b('3-new', newest), b('3-old', older)]);
  t.same(body, {
    name: 'Asha M.', // one branch changed it
    village: 'Kilosa', // one branch changed it
    acres: 3,
    location: { lat: -6.9, lon: 37.7 }, // objects merge key by key
    tags: ['a', 'b'], // arrays are whole values: the newest change wins
  });
  t.same(contested, { tags: '3-new' });
});

t.test('a removal is a change; the same change on both branches is no contest', async (t) => {
  const ancestor = { a: 1, b: 2, c: 3 };
  const { body, contested } = threeWayMerge(ancestor, [
    b('2-x', { a: 1, c: 4 }), // removed b, changed c
    b('2-y', { a: 9, b: 2, c: 4 }), // changed a, changed c the same way
  ]);
  t.same(body, { a: 9, c: 4 });
  t.same(contested, {});
});

t.test(
  'no ancestor: fields only one branch has are kept, disagreements go to the newest',
  async (t) => {
    const { body, contested } = threeWayMerge(null, [
      b('2-x', { name: 'Newer', phone: '+255712000001' }),
      b('2-y', { name: 'Older', village: 'Gairo' }),
    ]);
    t.same(body, { name: 'Newer', phone: '+255712000001', village: 'Gairo' });
    t.same(contested, { name: '2-x' });
  },
);

t.test('CouchDB fields are not merged', async (t) => {
  const { body } = threeWayMerge({ _id: 'x', _rev: '1-a', n: 1 }, [
    b('2-b', { _id: 'x', _rev: '2-b', n: 2 }),
    b('2-c', { _id: 'x', _rev: '2-c', _attachments: {}, n: 1 }),
  ]);
  t.same(body, { n: 2 });
});

const leaf = (rev: string, body: Record<string, unknown>, history: string[] = [rev]): Leaf => ({
  rev,
  pos: Number.parseInt(rev, 10),
  deleted: false,
  body: { _id: 'd', _rev: rev, ...body },
  history,
});

t.test(
  'ranking: dates compared as instants, ties and bad dates decided the same everywhere',
  async (t) => {
    const leaves = [
      leaf('2-aaa', { updated_at: '2024-05-01T10:00:00+03:00' }), // 07:00Z
      leaf('2-bbb', { updated_at: '2024-05-01T08:00:00Z' }),
      leaf('3-ccc', { updated_at: 'yesterday' }),
      leaf('2-ddd', { updated_at: '2024-05-01T08:00:00Z' }),
    ];
    t.same(
      byTime(leaves, 'updated_at', 'newest').map((l) => l.rev),
      ['2-ddd', '2-bbb', '2-aaa', '3-ccc'],
    );
    t.same(
      byTime(leaves, 'updated_at', 'earliest').map((l) => l.rev),
      ['2-aaa', '2-ddd', '2-bbb', '3-ccc'],
    );
    t.same(
      byTime([...leaves].reverse(), 'updated_at', 'newest').map((l) => l.rev),
      ['2-ddd', '2-bbb', '2-aaa', '3-ccc'],
      'the order given does not matter',
    );
  },
);

t.test('plans', async (t) => {
  const how = (strategy: 'last-write-wins' | 'field-merge' | 'immutable') => ({
    strategy,
    field: strategy === 'immutable' ? 'created_at' : 'updated_at',
    ruleHash: 'h',
  });
  const a = leaf(
    '2-a',
    { n: 1, created_at: '2024-01-02T00:00:00Z', updated_at: '2024-01-05T00:00:00Z' },
    ['2-a', '1-r'],
  );
  const c = leaf(
    '3-c',
    { n: 2, created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-04T00:00:00Z' },
    ['3-c', '2-q', '1-r'],
  );
  t.match(plan(how('last-write-wins'), [c, a]), {
    keep: { rev: '2-a' },
    losers: [{ rev: '3-c' }],
    merged: undefined,
  });
  t.match(plan(how('immutable'), [a, c]), { keep: { rev: '3-c' }, losers: [{ rev: '2-a' }] });
  t.equal(commonAncestor([a, c]), '1-r');
  const ancestor = { n: 0, created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-01T00:00:00Z' };
  const c2 = leaf(
    '3-c',
    { ...c.body, _rev: '3-c', created_at: ancestor.created_at, phone: 'p' },
    c.history,
  );
  const merged = plan(how('field-merge'), [a, c2], {
    rev: '1-r',
    body: { ...ancestor, village: 'Mvomero' },
  });
  t.match(merged, {
    keep: { rev: '2-a' },
    losers: [{ rev: '3-c' }],
    merged: {
      _id: 'd',
      n: 1,
      created_at: '2024-01-02T00:00:00Z',
      updated_at: '2024-01-05T00:00:00Z',
      phone: 'p',
    },
    contested: { n: '2-a', updated_at: '2-a' },
    ancestor: '1-r',
  });
  t.notOk('village' in (merged.merged ?? {}), 'removed on both branches: stays removed');
  t.match(
    merged.reason,
    'merged 2 branches against ancestor 1-r; newest updated_at took n, updated_at',
  );
  t.notOk(merged.merged?._rev, 'the caller sets _rev: the merge goes on top of keep');
  const same = plan(
    how('field-merge'),
    [a, leaf('2-b', { ...a.body, _rev: '2-b' }, ['2-b', '1-r'])],
    {
      rev: '1-r',
      body: { n: 0 },
    },
  );
  t.equal(same.merged, undefined, 'nothing to write when the merge equals the kept leaf');
});
