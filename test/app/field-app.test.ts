import t from 'tap';
import type { Response } from 'playwright-core';
import { unique } from '../helpers/fixtures.js';
import { PASSWORD } from '../gateway/helper.js';
import {
  addFarmer,
  fillForm,
  scrollsSideways,
  signUp,
  stage,
  statusLine,
  userDb,
} from './browser.js';
import { testFleet } from '../helpers/fleet.js';
import { farmer, paymentRequest, visit } from '../reports/world.js';
import { weekOf } from '../../app/ops/aggregates.js';

// The field app online, in a real browser at 360×640: sign-up, farmers, visits, payments,
// what the server sends back, what it refuses; the page's weight; a screenshot of each screen.

const s = await stage(t, import.meta.url);
if (s) {
  const context = await s.phone();
  const page = await context.newPage();
  const name = unique('amina');
  let db = '';
  let farmerId = '';

  t.test('the page and everything it loads weigh at most 150 KB compressed', async (t) => {
    // Every response of the phone, the service worker's own fetches included, as the
    // browser counted its bytes on the wire (compressed bodies plus headers).
    const sized: Promise<void>[] = [];
    const bytes = { page: 0, worker: 0 };
    const files: string[] = [];
    const onResponse = (res: Response) => {
      const from = res.request().serviceWorker() ? 'worker' : 'page';
      files.push(`${new URL(res.url()).pathname} (${from} ${res.status()})`);
      sized.push(
        res
          .request()
          .sizes()
          .then((size) => void (bytes[from] += size.responseBodySize + size.responseHeadersSize)),
      );
    };
    context.on('response', onResponse);
    await page.goto(`${s.gw.url}/app/`);
    await page.getByRole('heading', { name: 'Ingia' }).waitFor();
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await page.waitForLoadState('networkidle');
    context.off('response', onResponse);
    await Promise.all(sized);
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
    const total = bytes.page + bytes.worker;
    t.ok(
      files.some((f) => f.startsWith('/app/app.js')),
      `loaded ${files.join(', ')}`,
    );
    t.ok(total <= 150 * 1024, `everything: ${kb(total)} (≤ 150 KB)`);
    t.comment(
      `page weight: ${kb(bytes.page)} for the page, ${kb(total)} with the service worker's install (compressed, headers included)`,
    );
    // What Chrome checks before it offers "Add to home screen": manifest, icons, worker.
    // (A test context is a private profile, which Chrome never installs to: not the app's.)
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
      installabilityErrors: { errorId: string }[];
    };
    t.same(
      installabilityErrors.map((e) => e.errorId).filter((id) => id !== 'in-incognito'),
      [],
      'installable',
    );
    await cdp.detach();
    t.equal(await page.evaluate(() => document.documentElement.lang), 'sw', 'Swahili first');
    await s.shot(page, '01-sign-in-sw');
    t.notOk(await scrollsSideways(page), 'no sideways scroll at 360×640');
  });

  t.test('sign up, add a farmer: it reaches the server', async (t) => {
    await page.goto(`${s.gw.url}/app/?lang=en`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await signUp(page, name, PASSWORD);
    db = await userDb(page);
    await s.shot(page, '02-farmers-empty');
    // The rule's messages show before saving, from the same validator the gateway runs.
    await page.getByRole('button', { name: /add farmer/i }).click();
    await fillForm(page, { Name: 'Neema Mushi', Phone: '0712345678', 'Land (acres)': '-2' });
    await page.getByRole('button', { name: /^save$/i }).click();
    const phone = page.getByLabel(/^Phone/);
    await t.resolves(
      phone.and(page.locator('[aria-invalid=true]')).waitFor(),
      'phone marked invalid',
    );
    t.match(
      await page.locator('#f-phone-error').textContent(),
      /E\.164/,
      'the rule message for phone',
    );
    t.match(await page.locator('#f-village-error').textContent(), /required/, 'village required');
    t.match(await page.locator('#f-land_acres-error').textContent(), /acres, 0 or more/);
    await s.shot(page, '03-farmer-form-errors');
    t.notOk(await scrollsSideways(page), 'form: no sideways scroll');
    await page.getByRole('button', { name: /cancel/i }).click();

    farmerId = await addFarmer(page, {
      Name: 'Neema Mushi',
      Phone: '+255712345678',
      Village: 'Mlali',
      District: 'Mvomero',
      Gender: 'Female',
      'Land (acres)': '2.5',
    });
    await s.shot(page, '04-farmer');
    const onServer = await s.untilOnServer(db, farmerId);
    t.match(onServer, { type: 'farmer', owner: name, name: 'Neema Mushi', land_acres: 2.5 });
    await t.resolves(
      statusLine(page)
        .filter({ hasText: /synced/i })
        .waitFor(),
      'status: synced',
    );
  });

  t.test('visits and a payment request; its status syncs back without a reload', async (t) => {
    await page.getByRole('button', { name: /record a visit/i }).click();
    await fillForm(page, { Activity: 'Training', Notes: 'Mbegu bora za mahindi' });
    await s.shot(page, '05-visit-form');
    await page.getByRole('button', { name: /^save$/i }).click();
    await page.getByText('Mbegu bora za mahindi').waitFor();

    await page.getByRole('button', { name: /request a payment/i }).click();
    await fillForm(page, { 'Amount (TSh)': '25000', 'Mobile money': 'M-Pesa', Reason: 'Mbolea' });
    await s.shot(page, '06-payment-form');
    await page.getByRole('button', { name: /request a payment/i }).click();
    const waiting = page.locator('[data-status]');
    await t.resolves(
      waiting.filter({ hasText: /waiting/i }).waitFor(),
      'payment waits for the server',
    );
    const requestId = await page.evaluate(
      () => (window as any).sawa.session.docs.ofType('payment_request')[0]._id as string,
    );
    await s.untilOnServer(db, requestId);
    const now = new Date().toISOString();
    await s.serverPut(db, {
      _id: `payment_status-${requestId}`,
      type: 'payment_status',
      owner: name,
      created_at: now,
      updated_at: now,
      request_id: requestId,
      provider: 'mpesa',
      status: 'succeeded',
      provider_reference: 'MP123',
    });
    await t.resolves(waiting.filter({ hasText: 'Paid' }).waitFor(), 'payment status shown');
    await s.shot(page, '07-farmer-visits-payments');
    t.notOk(await scrollsSideways(page), 'farmer page: no sideways scroll');
  });

  t.test('a farmer written on the server appears in the list without a reload', async (t) => {
    await page.getByRole('link', { name: 'Farmers', exact: true }).click();
    const now = new Date().toISOString();
    await s.serverPut(db, {
      _id: 'farmer-from-another-phone',
      type: 'farmer',
      owner: name,
      created_at: now,
      updated_at: now,
      name: 'Baraka Kimaro',
      village: 'Kibaoni',
      district: 'Kilosa',
    });
    await t.resolves(page.getByRole('link', { name: /Baraka Kimaro/ }).waitFor(), 'appeared');
    await page.getByLabel('Search farmers').fill('kilosa');
    t.equal(
      await page.getByRole('list', { name: 'Farmers' }).getByRole('listitem').count(),
      1,
      'search',
    );
    await s.shot(page, '08-farmers-search');
    await page.getByLabel('Search farmers').fill('');
  });

  t.test('the keyboard alone adds a farmer', async (t) => {
    const focused = () =>
      page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent);
    await page.locator('#screen').focus();
    await page.keyboard.press('Tab');
    t.match(await focused(), /add farmer/i, 'Tab from the screen reaches "Add farmer"');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Add farmer' }).waitFor();
    await page.keyboard.press('Tab');
    t.equal(await focused(), 'f-name', 'then the first field');
    await page.keyboard.type('Zawadi Mollel');
    await page.keyboard.press('Tab'); // phone: optional, left empty
    await page.keyboard.press('Tab');
    await page.keyboard.type('Kilombero');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Ifakara');
    await page.keyboard.press('Enter');
    await t.resolves(
      page.getByRole('heading', { name: 'Zawadi Mollel' }).waitFor(),
      'saved with Enter',
    );
    await page.getByRole('link', { name: 'Farmers', exact: true }).click();
  });

  t.test('a write the rules refuse shows its reason, in Swahili too', async (t) => {
    // Forged straight into the page's database, past the form's check.
    await page.evaluate(async (owner) => {
      const now = new Date().toISOString();
      await (window as any).sawa.session.db.put({
        _id: 'farmer-forged',
        type: 'farmer',
        owner,
        created_at: now,
        updated_at: now,
        name: 'Forged',
        village: 'X',
        district: 'Y',
        phone: '12345',
      });
    }, name);
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.getByRole('link', { name: 'Sync', exact: true }).click();
    const item = page.locator('#refused li[data-id="farmer-forged"]');
    await t.resolves(item.waitFor(), 'listed as refused');
    t.match(await item.textContent(), /Phone: must be an E\.164 number/, 'the reason, in English');
    await s.shot(page, '09-sync-refused-en');
    await page.getByLabel('Language').selectOption('sw');
    await page.getByRole('link', { name: 'Usawazishaji' }).click();
    t.match(await item.textContent(), /Simu: iwe namba ya E\.164/, 'the reason, in Swahili');
    await s.shot(page, '10-sync-refused-sw');
    await page.getByRole('link', { name: 'Wakulima', exact: true }).click();
    await page.getByRole('heading', { name: /Wakulima/ }).waitFor();
    await s.shot(page, '10-farmers-sw');
    t.notOk(await scrollsSideways(page), 'sync page: no sideways scroll');
    t.equal(await s.serverDoc(db, 'farmer-forged'), null, 'never reached the server');
  });

  t.test('desktop', async (t) => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${s.gw.url}/app/?lang=en#/farmer/${encodeURIComponent(farmerId)}`);
    await page.reload();
    await page.getByRole('heading', { name: 'Neema Mushi' }).waitFor();
    await s.shot(page, '11-desktop-farmer');
    t.notOk(await scrollsSideways(page));
  });

  t.test('sign out, a wrong password, sign in again', async (t) => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await t.resolves(page.getByRole('heading', { name: 'Sign in' }).waitFor());
    await page.reload();
    await t.resolves(page.getByRole('heading', { name: 'Sign in' }).waitFor(), 'stays signed out');
    await page.getByLabel(/user name/i).fill(name);
    await page.getByLabel(/password/i).fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await t.resolves(
      page.getByRole('alert').filter({ hasText: 'Wrong name or password' }).waitFor(),
      'a wrong password is said plainly',
    );
    await s.shot(page, '12-sign-in-wrong-password');
    await page.getByLabel(/password/i).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await t.resolves(
      page.getByRole('link', { name: /Neema Mushi/ }).waitFor(),
      'the data is still there',
    );
  });

  t.test(
    "the operator's page: staff sign in and see the fleet; an agent is turned away",
    async (t) => {
      const desk = await s.phone({ width: 1280, height: 800 });
      const ops = await desk.newPage();
      const signIn = async (who: string) => {
        await ops.goto(`${s.gw.url}/ops/`);
        await ops.getByLabel('Name').fill(who);
        await ops.getByLabel('Password').fill(PASSWORD);
        await ops.getByRole('button', { name: 'Sign in' }).click();
      };
      const agent = unique('juma');
      await s.gw.member(agent, ['agent'], []);
      await signIn(agent);
      await t.resolves(
        ops.getByRole('alert').filter({ hasText: 'for admins and supervisors' }).waitFor(),
        'an agent is refused',
      );
      t.equal(await ops.locator('table').count(), 0, 'and sees no fleet');
      const boss = unique('boss');
      await s.gw.member(boss, ['admin'], []);
      await signIn(boss);
      await ops.getByRole('heading', { name: 'Fleet sync health' }).waitFor();
      const row = ops.locator(`tr[data-user="${name}"]`);
      await row.waitFor();
      const cells = await row.locator('td').allTextContents();
      t.equal(cells[0], name, "the field app's agent is listed");
      t.ok(Number(cells[4]) >= 1, `with her documents (${cells[4]})`);
      t.not(cells[2], 'never', 'and when she last pulled');
      t.match(cells[8], /^\d+\.\d KB \/ \d+\.\d KB$/, `her last 7 days on the wire (${cells[8]})`);
      t.not(cells[8], '0.0 KB / 0.0 KB');
      t.match(cells[9], /^\d+$/, 'and the writes refused in them');
      await s.shot(ops, '13-ops-sync-health');

      // Jobs and payments, below: a reconciler run shows as ok with its lag.
      t.match(await s.gw.svc.app.jobs.run('reconcile'), { ran: true, ok: true });
      await ops.reload();
      const job = ops.locator('tr[data-job="reconcile"] td');
      await job.first().waitFor();
      const jobCells = await job.allTextContents();
      t.equal(jobCells[3], 'ok', 'the reconciler ran well');
      t.match(jobCells[4], /^\d+ s$/, `seconds since (${jobCells[4]})`);
      t.equal(
        (await ops.locator('tr[data-job="retention"] td').allTextContents())[4],
        'never',
        'retention never ran',
      );
      const paid = ops.locator('[data-part="payments"] .card');
      t.equal(await paid.count(), 6, 'payments by state');
      await s.shot(ops, '14-ops-jobs-payments');
    },
  );

  t.test("the operator's page draws the aggregates: visits and payments per week", async (t) => {
    // Two agents of the file's fleet (the aggregator reads only the fleet's databases).
    const fleet = testFleet();
    const day = (weeksAgo: number) =>
      new Date(Date.now() - weeksAgo * 7 * 86_400_000).toISOString().slice(0, 10);
    const [a, b] = [fleet.user('asha'), fleet.user('baraka')];
    for (const who of [a, b]) await s.gw.member(who, ['agent'], []);
    const put = (who: string, docs: Array<Record<string, unknown>>) =>
      Promise.all(docs.map((d) => s.serverPut(fleet.userDb(who), d)));
    await put(a, [
      farmer('fa', a, 'Mbeya', day(5)),
      visit('va1', a, 'fa', day(0), 'training'),
      visit('va2', a, 'fa', day(0), 'survey'),
      visit('va3', a, 'fa', day(3), 'training'),
      paymentRequest('pa1', a, 'mpesa', 5000, day(0)),
    ]);
    await put(b, [
      farmer('fb', b, 'Rungwe', day(5)),
      visit('vb1', b, 'fb', day(0), 'training'),
      paymentRequest('pb1', b, 'mpesa', 7000, day(1)),
      paymentRequest('pb2', b, 'mpesa', 3000, day(1)),
    ]);
    t.match(await s.gw.svc.app.jobs.run('aggregate'), { ran: true, ok: true });

    const desk = await s.phone({ width: 1280, height: 800 });
    const ops = await desk.newPage();
    await ops.goto(`${s.gw.url}/ops/`);
    const boss = unique('boss');
    await s.gw.member(boss, ['admin'], []);
    await ops.getByLabel('Name').fill(boss);
    await ops.getByLabel('Password').fill(PASSWORD);
    await ops.getByRole('button', { name: 'Sign in' }).click();
    const visits = ops.locator('[data-part="visits-chart"]');
    await visits.locator('svg rect').first().waitFor();
    const bars = async (part: string) =>
      ops.locator(`[data-part="${part}"] svg rect`).evaluateAll((rects) =>
        rects.map((r) => ({
          week: r.getAttribute('data-week'),
          series: r.getAttribute('data-series'),
          value: Number(r.getAttribute('data-value')),
        })),
      );
    const sorted = <T>(xs: T[]) => xs.map((x) => JSON.stringify(x)).sort();
    t.same(
      sorted(await bars('visits-chart')),
      sorted([
        { week: weekOf(day(0)), series: 'Mbeya', value: 2 },
        { week: weekOf(day(0)), series: 'Rungwe', value: 1 },
        { week: weekOf(day(3)), series: 'Mbeya', value: 1 },
      ]),
      'one bar per week and district, stacked',
    );
    t.same(
      (await visits.locator('.legend li').allTextContents()).sort(),
      ['Mbeya', 'Rungwe'],
      'a legend names the districts',
    );
    const paid = await bars('payments-chart');
    t.same(
      sorted(paid),
      sorted(
        weekOf(day(0)) === weekOf(day(1))
          ? [{ week: weekOf(day(0)), series: 'payment requests', value: 3 }]
          : [
              { week: weekOf(day(0)), series: 'payment requests', value: 1 },
              { week: weekOf(day(1)), series: 'payment requests', value: 2 },
            ],
      ),
      'payment requests per week',
    );
    const ticks = await visits.locator('svg text').allTextContents();
    t.ok(ticks.length >= 12 + 2, `twelve weeks labelled and a scale (${ticks.length} labels)`);
    t.notOk(await scrollsSideways(ops), 'the charts fit the page');
    await visits.scrollIntoViewIfNeeded();
    await s.shot(ops, '15-ops-charts');
  });
}
