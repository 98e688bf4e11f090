import zlib from 'node:zlib';

/**
 * A gzip answer written piece by piece without a compressor held open between the pieces:
 * a phone parked on a longpoll gets a heartbeat every few seconds for minutes, and a zlib
 * stream per waiting phone would cost ~256 KB each. Every heartbeat is the same
 * self-contained deflate block (no back-references, ending byte-aligned after a sync flush),
 * the final answer is deflated in one go, and the trailer's CRC-32 and length are kept as two
 * numbers. A continuous feed's rows are each a flushed block of their own (`block`). Decoders
 * see one ordinary gzip member.
 */

// ID1 ID2, deflate, no flags, no mtime, no extra flags, OS unknown.
const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
const LINE = Buffer.from('\n');
const LINE_BLOCK = zlib.deflateRawSync(LINE, { finishFlush: zlib.constants.Z_SYNC_FLUSH });

export class GzipFrames {
  private crc = 0;
  private size = 0;
  private started = false;

  /** A heartbeat (`\n`), preceded by the gzip header the first time. */
  line(): Buffer {
    this.crc = zlib.crc32(LINE, this.crc);
    this.size += 1;
    return this.withHeader(LINE_BLOCK);
  }

  /** `body` (a continuous feed's rows) as a block of its own, flushed: the phone has it whole. */
  block(body: Buffer): Buffer {
    this.crc = zlib.crc32(body, this.crc);
    this.size += body.length;
    return this.withHeader(zlib.deflateRawSync(body, { finishFlush: zlib.constants.Z_SYNC_FLUSH }));
  }

  /** `body` as the last block, then the trailer: nothing may follow. */
  last(body: Buffer): Buffer {
    this.crc = zlib.crc32(body, this.crc);
    this.size += body.length;
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.size % 2 ** 32, 4);
    return Buffer.concat([this.withHeader(zlib.deflateRawSync(body)), trailer]);
  }

  private withHeader(block: Buffer): Buffer {
    if (this.started) return block;
    this.started = true;
    return Buffer.concat([HEADER, block]);
  }
}
