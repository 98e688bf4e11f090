import { randomBytes } from 'node:crypto';

/**
 * CouchDB's default "sequential" UUIDs: a random 26-hex prefix with a 6-hex
 * counter that grows by small random steps, so ids written together sort together.
 */
export class UuidGenerator {
  private prefix = randomBytes(13).toString('hex');
  private counter = 0;

  next(): string {
    this.counter += 1 + Math.floor(Math.random() * 0xffe);
    if (this.counter > 0xffffff) {
      this.prefix = randomBytes(13).toString('hex');
      this.counter = 1 + Math.floor(Math.random() * 0xffe);
    }
    return this.prefix + this.counter.toString(16).padStart(6, '0');
  }
}
