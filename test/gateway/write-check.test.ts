import t from 'tap';
import { createWriteChecker, loadSyncRules } from '../../server/rules/index.js';
import { mergeResults } from '../../server/gateway/merge.js';
import {
  baseQuery,
  judgeWrites,
  type BaseQuery,
  type Doc,
} from '../../server/gateway/write-check.js';
import { farmer } from './helper.js';

const checker = createWriteChecker(loadSyncRules());
const ctx = {
  checker,
  userCtx: { name: 'amina', roles: ['agent'], db: 'userdb-616d696e61' },
  kind: 'private' as const,
};

t.test('the base revision of a write', async (t) => {
  t.same(baseQuery({ _id: 'a', _rev: '2-x' }, true), { id: 'a', ancestors: ['2-x'], exact: true });
  t.equal(baseQuery({ _id: 'a' }, true), null, 'interactive create');
  t.same(
    baseQuery(
      { _id: 'a', _rev: '4-d', _revisions: { start: 4, ids: ['d', 'c', 'b', 'a'] } },
      false,
    ),
    { id: 'a', rev: '4-d', ancestors: ['3-c', '2-b', '1-a'], exact: false },
    'replicated: every ancestor, nearest first',
  );
  t.same(baseQuery({ _id: 'a', _rev: '1-a', _revisions: { start: 1, ids: ['a'] } }, false), {
    id: 'a',
    rev: '1-a',
    ancestors: [],
    exact: false,
  });
  t.same(
    baseQuery({ _id: 'a', _rev: '3-c' }, false),
    { id: 'a', rev: '3-c', ancestors: [], exact: false },
    'no history: the server may still have that revision, or the document',
  );
  t.equal(baseQuery({ _rev: '1-a' }, true), null);
});

t.test('judged in one batch, in order, _local documents skipped', async (t) => {
  const stored = farmer('amina', 'f1', { _rev: '1-a' });
  const asked: BaseQuery[][] = [];
  const load = async (qs: BaseQuery[]) => {
    asked.push(qs);
    return qs.map((q) => ({ kind: 'base' as const, doc: q.id === 'f1' ? stored : null }));
  };
  const docs: Doc[] = [
    farmer('amina', 'f0'),
    {
      ...farmer('amina', 'f1'),
      owner: 'baraka',
      _rev: '2-b',
      _revisions: { start: 2, ids: ['b', 'a'] },
    },
    { _id: '_local/checkpoint', last_seq: '5' },
    { ...farmer('amina', 'f2'), phone: 'nope' },
    { _id: '_design/evil', validate_doc_update: 'function(){}' },
  ];
  const verdicts = await judgeWrites(docs, false, ctx, load);
  t.equal(asked.length, 1, 'one read for the whole batch');
  t.same(
    asked[0]?.map((q) => q.id),
    ['f1'],
    'only writes with a history need their base',
  );
  t.equal(verdicts[0], null);
  t.match(verdicts[1], { status: 403, error: 'forbidden', reason: 'owner cannot change' });
  t.equal(verdicts[2], null, '_local is not validated');
  t.match(verdicts[3], { error: 'forbidden', reason: /farmer\.phone must be an E\.164 number/ });
  t.match(verdicts[4], { reason: 'only server admins may change design documents' });
});

t.test('results merged back into request order', async (t) => {
  const docs: Doc[] = [
    { _id: 'a', _rev: '1-a' },
    { _id: 'b', _rev: '1-b' },
    { _id: 'c', _rev: '1-c' },
    { _id: 'd', _rev: '1-d' },
  ];
  const no = { status: 403 as const, error: 'forbidden' as const, reason: 'no' };
  const verdicts = [null, no, null, no];
  t.same(
    mergeResults(docs, verdicts, true, [
      { ok: true, id: 'a', rev: '1-a' },
      { id: 'c', error: 'conflict', reason: 'Document update conflict.' },
    ]),
    [
      { ok: true, id: 'a', rev: '1-a' },
      { id: 'b', error: 'forbidden', reason: 'no' },
      { id: 'c', error: 'conflict', reason: 'Document update conflict.' },
      { id: 'd', error: 'forbidden', reason: 'no' },
    ],
    'interactive: one entry per document',
  );
  t.same(
    mergeResults(docs, verdicts, false, [
      { id: 'c', rev: '1-c', error: 'forbidden', reason: 'vdu' },
    ]),
    [
      { id: 'b', rev: '1-b', error: 'forbidden', reason: 'no' },
      { id: 'c', rev: '1-c', error: 'forbidden', reason: 'vdu' },
      { id: 'd', rev: '1-d', error: 'forbidden', reason: 'no' },
    ],
    'replicated: failures only, in request order',
  );
  t.same(mergeResults(docs, [null, null, null, null], false, []), [], 'all stored: []');
});
