import { Readable, Writable } from 'node:stream';
import { runMain, type CliMain } from '../../scripts/cli.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A command's `main` called in this process with `args` and only `env` (plus PATH), as if
 * started with them: the same code as the script, its output captured, without paying a
 * process and tsx's start-up on every run. `stdin` is what is piped in. Each script keeps one
 * test that starts it as a process (its entry point, exit code and signals).
 */
export async function runCli(
  main: CliMain,
  args: string[],
  env: Record<string, string | undefined>,
  stdin = '',
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runMain(main, {
    argv: args,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    stdin: Readable.from([Buffer.from(stdin)]),
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}

function sink(write: (text: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      write(chunk.toString());
      done();
    },
  });
}
