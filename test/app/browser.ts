import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import tap, { type Test } from 'tap';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { gateway, type Gw } from '../gateway/helper.js';
import { couch } from '../helpers/store.js';
import { CHROMIUM, launchChromium, nameHelperInPages } from '../helpers/browser.js';

/**
 * The field app in a real browser: Debian's chromium driven by playwright-core (no browser
 * download), against the service on the test CouchDB. One browser per process, one service
 * per test file; each phone is a browser context of its own (its own IndexedDB, service worker
 * and network switch).
 */

export interface Stage {
  gw: Gw;
  browser: Browser;
  /** A new phone: a fresh browser context at 360×640 unless told otherwise. */
  phone(viewport?: { width: number; height: number }): Promise<BrowserContext>;
  /** Saves a PNG of the page under .tap/screenshots/<test file>/ for a person to look at. */
  shot(page: Page, name: string): Promise<string>;
  /** A document as the server has it, read with CouchDB's admin API; null when missing. */
  serverDoc(db: string, id: string): Promise<Record<string, unknown> | null>;
  /**
   * The server's document once it exists and `ready` says so (the phone's push has landed);
   * throws after 20 s. A status line saying "synced" can predate a write's push.
   */
  untilOnServer(
    db: string,
    id: string,
    ready?: (doc: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>>;
  /** Writes a document on the server as an admin (another phone, or a worker). */
  serverPut(db: string, doc: Record<string, unknown>): Promise<void>;
}

/**
 * The service, a browser and a place for screenshots; null (a skipped test in the file's
 * place) when there is no chromium here. In CI a missing chromium is a failure, not a skip.
 */
export async function stage(t: Test, testFile: string): Promise<Stage | null> {
  if (!existsSync(CHROMIUM) && !process.env.CI) {
    const skip = `${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`;
    t.test(basename(testFile), { skip }, () => {});
    return null;
  }
  const gw = await gateway(t);
  const browser = await processBrowser();
  const dir = join(
    fileURLToPath(new URL('../../.tap/screenshots/', import.meta.url)),
    basename(testFile, '.test.ts'),
  );
  await mkdir(dir, { recursive: true });
  const admin = { auth: gw.store.adminAuth };
  const serverDoc = async (db: string, id: string) => {
    const res = await couch(
      gw.store.url,
      'GET',
      `/${db}/${encodeURIComponent(id)}?conflicts=true`,
      admin,
    );
    return res.status === 200 ? (res.body as Record<string, unknown>) : null;
  };
  return {
    gw,
    browser,
    async phone(viewport = { width: 360, height: 640 }) {
      const context = await browser.newContext({ viewport, locale: 'sw-TZ', timezoneId: 'Africa/Dar_es_Salaam' });
      t.teardown(() => context.close());
      await nameHelperInPages(context);
      return context;
    },
    async shot(page, name) {
      const path = join(dir, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    serverDoc,
    async untilOnServer(db, id, ready = () => true) {
      for (const end = Date.now() + 20_000; Date.now() < end; ) {
        const doc = await serverDoc(db, id);
        if (doc && ready(doc)) return doc;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`${db}/${id} did not reach the server as expected within 20 s`);
    },
    async serverPut(db, doc) {
      const res = await couch(gw.store.url, 'PUT', `/${db}/${encodeURIComponent(String(doc._id))}`, { ...admin, body: doc });
      if (res.status !== 201) throw new Error(`server write ${String(doc._id)}: ${res.status} ${JSON.stringify(res.body)}`);
    },
  }; // prettier-ignore
}

let launched: Promise<Browser> | undefined;

/** One browser for the process (the files of `npm test`'s test/app process share it). */
function processBrowser(): Promise<Browser> {
  if (!launched) {
    launched = launchChromium();
    const browser = launched;
    tap.teardown(async () => (await browser).close());
  }
  return launched;
}

/** True when the page scrolls sideways (something wider than the screen). */
export async function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate(
    () => document.documentElement.scrollWidth > document.documentElement.clientWidth,
  );
}

/** The sync status line's text. */
export function statusLine(page: Page) {
  return page.getByRole('status');
}

/** The server database of the signed-in user, from the page's client. */
export async function userDb(page: Page): Promise<string> {
  return page.evaluate(() => (window as any).sawa.client.dbs.user as string);
}

/** Signs up through the form (the app's language decides the labels: pass ?lang=en pages). */
export async function signUp(page: Page, name: string, password: string): Promise<void> {
  await page.getByRole('link', { name: /sign up/i }).click();
  await page.getByLabel(/user name/i).fill(name);
  await page.getByLabel(/password/i).fill(password);
  await page.getByRole('button', { name: /sign up/i }).click();
  await page.getByRole('heading', { name: /farmers/i }).waitFor();
}

/** Adds a farmer through the form; returns its id (from the page's URL). */
export async function addFarmer(page: Page, fields: Record<string, string>): Promise<string> {
  await page.getByRole('button', { name: /add farmer/i }).click();
  await fillForm(page, fields);
  await page.getByRole('button', { name: /^save$/i }).click();
  await page.waitForURL(/#\/farmer\/farmer-/);
  return decodeURIComponent(new URL(page.url()).hash.split('/')[2] as string);
}

/** Fills controls by their label: selects by option label, inputs by text. */
export async function fillForm(page: Page, fields: Record<string, string>): Promise<void> {
  for (const [label, value] of Object.entries(fields)) {
    // Optional fields' labels end with "(optional)": match the start.
    const control = page.getByLabel(new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const tag = await control.evaluate((el) => el.tagName);
    if (tag === 'SELECT') await control.selectOption({ label: value });
    else await control.fill(value);
  }
}
