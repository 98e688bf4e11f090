import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (`apt-get install -y chromium`; .ci/run installs it), or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Chromium as the browser tests drive it: headless, fetching nothing of its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Test files run through tsx, whose compiler (esbuild, keeping function names) wraps named
 * functions in a `__name(fn, "name")` call. Functions handed to `page.evaluate` are sent to
 * the page as their source text, that call included, so the page needs a `__name` of its own.
 * Give it to every page of a context (or one page) before it loads anything.
 */
export async function nameHelperInPages(target: {
  addInitScript(script: { content: string }): Promise<unknown>;
}): Promise<void> {
  await target.addInitScript({
    content:
      'globalThis.__name ??= (fn, name) => ' +
      "Object.defineProperty(fn, 'name', { value: name, configurable: true });",
  });
}
