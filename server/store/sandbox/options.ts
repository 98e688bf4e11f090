/** Every default of the sandbox, in one place. */
export const SANDBOX_DEFAULTS = {
  memoryBytes: 32 * 1024 * 1024,
  timeoutMs: 1_000,
  /**
   * QuickJS checks its stack against the WASM shadow stack, but WASM frames also live on V8's
   * native stack, which is what really overflows. Measured on Node 20, the worst case (the
   * parser on deeply nested brackets) uses about 26 bytes of V8 stack per byte QuickJS counts:
   * at 24 KiB a function still nests calls about 120 deep and JSON about 1,400 deep, and the
   * engine stays inside V8's ~984 KiB even when the caller has used 400 KiB of it already.
   */
  maxStackBytes: 24 * 1024,
};

export interface SandboxOptions {
  /** at least 1 MiB */
  memoryBytes?: number;
  /** per call, and per compile */
  timeoutMs?: number;
  /** 8 KiB to 1 MiB; QuickJS cannot even start above the WASM stack (about 5 MiB) */
  maxStackBytes?: number;
  /** receives every `log(x)` of the design code (CouchDB's query-server log), default none */
  log?: (message: string) => void;
}

export function checked(
  name: keyof typeof SANDBOX_DEFAULTS,
  value: number | undefined,
  min: number,
  max: number,
): number {
  if (value === undefined) return SANDBOX_DEFAULTS[name];
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(
      `sandbox option ${name} must be a number from ${min} to ${max}, not ${value}`,
    );
  }
  return value;
}
