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
