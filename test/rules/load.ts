import t, { type Test } from 'tap';
import { loadRules, RulesError } from '../../server/rules/index.js';
import { syncRules } from '../../sync-rules/index.js';
import { farmer as farmerRule } from '../../sync-rules/farmer.js';
import type { SyncRule } from '../../sync-rules/types.js';

/** The problems loadRules reports for `rules`; fails the test if it does not throw RulesError. */
function problems(t: Test, rules: readonly unknown[]): readonly string[] {
  try {
    loadRules(rules);
  } catch (err) {
    t.type(err, RulesError);
    const e = err as RulesError;
    t.equal(e.code, 'SAWA_INVALID_RULES');
    for (const p of e.problems) t.ok(e.message.includes(p), 'the message lists every problem');
    return e.problems;
  }
  t.fail('expected a RulesError');
  return [];
}

const withSchema = (props: Record<string, unknown>, extra: Partial<SyncRule> = {}): SyncRule => ({
  ...farmerRule,
  ...extra,
  schema: {
    ...farmerRule.schema,
    properties: { ...(farmerRule.schema.properties as object), ...props },
  },
});

t.test('the reference rules load', async (t) => {
  const set = loadRules(syncRules);
  t.same(set.types, [
    'farmer',
    'visit',
    'payment_request',
    'sms_request',
    'payment_status',
    'sms_status',
    'sawa_purge',
    'payment_approval',
  ]);
  t.equal(set.rule('visit')?.conflict.strategy, 'append-only');
  t.equal(set.rule('nope'), undefined);
});

t.test('an empty or malformed rule set', async (t) => {
  t.same(problems(t, []), ['the rule set must be a non-empty list of rules']);
  t.same(problems(t, [null]), ['rule #1 must be an object']);
});

t.test('the shape of a rule', async (t) => {
  const bad = {
    ...farmerRule,
    conflict: { strategy: 'newest-wins' },
    roles: { ...farmerRule.roles, create: ['agent', 'boss'] },
    immutable: 'some',
    retention: { ...farmerRule.retention, phoneDays: -3 },
  };
  const [p] = problems(t, [bad]);
  t.match(
    p,
    'rule farmer.conflict.strategy must be one of last-write-wins, field-merge, immutable, append-only, manual',
  );
  t.match(p, 'rule farmer.roles.create[1] must be one of agent, supervisor, admin');
  t.match(p, 'rule farmer.immutable must be "all" or a list of field names');
  t.match(p, 'rule farmer.retention.phoneDays must be a whole number of days or "forever"');
  const { ownerField: _o, ...noOwner } = farmerRule;
  t.same(problems(t, [noOwner]), ['rule farmer.ownerField is required']);
  t.same(problems(t, [{ ...farmerRule, colour: 'red' }]), [
    'rule farmer.colour is not an allowed field',
  ]);
});

t.test('types are unique', async (t) => {
  t.same(problems(t, [farmerRule, farmerRule]), [
    'rule farmer: type "farmer" is defined more than once',
  ]);
});

t.test('schemas must compile', async (t) => {
  t.match(problems(t, [withSchema({ name: { type: 'string', minLenght: 1 } })]), [
    /^rule farmer: schema does not compile: strict mode: unknown keyword: "minLenght"/,
  ]);
  t.match(problems(t, [withSchema({ phone: { type: 'string', format: 'phone' } })]), [
    /^rule farmer: schema does not compile: unknown format "phone"/,
  ]);
});

t.test('fields a rule names must exist', async (t) => {
  const rule: SyncRule = {
    ...farmerRule,
    immutable: ['owner', 'birthday'],
    personalData: ['name', 'national_id'],
    messages: { nmae: 'must be a name' },
    ownerField: 'author',
    retention: { ...farmerRule.retention, from: 'name' },
  };
  t.same(problems(t, [rule]), [
    'rule farmer: ownerField "author" must be a required string in the schema',
    'rule farmer: immutable field "birthday" is not in the schema',
    'rule farmer: personal data field "national_id" is not in the schema',
    'rule farmer: message for field "nmae" is not in the schema',
    'rule farmer: retention.from "name" must be a date-time',
  ]);
});

t.test('settings must agree with each other', async (t) => {
  t.same(problems(t, [{ ...farmerRule, conflict: { strategy: 'last-write-wins' } }]), [
    'rule farmer: conflict strategy last-write-wins needs conflict.field, a date-time field',
  ]);
  t.same(
    problems(t, [{ ...farmerRule, conflict: { strategy: 'append-only', field: 'created_at' } }]),
    ['rule farmer: conflict strategy append-only needs immutable: "all" (edits would be lost)'],
  );
  t.same(problems(t, [{ ...farmerRule, immutable: 'all' }]), [
    'rule farmer: roles.update must be empty when immutable is "all"',
  ]);
  t.same(
    problems(t, [{ ...farmerRule, writer: 'server', roles: { ...farmerRule.roles, update: [] } }]),
    [
      'rule farmer: roles.create must be empty: only the server writes farmer',
      'rule farmer: roles.delete must be empty: only the server writes farmer',
      'rule farmer: roles.anyOwner must be empty: only the server writes farmer',
    ],
  );
  t.same(
    problems(t, [
      { ...farmerRule, retention: { phoneDays: 30, serverDays: 7, from: 'created_at' } },
    ]),
    ['rule farmer: retention.phoneDays must not exceed retention.serverDays'],
  );
  t.match(problems(t, [{ ...farmerRule, idPattern: { pattern: '^farmer:(', description: 'x' } }]), [
    /^rule farmer: idPattern\.pattern is not a valid regular expression/,
  ]);
  t.same(
    problems(t, [{ ...farmerRule, schema: { ...farmerRule.schema, patternProperties: {} } }]),
    [`rule farmer: schema refuses CouchDB's own fields: add patternProperties { "^_": true }`],
  );
  t.same(problems(t, [withSchema({ type: { const: 'farmers' } })]), [
    'rule farmer: schema must require "type" with { const: "farmer" }',
  ]);
});

t.test('every bad rule is reported at once', async (t) => {
  const list = problems(t, [
    { ...farmerRule, conflict: { strategy: 'last-write-wins' } },
    { ...syncRules[1], type: 'Visit' },
    ...syncRules.slice(2),
  ]);
  t.equal(list.length, 2);
  t.match(list[1], /^rule Visit\.type must match the pattern/);
});
