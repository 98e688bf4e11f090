/**
 * Calls to outside providers (payments now; SMS and others use the same hook), counted by
 * provider, kind of call and outcome. Jobs have no handle on an app's registry, so a call
 * is announced here and each app's metrics plugin that listens counts it
 * (`sawa_provider_calls_total`). Labels stay bounded: provider names come from
 * configuration, kinds and outcomes from code, never a phone number or a reference.
 */

export interface ProviderCall {
  /** The provider's configured name (`azampay`, …). */
  provider: string;
  /** What was asked: `payment`, `payment_status`, `sms`, … */
  kind: string;
  /** The answer's kind (`accepted`, `failed`, …), or `error` when the call threw. */
  outcome: string;
}

type Listener = (call: ProviderCall) => void;
const listeners = new Set<Listener>();

/** Starts counting; returns the function that stops. */
export function onProviderCall(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function recordProviderCall(call: ProviderCall): void {
  for (const l of listeners) l(call);
}

/** Awaits a provider call and records its outcome: the answer's `kind`, or `error` if it throws. */
export async function counted<T extends { kind: string }>(
  provider: string,
  kind: string,
  call: Promise<T>,
): Promise<T> {
  try {
    const answer = await call;
    recordProviderCall({ provider, kind, outcome: answer.kind });
    return answer;
  } catch (err) {
    recordProviderCall({ provider, kind, outcome: 'error' });
    throw err;
  }
}
