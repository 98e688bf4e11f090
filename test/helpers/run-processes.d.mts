// Types for run-processes.mjs (plain JavaScript: test-all.mjs runs it before anything compiles).
export interface TestProcess {
  name: string;
  file: string;
}

export function tapSettings(root: string): Promise<{ jobs: number; timeoutMs: number }>;

export function rootCounts(output: string): Record<string, number> | undefined;

export function runProcesses(options: {
  processes: TestProcess[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  jobs: number;
  timeoutMs: number;
  graceMs?: number;
  write: (text: string) => void;
  signal?: AbortSignal;
}): Promise<number>;
