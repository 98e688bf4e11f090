import t from 'tap';
import type { BrowserContext, Page } from 'playwright-core';
import { unique } from '../helpers/fixtures.js';
import { PASSWORD } from '../gateway/helper.js';
import { addFarmer, fillForm, signUp, stage, statusLine, userDb } from './browser.js';

// Days with no network, in a real browser: the app reloads offline from its service worker,
// the agent stays signed in and keeps working, the status line counts what waits, and all of
// it reaches the server once the network is back. Then two phones edit one farmer offline.

const s = await stage(t, import.meta.url);
if (s) {
  const base = s.gw.url;
  const name = unique('neema');
  const phoneA = await s.phone();
  const a = await phoneA.newPage();
  let db = '';
  let shared = '';

  t.test(
    'offline: reload, still signed in, work, then everything reaches the server',
    async (t) => {
      await a.goto(`${s.gw.url}/app/?lang=en`);
      await signUp(a, name, PASSWORD);
      db = await userDb(a);
      shared = await addFarmer(a, { Name: 'Shared Farmer', Village: 'Mlali', District: 'Mvomero' });
      await s.untilOnServer(db, shared);
      await statusLine(a)
        .filter({ hasText: /synced/i })
        .waitFor();
      // The service worker has the app once it is active; only then can the page load offline.
      await a.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));

      await a.getByRole('link', { name: 'Farmers', exact: true }).click();
      await phoneA.setOffline(true);
      await a.reload();
      await t.resolves(a.getByRole('heading', { name: /farmers/i }).waitFor(), 'opens offline');
      await t.resolves(
        a.getByRole('link', { name: /Shared Farmer/ }).waitFor(),
        'signed in, data there',
      );
      await t.resolves(
        statusLine(a)
          .filter({ hasText: /offline/i })
          .waitFor(),
        'says offline',
      );

      const ids: string[] = [];
      for (const [farmer, village] of [['Asha Juma', 'Kibaoni'], ['Bakari Said', 'Dumila'], ['Chausiku Ali', 'Mzumbe']]) {
      await a.getByRole('link', { name: 'Farmers', exact: true }).click();
      ids.push(await addFarmer(a, { Name: farmer as string, Village: village as string, District: 'Mvomero' }));
    } // prettier-ignore
      for (const activity of ['Training', 'Survey']) {
        await a.getByRole('button', { name: /record a visit/i }).click();
        await fillForm(a, { Activity: activity });
        await a.getByRole('button', { name: /^save$/i }).click();
        await a.getByRole('listitem').filter({ hasText: activity }).waitFor();
      }
      const visits = await a.evaluate(() =>
        (window as any).sawa.session.docs.ofType('visit').map((d: { _id: string }) => d._id),
      );
      t.equal(visits.length, 2, 'two visits on the phone');
      await t.resolves(
        statusLine(a).filter({ hasText: '5 changes waiting' }).waitFor(),
        'the status line counts the 5 writes waiting',
      );
      await s.shot(a, '01-offline-waiting');
      for (const id of [...ids, ...visits])
        t.equal(await s.serverDoc(db, id), null, `${id} not on the server yet`);

      const online = Date.now();
      await phoneA.setOffline(false);
      await statusLine(a)
        .filter({ hasText: /^synced/i })
        .waitFor({ timeout: 60_000 });
      const synced = Date.now() - online;
      for (const id of [...ids, ...visits])
        t.ok(await s.serverDoc(db, id), `${id} reached the server`);
      t.comment(
        `from online to synced: ${synced} ms (5 documents; a loaded machine, not a benchmark)`,
      );
      await s.shot(a, '02-back-online-synced');
    },
  );

  t.test('two phones edit one farmer offline: both show the conflict', async (t) => {
    const phoneB = await s.phone();
    const b = await phoneB.newPage();
    await b.goto(`${s.gw.url}/app/?lang=en`);
    await b.getByLabel(/user name/i).fill(name);
    await b.getByLabel(/password/i).fill(PASSWORD);
    await b.getByRole('button', { name: 'Sign in' }).click();
    await b.getByRole('link', { name: /Shared Farmer/ }).waitFor();

    await edit(a, phoneA, shared, 'Alpha');
    await edit(b, phoneB, shared, 'Beta');
    await phoneA.setOffline(false);
    await statusLine(a)
      .filter({ hasText: /^synced/i })
      .waitFor({ timeout: 60_000 });
    await phoneB.setOffline(false);
    await statusLine(b)
      .filter({ hasText: /^synced/i })
      .waitFor({ timeout: 60_000 });

    const conflicts = (doc: Record<string, unknown>) =>
      (doc._conflicts as string[] | undefined)?.length;
    const onServer = await s.untilOnServer(db, shared, (doc) => conflicts(doc) === 1);
    t.equal(conflicts(onServer), 1, 'the server holds the conflict');
    for (const [label, page] of [
      ['phone A', a],
      ['phone B', b],
    ] as const) {
      await page.goto(`${s.gw.url}/app/?lang=en#/farmer/${encodeURIComponent(shared)}`);
      await t.resolves(
        page
          .getByRole('note')
          .filter({ hasText: /conflict/i })
          .waitFor({ timeout: 30_000 }),
        `${label} flags the farmer`,
      );
    }
    const note = b.getByRole('note').filter({ hasText: /conflict/i });
    await t.resolves(
      note
        .getByText(/Village: (Alpha · other version: Beta|Beta · other version: Alpha)/)
        .waitFor(),
      'phone B sees what the other phone wrote',
    );
    await s.shot(b, '03-conflict-farmer');
    await b.getByRole('link', { name: 'Sync', exact: true }).click();
    await t.resolves(
      b.locator(`#conflicts li[data-id="${shared}"]`).waitFor(),
      'listed on the sync screen',
    );
    await s.shot(b, '04-conflict-sync');
  });

  async function edit(page: Page, context: BrowserContext, id: string, village: string) {
    await context.setOffline(true);
    await page.goto(`${base}/app/?lang=en#/farmer/${encodeURIComponent(id)}/edit`);
    await page.getByLabel(/^Village/).fill(village);
    await page.getByRole('button', { name: /^save$/i }).click();
    await page.getByText(village).waitFor();
  }
}
