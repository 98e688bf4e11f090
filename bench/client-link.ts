import net from 'node:net';

/**
 * A phone's radio link on loopback: a TCP proxy in front of the service that holds each
 * direction to its bandwidth (one queue per direction, shared by every connection, as one
 * radio is), adds half the round trip each way and one round trip per new connection (the
 * TCP handshake), counts the bytes that got across, and can cut the link.
 */
export interface LinkShape {
  downBitsPerSec: number;
  upBitsPerSec: number;
  rttMs: number;
}

/** The 2G link of issue 10: 250 kbit/s down, 50 kbit/s up, 300 ms round trip. */
export const EDGE_2G: LinkShape = { downBitsPerSec: 250_000, upBitsPerSec: 50_000, rttMs: 300 };

// Segments of a TCP packet's payload: a 64 KB chunk is not delivered in one instant.
const SEGMENT = 1400;

/** One direction's bandwidth, shared by every connection: when each segment arrives. */
class Direction {
  private freeAt = 0;
  bytes = 0;

  constructor(
    private readonly bitsPerSec: number,
    private readonly delayMs: number,
  ) {}

  /** Arrival time of `size` bytes queued now. */
  schedule(size: number, notBefore: number): number {
    const start = Math.max(performance.now(), this.freeAt);
    this.freeAt = start + (size * 8 * 1000) / this.bitsPerSec;
    return Math.max(this.freeAt + this.delayMs, notBefore);
  }

  /** When something queued now behind everything else (a FIN) arrives. */
  behind(notBefore: number): number {
    return Math.max(Math.max(performance.now(), this.freeAt) + this.delayMs, notBefore);
  }
}

/**
 * One connection's traffic in one direction, delivered strictly in order by one timer
 * (separate timers per segment could overtake each other: Node computes their expiry from
 * a clock cached per event-loop turn).
 */
class Lane {
  private readonly queue: { at: number; data: Buffer | null }[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly dir: Direction,
    private readonly notBefore: number,
    private readonly target: net.Socket,
    private readonly deliver: (data: Buffer) => void,
    private readonly finish: () => void,
  ) {}

  send(chunk: Buffer): void {
    for (let at = 0; at < chunk.length; at += SEGMENT) {
      const data = chunk.subarray(at, at + SEGMENT);
      this.queue.push({ at: this.dir.schedule(data.length, this.notBefore), data });
    }
    this.pump();
  }

  end(): void {
    this.queue.push({ at: this.dir.behind(this.notBefore), data: null });
    this.pump();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }

  private pump = (): void => {
    clearTimeout(this.timer);
    const now = performance.now();
    while (this.queue.length > 0 && (this.queue[0] as { at: number }).at <= now) {
      const { data } = this.queue.shift() as { data: Buffer | null };
      if (data === null) return this.finish();
      if (this.target.destroyed) return this.stop(); // the link was cut: nothing arrives
      this.dir.bytes += data.length;
      this.deliver(data);
    }
    const head = this.queue[0];
    if (head) this.timer = setTimeout(this.pump, Math.max(1, head.at - now));
  };
}

export class Link {
  readonly up: Direction;
  readonly down: Direction;
  private readonly sockets = new Set<net.Socket>();
  private server: net.Server | null = null;
  private cutAtDown: number | null = null;
  private isDown = false;
  connections = 0;
  url = '';

  constructor(
    private readonly target: string,
    private readonly shape: LinkShape,
  ) {
    this.up = new Direction(shape.upBitsPerSec, shape.rttMs / 2);
    this.down = new Direction(shape.downBitsPerSec, shape.rttMs / 2);
  }

  get bytes(): number {
    return this.up.bytes + this.down.bytes;
  }

  async open(): Promise<this> {
    const to = new URL(this.target);
    this.server = net.createServer((phone) => {
      if (this.isDown) return phone.destroy();
      this.connections++;
      const server = net.connect(Number(to.port), to.hostname);
      const handshakeDone = performance.now() + this.shape.rttMs;
      this.sockets.add(phone).add(server);
      const end = () => {
        up.stop();
        down.stop();
        phone.destroy();
        server.destroy();
        this.sockets.delete(phone);
        this.sockets.delete(server);
      };
      const up = new Lane(this.up, handshakeDone, server, (d) => void server.write(d), end);
      const down = new Lane(
        this.down,
        handshakeDone,
        phone,
        (d) => {
          phone.write(d);
          if (this.cutAtDown !== null && this.down.bytes >= this.cutAtDown) this.cut();
        },
        end,
      );
      phone.on('data', (c: Buffer) => up.send(c));
      server.on('data', (c: Buffer) => down.send(c));
      // A side that closes does so behind the data it sent, which is still on its way.
      phone.on('error', end).on('close', () => up.end());
      server.on('error', end).on('close', () => down.end());
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
    return this;
  }

  /** Cuts the link once this many bytes have come down (counted from now on). */
  cutAfterDown(bytes: number): void {
    this.cutAtDown = this.down.bytes + bytes;
  }

  /** The radio drops: every connection dies, new ones fail until `restore()`. */
  cut(): void {
    this.cutAtDown = null;
    this.isDown = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.isDown = false;
  }

  get wasCut(): boolean {
    return this.isDown;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
