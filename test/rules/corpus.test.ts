import t from 'tap';
import type { UserCtx } from '../../server/rules/index.js';
import type { DatabaseKind } from '../../sync-rules/types.js';
import { engines } from './fixtures/engines.js';
import * as d from './fixtures/docs.js';
import { compileValidator } from '../../server/store/sandbox/validate.js';
import { loadEngine } from '../../server/store/sandbox/engine.js';

/**
 * The gateway and CouchDB must give the same answer, word for word, for every document. This
 * runs a corpus of valid documents and their broken variants, written by every kind of user,
 * as creates, updates and deletes, in both kinds of database, through both, and compares.
 */

type Doc = Record<string, unknown>;

const e = await engines();
t.teardown(() => e.dispose());

const factories = [d.farmer, d.visit, d.paymentRequest, d.smsRequest, d.paymentStatus, d.smsStatus];
const BAD_VALUES: unknown[] = [
  undefined,
  null,
  42,
  -1,
  2.5,
  '',
  'x'.repeat(2100),
  {},
  [],
  true,
  '+255712345678',
];

function variants(valid: Doc): Doc[] {
  const out: Doc[] = [valid, { ...valid, extra: 1 }, { ...valid, type: 'unknown' }];
  for (const key of Object.keys(valid)) {
    if (key === '_id') continue;
    for (const value of BAD_VALUES) {
      const doc = { ...valid };
      if (value === undefined) delete doc[key];
      else doc[key] = value;
      out.push(doc);
    }
  }
  out.push(
    { ...valid, location: { lat: -6.8, lon: 39.3 } },
    { ...valid, location: { lat: 1, lon: 0 } },
  );
  return out;
}

const users: UserCtx[] = [
  d.alice,
  d.bob,
  d.sam,
  d.ada,
  d.nobody,
  d.server,
  { name: null, roles: [] },
];
const kinds: DatabaseKind[] = ['private', 'team'];

const cases: { doc: Doc; old: Doc | null; user: UserCtx; kind: DatabaseKind }[] = [];
for (const make of factories) {
  const valid = make();
  const olds = [null, d.stored(valid), d.stored({ ...valid, owner: 'bob' })];
  for (const doc of variants(valid)) {
    for (const old of olds) {
      for (const user of users) {
        for (const kind of kinds) {
          const owned = old
            ? d.edited(doc)
            : { ...doc, owner: doc.owner === 'alice' ? user.name : doc.owner };
          cases.push({ doc: owned, old, user, kind });
        }
      }
    }
    if (olds[1])
      cases.push({ doc: d.tombstone(valid), old: olds[1], user: d.alice, kind: 'private' });
  }
}

t.test('gateway and validate_doc_update agree on every document', async (t) => {
  const mismatches: unknown[] = [];
  const reasons = new Set<string>();
  let accepted = 0;
  for (const c of cases) {
    const gateway = e.gateway(c.doc, c.old, c.user, c.kind);
    const couch = e.quickjs(c.doc, c.old, c.user, c.kind);
    if (gateway !== couch) mismatches.push({ ...c, gateway, couch });
    if (gateway === null) accepted++;
    else reasons.add(gateway);
  }
  t.same(mismatches.slice(0, 5), [], 'no disagreement');
  t.equal(mismatches.length, 0, `${cases.length} documents compared`);
  // A corpus only proves something if it exercises both answers and many reasons.
  t.ok(accepted > 100, `${accepted} accepted`);
  t.ok(cases.length - accepted > 5000, `${cases.length - accepted} refused`);
  t.ok(reasons.size > 100, `${reasons.size} distinct reasons`);
});

/**
 * The embedded store's sandbox (server/store/sandbox/validate.ts) runs
 * validate_doc_update for development and field-office boxes; it must agree as well.
 */
t.test('the embedded store agrees too', async (t) => {
  await loadEngine();
  const compiled = {
    private: compileValidator(e.source('private'), '_design/sawa'),
    team: compileValidator(e.source('team'), '_design/sawa'),
  };
  t.teardown(() => Object.values(compiled).forEach((v) => v.dispose()));
  const mismatches: unknown[] = [];
  for (const c of cases.filter((_, i) => i % 7 === 0)) {
    const user = { db: 'userdb-616c696365', ...c.user };
    const store = compiled[c.kind].run(c.doc, c.old, user, { members: { names: [], roles: [] } });
    const gateway = e.gateway(c.doc, c.old, c.user, c.kind);
    if ((store?.reason ?? null) !== gateway) mismatches.push({ ...c, gateway, store });
  }
  t.same(mismatches.slice(0, 5), [], 'no disagreement');
});
