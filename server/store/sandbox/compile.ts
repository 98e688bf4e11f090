import { Sandbox, type SandboxFunction, type SandboxOptions } from './engine.js';

export interface Compiled {
  sandbox: Sandbox;
  fn: SandboxFunction;
  /** Frees the sandbox if this function owns it; a shared sandbox is left to its owner. */
  dispose(): void;
}

/**
 * Compiles a design function into the shared `opts.sandbox` (e.g. one per
 * design doc) or into a sandbox of its own, which is freed at once when the
 * source does not compile: a bad design doc never leaks a VM.
 */
export function compileOwned(
  source: string,
  label: string,
  opts: SandboxOptions & { sandbox?: Sandbox },
): Compiled {
  const owned = opts.sandbox === undefined;
  const sandbox = opts.sandbox ?? Sandbox.create(opts);
  try {
    const fn = sandbox.compile(source, label);
    return {
      sandbox,
      fn,
      dispose: () => {
        if (owned) sandbox.dispose();
      },
    };
  } catch (err) {
    if (owned) sandbox.dispose();
    throw err;
  }
}
