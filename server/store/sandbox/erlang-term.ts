/**
 * CouchDB builds some reduce error reasons with Erlang's `io_lib:format` (`~p`, `~w`) over the
 * decoded JSON, so the text a client sees shows Erlang terms: strings as binaries (`<<"abc">>`
 * or `<<97,98,99>>`), objects as `{[{<<"k">>,1}]}`, null/true/false as atoms. This renders a JSON
 * value the same way, close enough to read alike (Erlang's line wrapping is not reproduced).
 */

/** An Erlang tuple, e.g. the `{Sum, Count, Min, Max, SumSqr}` accumulator of `_stats`. */
export class ErlangTuple {
  constructor(readonly items: readonly unknown[]) {}
}

export type ErlangStyle = 'p' | 'w';

export function formatTerm(value: unknown, style: ErlangStyle): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string') return formatBinary(value, style);
  if (value instanceof ErlangTuple)
    return `{${value.items.map((x) => formatTerm(x, style)).join(',')}}`;
  if (Array.isArray(value)) {
    if (style === 'p' && value.length > 0 && value.every(isPrintableCode)) {
      return JSON.stringify(String.fromCharCode(...(value as number[])));
    }
    return `[${value.map((x) => formatTerm(x, style)).join(',')}]`;
  }
  const props = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => `{${formatBinary(k, style)},${formatTerm(v, style)}}`,
  );
  return `{[${props.join(',')}]}`;
}

function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  // Erlang floats always show a fraction and an unsigned exponent: 1.0e21, 1.5e-7.
  const [mantissa = '', exponent] = String(n).split('e');
  const fraction = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return exponent === undefined ? fraction : `${fraction}e${exponent.replace('+', '')}`;
}

function formatBinary(s: string, style: ErlangStyle): string {
  if (s === '') return '<<>>';
  if (style === 'p' && /^[\x20-\x7e\n\t\r]*$/.test(s)) {
    return `<<"${s
      .replace(/[\\"]/g, (c) => `\\${c}`)
      .replace(/\n/g, '\\n')
      .replace(/\t/g, '\\t')
      .replace(/\r/g, '\\r')}">>`;
  }
  return `<<${Array.from(Buffer.from(s, 'utf8')).join(',')}>>`;
}

function isPrintableCode(x: unknown): boolean {
  return Number.isInteger(x) && (x as number) >= 32 && (x as number) <= 126;
}
