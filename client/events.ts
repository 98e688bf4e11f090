/** A small typed event emitter (no Node `events`: the client runs in browsers too). */
export class Emitter<E extends { [K in keyof E]: (...args: any[]) => void }> {
  private readonly listeners = new Map<keyof E, Set<E[keyof E]>>();

  on<K extends keyof E>(event: K, fn: E[K]): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => this.off(event, fn);
  }

  off<K extends keyof E>(event: K, fn: E[K]): void {
    this.listeners.get(event)?.delete(fn);
  }

  emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    for (const fn of this.listeners.get(event) ?? []) {
      try {
        (fn as (...a: Parameters<E[K]>) => void)(...args);
      } catch {
        // A listener's bug must not stop the sync (nor the other listeners).
      }
    }
  }
}
