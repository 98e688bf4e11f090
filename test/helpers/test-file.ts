import { AsyncLocalStorage } from 'node:async_hooks';
import t from 'tap';

/**
 * Several test files in one process (`npm test`, compile-tests.mjs), each still a file of its
 * own where it matters: what a helper keeps "per file" (the file's fleet, fleet.ts) is kept
 * per `currentTestFile()`. Each file is imported inside an async context naming it. Tap runs
 * every test in the context it was created in (each test is an AsyncResource of its own), so
 * a file's tests, their subtests and all they start see their file, whichever file's test tap
 * finished before (test/architecture/test-files.test.ts checks it).
 */
const scope = new AsyncLocalStorage<string>();

/** The test file whose code is running; '' when the process runs one file alone. */
export function currentTestFile(): string {
  return scope.getStore() ?? '';
}

/**
 * Imports `files` in order, each in its own context (the entry of a process of several), and
 * holds tap's root open until the last is imported (one assertion, `… are loaded`). Tap ends
 * its root when it has been idle a moment after a root `t.teardown`: the tests of the files
 * imported first could all be done while a later file's top-level set-up (a store to start)
 * still ran, and that file's tests came after the end, lost without a failure, while what it
 * had started kept the process alive until tap's timeout.
 */
export async function runTestFiles(files: Array<[name: string, load: () => Promise<unknown>]>) {
  let imported = () => {};
  const gate = new Promise<void>((resolve) => (imported = resolve));
  void t.resolves(gate, `the ${files.length} test files of this process are loaded`);
  try {
    for (const [name, load] of files) await scope.run(name, load);
  } finally {
    imported();
  }
}
