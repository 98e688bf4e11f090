/** Durations as people type them (`90s`, `15m`, `12h`, `3d`, `2w`) and ages as they read them. */

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Milliseconds, or null when `text` is not a whole number followed by s, m, h, d or w. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+)\s*([smhdw])$/.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** The largest unit and the next: `3d 4h`, `5h 12m`, `3d` (not `3d 0h`), `40s`. */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const units = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const;
  const first = units.findIndex(([, size]) => seconds >= size);
  if (first === -1) return '0s';
  const [bigUnit, bigSize] = units[first] as (typeof units)[number];
  const big = Math.floor(seconds / bigSize);
  const next = units[first + 1];
  const small = next ? Math.floor((seconds - big * bigSize) / next[1]) : 0;
  return small && next ? `${big}${bigUnit} ${small}${next[0]}` : `${big}${bigUnit}`;
}
