// Tap's `--import` for every test process (.taprc): tsx for a TypeScript test file (one run
// alone, `npx tap test/x.test.ts`), nothing for the compiled suite of `npm test`
// (compile-tests.mjs), which is plain JavaScript and would only pay tsx's start-up and hooks.
if (/\.[cm]?tsx?$/.test(process.argv[1] ?? '')) await import('tsx');
