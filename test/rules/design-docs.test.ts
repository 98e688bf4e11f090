import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { buildDesignDocs, designDocVersion, loadRules } from '../../server/rules/index.js';
import { syncRules } from '../../sync-rules/index.js';

const ruleSet = loadRules(syncRules);
const built = buildDesignDocs(ruleSet);

t.test('one _design/sawa per kind of database', async (t) => {
  t.same(Object.keys(built).sort(), ['private', 'team']);
  for (const [kind, docs] of Object.entries(built)) {
    t.equal(docs.length, 1);
    const [ddoc] = docs;
    t.match(ddoc, {
      _id: '_design/sawa',
      language: 'javascript',
      kind,
      version: /^[0-9a-f]{64}$/,
      validate_doc_update: /^function \(newDoc, oldDoc, userCtx, secObj\)/,
      views: {
        conflicts: { map: /^function \(doc\)/, reduce: '_count' },
        by_type_and_date: { map: /^function \(doc\)/, reduce: '_count' },
      },
    });
    t.same(JSON.parse(JSON.stringify(ddoc)), ddoc, 'plain JSON');
  }
});

t.test('version is the hash of the content', async (t) => {
  const [ddoc] = built.private;
  if (!ddoc) throw new Error('no ddoc');
  t.equal(ddoc.version, designDocVersion(ddoc));
  t.equal(designDocVersion({ ...ddoc, _rev: '7-x' }), ddoc.version, '_rev does not count');
  const reordered = Object.fromEntries(Object.entries(ddoc).reverse());
  t.equal(designDocVersion(reordered), ddoc.version, 'key order does not count');
  t.equal(buildDesignDocs(syncRules).private[0]?.version, ddoc.version, 'stable across builds');
  t.not(built.team[0]?.version, ddoc.version, 'private and team differ');

  const changed = syncRules.map((r) =>
    r.type === 'sms_request'
      ? {
          ...r,
          schema: {
            ...r.schema,
            properties: {
              ...(r.schema.properties as object),
              text: { type: 'string', minLength: 1, maxLength: 160 },
            },
          },
        }
      : r,
  );
  t.not(buildDesignDocs(changed).private[0]?.version, ddoc.version, 'a rule change changes it');
  t.not(designDocVersion({ ...ddoc, views: {} }), ddoc.version, 'a view change changes it');
});

t.test('scripts/build-design-docs.ts writes the same documents', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'sawa-ddocs-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const script = new URL('../../scripts/build-design-docs.ts', import.meta.url).pathname;
  await promisify(execFile)(process.execPath, ['--import', 'tsx', script, out]);
  for (const kind of ['private', 'team'] as const) {
    const written = JSON.parse(readFileSync(join(out, kind, 'sawa.json'), 'utf8'));
    t.same(written, built[kind][0], kind);
  }
});
