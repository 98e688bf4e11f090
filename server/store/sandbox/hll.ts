import { createHash } from 'node:crypto';

/** CouchDB's couch_hyper uses 2^11 registers: about 2.3% standard error. */
const PRECISION = 11;
const REGISTERS = 1 << PRECISION;
const REST_BITS = 32 - PRECISION;

/**
 * The intermediate value of `_approx_count_distinct`, a HyperLogLog sketch of the keys seen.
 * Sketches merge on rereduce; `estimate()` is the final value. It serializes as its estimate,
 * so a caller that reduces once and sends the result as JSON already gives CouchDB's answer.
 * Keys are hashed as JSON text, so the counts are CouchDB-like, not bit-for-bit CouchDB's.
 */
export class DistinctSketch {
  readonly registers = new Uint8Array(REGISTERS);

  add(key: unknown): void {
    const digest = createHash('md5')
      .update(JSON.stringify(key) ?? 'null')
      .digest();
    const high = digest.readUInt32BE(0);
    const low = digest.readUInt32BE(4);
    const index = high >>> REST_BITS;
    const rest = high & ((1 << REST_BITS) - 1);
    // Position of the first 1 bit in the 53 bits after the index.
    const rank = rest !== 0 ? Math.clz32(rest) - PRECISION + 1 : REST_BITS + Math.clz32(low) + 1;
    if (rank > (this.registers[index] as number)) this.registers[index] = rank;
  }

  merge(other: DistinctSketch): void {
    for (let i = 0; i < REGISTERS; i++) {
      if ((other.registers[i] as number) > (this.registers[i] as number))
        this.registers[i] = other.registers[i] as number;
    }
  }

  estimate(): number {
    let harmonic = 0;
    let empty = 0;
    for (const r of this.registers) {
      harmonic += 2 ** -r;
      if (r === 0) empty++;
    }
    const alpha = 0.7213 / (1 + 1.079 / REGISTERS);
    const raw = (alpha * REGISTERS * REGISTERS) / harmonic;
    // Few keys: linear counting on the empty registers is far more accurate.
    return Math.round(
      raw <= 2.5 * REGISTERS && empty > 0 ? REGISTERS * Math.log(REGISTERS / empty) : raw,
    );
  }

  toJSON(): number {
    return this.estimate();
  }
}
