/** A promise-chain mutex: create/delete/purge of one database run one at a time. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  private held = 0;

  run<T>(fn: () => Promise<T>): Promise<T> {
    this.held++;
    const next = this.tail.then(fn, fn);
    this.tail = next.then(
      () => this.held--,
      () => this.held--,
    );
    return next;
  }

  /** Resolves once no exclusive operation is running or queued. */
  async idle(): Promise<void> {
    while (this.held > 0) await this.tail;
  }
}
