import t from 'tap';
import { usernameProblem } from '../../server/accounts/usernames.js';
import { userDbName, userFromDbName } from '../../server/provisioning/names.js';

t.test('valid names', async (t) => {
  for (const name of [
    'a',
    'amina',
    'juma.mwita',
    'agent_07',
    'mama-neema',
    'x+y',
    '+255712345678',
    '+1234567',
    'a'.repeat(64),
  ]) {
    t.equal(usernameProblem(name), null, name);
    t.equal(
      userFromDbName(userDbName(name)),
      name,
      `${name} round-trips through its database name`,
    );
  }
  t.equal(
    userDbName('+255712345678'),
    'userdb-2b323535373132333435363738',
    'hex of the UTF-8 name',
  );
});

t.test('each refusal says what is wrong', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['', /must not be empty/],
    ['a'.repeat(65), /at most 64 characters/],
    ['Amina', /lower-case.*use "amina"/],
    ['ADMIN', /lower-case \(upper-case letters are refused, not converted\)$/],
    ['ａdmin', /"ａ" \(U\+FF41\) is not allowed/],
    ['amína', /"í" \(U\+00ED\) is not allowed/],
    ['ami\u0301na', /U\+0301/],
    ['ali\u0000ce', /"\\u0000" \(U\+0000\) is not allowed/],
    ['a/b', /"\/" \(U\+002F\) is not allowed/],
    ['a b', /" " \(U\+0020\) is not allowed/],
    ['alice\u200b', /U\+200B/],
    ['..', /must start with a letter/],
    ['a..b', /must not contain "\.\."/],
    ['_admin', /"_" \(U\+005F\)|must start with a letter/],
    ['_users', /must start with a letter/],
    ['1abc', /must start with a letter/],
    ['-abc', /must start with a letter/],
    ['+255', /E\.164/],
    ['+0255712345678', /E\.164/],
    ['+2557123456789012', /E\.164/],
    ['+255-712-345', /E\.164/],
    ['admin', /reserved/],
    ['root', /reserved/],
  ];
  for (const [name, message] of cases) {
    t.match(usernameProblem(name), message, JSON.stringify(name));
  }
});

t.test('reserved names are allowed where an admin gives them out', async (t) => {
  t.equal(usernameProblem('admin', { allowReserved: true }), null);
  t.match(usernameProblem('Admin', { allowReserved: true }), /use "admin"/);
});
