import t from 'tap';
import { unique } from '../helpers/fixtures.js';
import { setup } from './helper.js';

t.test('password change and admin reset', async (t) => {
  const s = await setup(t);
  const boss = await s.user(unique('boss'), ['admin']);

  await t.test('POST /me/password: old password needed; other sessions end', async (t) => {
    const phone = await s.user(unique('amina'), ['agent'], 'first-password');
    const tablet = (
      await s.call('POST', '/auth/login', { username: phone.name, password: 'first-password' })
    ).body;

    const wrong = await s.call(
      'POST',
      '/me/password',
      { old_password: 'not-it-at-all', new_password: 'second-password' },
      phone.access_token,
    );
    t.equal(wrong.status, 401);
    t.equal(wrong.body.code, 'SAWA_BAD_CREDENTIALS');
    const weak = await s.call(
      'POST',
      '/me/password',
      { old_password: 'first-password', new_password: 'short' },
      phone.access_token,
    );
    t.equal(weak.status, 400);
    t.equal(weak.body.code, 'SAWA_WEAK_PASSWORD');

    const ok = await s.call(
      'POST',
      '/me/password',
      { old_password: 'first-password', new_password: 'second-password' },
      phone.access_token,
    );
    t.equal(ok.status, 200, JSON.stringify(ok.body));
    t.same(ok.body, { ok: true, sessions_revoked: 1 });

    t.equal(
      (await s.call('GET', '/me', undefined, phone.access_token)).status,
      200,
      'this one lives',
    );
    const phoneRefresh = await s.call('POST', '/auth/refresh', {
      refresh_token: phone.refresh_token,
    });
    t.equal(phoneRefresh.status, 200, "this session's refresh token still works");
    const tabletMe = await s.call('GET', '/me', undefined, tablet.access_token);
    t.equal(tabletMe.status, 401, "the other session's access token is refused at once");
    const tabletRefresh = await s.call('POST', '/auth/refresh', {
      refresh_token: tablet.refresh_token,
    });
    t.equal(tabletRefresh.status, 401, 'and its refresh token too');
    const tabletSync = await s.call(
      'GET',
      `/sync/${tablet.dbs.user}`,
      undefined,
      tablet.access_token,
    );
    t.equal(tabletSync.status, 401, 'the gateway refuses it as well');

    t.equal(
      (await s.call('POST', '/auth/login', { username: phone.name, password: 'first-password' }))
        .status,
      401,
    );
    t.equal(
      (await s.call('POST', '/auth/login', { username: phone.name, password: 'second-password' }))
        .status,
      200,
    );
  });

  await t.test('admin reset: every session ends, a change is forced', async (t) => {
    const baraka = await s.user(unique('baraka'), ['agent'], 'baraka-password');
    const reset = await s.call(
      'POST',
      `/admin/users/${baraka.name}/password`,
      { password: 'temporary-pass' },
      boss.access_token,
    );
    t.equal(reset.status, 200, JSON.stringify(reset.body));
    t.equal(reset.body.password_change_required, true);
    t.equal((await s.call('GET', '/me', undefined, baraka.access_token)).status, 401);
    t.equal(
      (await s.call('POST', '/auth/refresh', { refresh_token: baraka.refresh_token })).status,
      401,
    );

    const login = await s.call('POST', '/auth/login', {
      username: baraka.name,
      password: 'temporary-pass',
    });
    t.equal(login.status, 200);
    t.equal(login.body.user.password_change_required, true);
    const token = login.body.access_token;
    const sync = await s.call('GET', `/sync/${login.body.dbs.user}`, undefined, token);
    t.equal(sync.status, 403, 'no sync before the change');
    t.match(sync.body.reason, /POST \/me\/password/);
    const me = await s.call('GET', '/me', undefined, token);
    t.equal(me.status, 200, 'GET /me still answers');
    t.equal(me.body.password_change_required, true);

    const change = await s.call(
      'POST',
      '/me/password',
      { old_password: 'temporary-pass', new_password: 'baraka-own-choice' },
      token,
    );
    t.equal(change.status, 200);
    t.equal(
      (await s.call('GET', `/sync/${login.body.dbs.user}`, undefined, token)).status,
      200,
      'sync works after the change',
    );
    t.notOk((await s.call('GET', '/me', undefined, token)).body.password_change_required);
  });

  await t.test('user A cannot reset user B', async (t) => {
    const a = await s.user(unique('user-a'), ['agent'], 'password-of-a');
    const b = await s.user(unique('user-b'), ['agent'], 'password-of-b');
    const sup = await s.user(unique('sup-x'), ['supervisor'], 'password-of-s');
    for (const token of [a.access_token, sup.access_token]) {
      const res = await s.call(
        'POST',
        `/admin/users/${b.name}/password`,
        { password: 'hijacked-1' },
        token,
      );
      t.equal(res.status, 403);
    }
    t.equal(
      (await s.call('POST', '/auth/login', { username: b.name, password: 'password-of-b' })).status,
      200,
      "B's password is unchanged",
    );
    t.equal(
      (
        await s.call(
          'POST',
          '/admin/users/nobody-here/password',
          { password: 'whatever-1' },
          boss.access_token,
        )
      ).status,
      404,
    );
  });
});
