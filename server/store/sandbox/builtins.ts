import { BuiltinReduceError } from './errors.js';
import { ErlangTuple, formatTerm } from './erlang-term.js';

/**
 * CouchDB's built-in `_sum`, `_count` and `_stats`, following couch_query_servers.erl clause by
 * clause, quirks included (an array's unmatched tail is added unchecked; an object is taken as is
 * when the running sum is still 0), since clients see the results and CouchDB is the reference.
 */

export const SUM_ERROR =
  'The _sum function requires that map values be numbers, arrays of numbers, or objects. ' +
  'Objects cannot be mixed with other data structures. Objects can be arbitrarily nested, ' +
  'provided that the values for all fields are themselves numbers, arrays of numbers, or objects.';

/** `_sum` does not fail on bad input: CouchDB returns this object as the row's value (status 200). */
export interface SumErrorValue {
  error: 'builtin_reduce_error';
  reason: string;
  caused_by?: unknown;
}

class InvalidSum {
  constructor(readonly cause: unknown) {}
}

/** A `builtin_reduce_error` among the values (from an earlier reduce) becomes the result as it is. */
class EarlierError {
  constructor(readonly value: Record<string, unknown>) {}
}

export function sum(values: readonly unknown[]): unknown {
  let total: unknown = 0;
  for (const value of values) {
    try {
      total = sumValues(value, total);
    } catch (thrown) {
      if (thrown instanceof EarlierError) return thrown.value;
      if (thrown instanceof InvalidSum)
        return { error: 'builtin_reduce_error', reason: SUM_ERROR, caused_by: thrown.cause };
      throw thrown;
    }
  }
  return total;
}

export function count(values: readonly unknown[], rereduce: boolean): unknown {
  return rereduce ? sum(values) : values.length;
}

function sumValues(value: unknown, acc: unknown): unknown {
  if (typeof value === 'number') {
    if (typeof acc === 'number') return acc + value;
    if (Array.isArray(acc)) return sumArrays(acc, [value]);
  } else if (Array.isArray(value)) {
    if (Array.isArray(acc)) return sumArrays(acc, value);
    if (typeof acc === 'number') return sumArrays([acc], value);
  } else if (isObject(value)) {
    if (value.error === 'builtin_reduce_error') throw new EarlierError(value);
    if (acc === 0) return value;
    // CouchDB crashes (case_clause) on an object after a number or an array; we report it instead.
    if (isObject(acc)) return sumObjects(value, acc);
  }
  throw new InvalidSum(value);
}

function sumArrays(xs: readonly unknown[], ys: readonly unknown[]): unknown[] {
  const both = Math.min(xs.length, ys.length);
  const out: unknown[] = [];
  for (let i = 0; i < both; i++) {
    const x = xs[i];
    const y = ys[i];
    if (typeof x !== 'number' || typeof y !== 'number') throw new InvalidSum(xs.slice(i));
    out.push(x + y);
  }
  return out.concat(xs.length > both ? xs.slice(both) : ys.slice(both));
}

function sumObjects(
  value: Record<string, unknown>,
  acc: Record<string, unknown>,
): Record<string, unknown> {
  const keys = [...new Set([...Object.keys(value), ...Object.keys(acc)])].sort();
  // fromEntries, not assignment, so a "__proto__" field stays a field.
  return Object.fromEntries(
    keys.map((k) => [
      k,
      !(k in acc) ? value[k] : !(k in value) ? acc[k] : sumValues(value[k], acc[k]),
    ]),
  );
}

type StatsAcc = ErlangTuple | StatsAcc[];

const STATS_FIELDS = ['sum', 'count', 'min', 'max', 'sumsqr'] as const;

/** `_stats`: `{sum, count, min, max, sumsqr}` of numbers, element-wise of arrays, and of earlier `_stats` results. */
export function stats(values: readonly unknown[]): unknown {
  if (values.length === 0) return pack(new ErlangTuple([0, 0, 0, 0, 0]));
  let acc = initialStats(values[0]);
  for (let i = 1; i < values.length; i++) acc = statValues(values[i], acc);
  return pack(acc);
}

function initialStats(value: unknown): StatsAcc {
  if (Array.isArray(value)) return value.map(initialStats);
  if (typeof value === 'number') return single(value);
  if (isObject(value)) return unpack(value);
  throw new BuiltinReduceError(`non-numeric _stats input: ${formatTerm(value, 'w')}`);
}

function statValues(value: unknown, acc: StatsAcc | ErlangTuple): StatsAcc {
  if (Array.isArray(value) && Array.isArray(acc) && value.length === acc.length) {
    return value.map((v, i) => statValues(v, acc[i] as StatsAcc));
  }
  if (isObject(value)) return statValues(unpack(value), acc);
  if (typeof value === 'number') return statValues(single(value), acc);
  if (value instanceof ErlangTuple && acc instanceof ErlangTuple) {
    const [s0, c0, min0, max0, q0] = value.items as number[];
    const [s1, c1, min1, max1, q1] = acc.items as number[];
    return new ErlangTuple([
      s0! + s1!,
      c0! + c1!,
      Math.min(min0!, min1!),
      Math.max(max0!, max1!),
      q0! + q1!,
    ]);
  }
  throw new BuiltinReduceError(
    `The _stats function requires that map values be numbers or arrays of numbers, not '${formatTerm(value, 'p')}'`,
  );
}

function single(x: number): ErlangTuple {
  return new ErlangTuple([x, 1, x, x, x * x]);
}

function unpack(props: Record<string, unknown>): ErlangTuple {
  return new ErlangTuple(
    STATS_FIELDS.map((field) => {
      const v = props[field];
      if (typeof v === 'number') return v;
      if (v === undefined) {
        const proplist = formatTerm(props, 'p').slice(1, -1);
        throw new BuiltinReduceError(
          `user _stats input missing required field ${field} (${proplist})`,
        );
      }
      throw new BuiltinReduceError(
        `non-numeric _stats input received for ${field}: ${formatTerm(v, 'w')}`,
      );
    }),
  );
}

function pack(acc: StatsAcc): unknown {
  if (Array.isArray(acc)) return acc.map(pack);
  const [sum, count, min, max, sumsqr] = acc.items;
  return { sum, count, min, max, sumsqr };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof ErlangTuple)
  );
}
