import { inflateSync } from 'node:zlib';
import { UnexpectedCouchData } from '../errors.js';

/**
 * CouchDB's sequences are opaque: a cluster answers `"<n>-<base64url>"`, where n is a sum over
 * shards and the rest is Erlang's term_to_binary of one `{Node, [Begin, End], Seq}` per shard
 * range (Seq a number, or `{Number, ShardUuid, Node}` in `_changes`). Which copy of a range
 * answers changes from one request to the next, and with it the text and the sum, so two
 * sequences are compared here range by range, and only sequences of the same kind (an
 * `update_seq` is never compared with a `last_seq`). The embedded store answers `"<n>-sawa"`:
 * one range.
 */

export interface ShardSeq {
  seq: number;
  /** The shard file's uuid (changes sequences only): a new one means a new database file. */
  uuid?: string;
}

/** The leading number of any sequence (0 when there is none). */
export function seqNumber(seq: unknown): number {
  const n = parseInt(String(seq), 10);
  return Number.isNaN(n) ? 0 : n;
}

/** A sequence's value per shard range ("begin-end"); one range "all" when it is not packed. */
export function shardSeqs(seq: unknown): Map<string, ShardSeq> {
  const text = String(seq ?? '0');
  const dash = text.indexOf('-');
  const packed = dash > 0 ? decodePacked(text.slice(dash + 1)) : null;
  return packed ?? new Map([['all', { seq: seqNumber(text) }]]);
}

/** True when some shard range counts more purges in `now` than in `before`. */
export function purgedSince(before: unknown, now: unknown): boolean {
  const a = shardSeqs(before);
  const b = shardSeqs(now);
  if (!sameRanges(a, b)) return seqNumber(now) > seqNumber(before);
  for (const [range, s] of b) if (s.seq > (a.get(range)?.seq ?? 0)) return true;
  return false;
}

/**
 * True when the database behind changes sequence `now` cannot be a continuation of the one
 * `before` came from: a shard file with another uuid (deleted and created again), or, where
 * sequences carry no uuid, a range whose sequence went back.
 */
export function startedOver(before: unknown, now: unknown): boolean {
  const a = shardSeqs(before);
  const b = shardSeqs(now);
  if (!sameRanges(a, b)) return false;
  for (const [range, s] of b) {
    const old = a.get(range)!;
    if (old.uuid && s.uuid) {
      if (old.uuid !== s.uuid) return true;
    } else if (s.seq < old.seq) return true;
  }
  return false;
}

function sameRanges(a: Map<string, ShardSeq>, b: Map<string, ShardSeq>): boolean {
  return a.size === b.size && [...a.keys()].every((k) => b.has(k));
}

function decodePacked(opaque: string): Map<string, ShardSeq> | null {
  try {
    const term = decodeTerm(Buffer.from(opaque, 'base64url'));
    if (!Array.isArray(term)) return null;
    const out = new Map<string, ShardSeq>();
    for (const entry of term) {
      if (!(entry instanceof Tuple) || entry.items.length < 3) return null;
      const [, range, value] = entry.items;
      if (!Array.isArray(range) || range.length !== 2) return null;
      const key = `${String(range[0])}-${String(range[1])}`;
      if (typeof value === 'number') out.set(key, { seq: value });
      else if (value instanceof Tuple && typeof value.items[0] === 'number') {
        const uuid = value.items[1];
        out.set(key, { seq: value.items[0], ...(typeof uuid === 'string' && { uuid }) });
      } else return null;
    }
    return out.size ? out : null;
  } catch {
    return null;
  }
}

class Tuple {
  constructor(readonly items: Term[]) {}
}
type Term = number | string | Term[] | Tuple;

/** Erlang's external term format, the few types CouchDB puts in a sequence. */
export function decodeTerm(buf: Buffer): Term {
  if (buf[0] !== 131) throw new UnexpectedCouchData('not an Erlang term');
  let body = buf.subarray(1);
  if (body[0] === 80) body = inflateSync(body.subarray(5));
  let pos = 0;
  const u8 = () => body[pos++]!;
  const u16 = () => ((pos += 2), body.readUInt16BE(pos - 2));
  const u32 = () => ((pos += 4), body.readUInt32BE(pos - 4));
  const text = (n: number) => ((pos += n), body.toString('utf8', pos - n, pos));
  const read = (): Term => {
    const tag = u8();
    switch (tag) {
      case 97:
        return u8();
      case 98:
        return ((pos += 4), body.readInt32BE(pos - 4));
      case 110: {
        const n = u8();
        const negative = u8() === 1;
        let value = 0;
        for (let i = 0; i < n; i++) value += body[pos + i]! * 2 ** (8 * i);
        pos += n;
        return negative ? -value : value;
      }
      case 100:
      case 118:
        return text(u16());
      case 115:
      case 119:
        return text(u8());
      case 109:
        return text(u32()); // binaries here are uuids and node names: text
      case 107: {
        const n = u16();
        return Array.from(body.subarray(pos, (pos += n)));
      }
      case 104:
      case 105: {
        const arity = tag === 104 ? u8() : u32();
        return new Tuple(Array.from({ length: arity }, read));
      }
      case 106:
        return [];
      case 108: {
        const items = Array.from({ length: u32() }, read);
        read(); // the tail: [] for a proper list
        return items;
      }
      default:
        throw new UnexpectedCouchData(`unexpected Erlang term tag ${tag}`);
    }
  };
  return read();
}
