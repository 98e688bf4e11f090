/**
 * Label values for the per-user byte counters, bounded: Prometheus keeps one series per
 * label combination for ever, and both user names and device ids grow with the fleet.
 */

const DEVICE = /^[A-Za-z0-9._:-]+$/;
export const DEVICE_MAX_CHARS = 32;

/** Catch-all label values. User names never start with `_`, so these cannot collide. */
export const OTHER = '_other';
export const ANONYMOUS = '_anonymous';
export const UNKNOWN_DEVICE = 'unknown';

/** The X-Sawa-Device header as a label: absent or odd values are `unknown`, long ones cut. */
export function deviceLabel(header: string | string[] | undefined): string {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value || !DEVICE.test(value)) return UNKNOWN_DEVICE;
  return value.slice(0, DEVICE_MAX_CHARS);
}

/**
 * The first `max` distinct (user, device) pairs get their own series; later ones are counted
 * together under `_other`, so the totals stay right and the series count stays bounded.
 * Admission is first come, first served until restart: a counter that disappeared and
 * came back would read as a reset.
 */
export class SeriesBudget {
  private readonly admitted = new Set<string>();

  constructor(private readonly max: number) {}

  labels(user: string, device: string): { user: string; device: string } {
    const key = `${user}\u0000${device}`;
    if (this.admitted.has(key)) return { user, device };
    if (this.admitted.size < this.max) {
      this.admitted.add(key);
      return { user, device };
    }
    return { user: OTHER, device: OTHER };
  }

  get size(): number {
    return this.admitted.size;
  }
}
