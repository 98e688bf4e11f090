import type { Conflict, Rejection, SyncState } from '../client/types.js';

/**
 * What the sync screen and the status line show. Kept in localStorage, so it survives a
 * reload with no network: when the last complete round ended and which writes the server
 * refused (with its reason). The count of writes waiting comes from the client.
 */

const KEY = 'sawa.sync';

interface Saved {
  lastSynced: number | null;
  refused: Rejection[];
}

export interface SyncView {
  state: SyncState;
  lastSynced: number | null;
  waiting: number;
  refused: Rejection[];
  conflicts: Conflict[];
}

export class SyncLog {
  private saved: Saved;
  /** Local writes the server has not accepted yet (refused ones excluded). */
  waiting = 0;
  state: SyncState = 'signed-out';
  conflicts: Conflict[] = [];
  private listeners = new Set<() => void>();

  constructor() {
    this.saved = { lastSynced: null, refused: [], ...read() };
  }

  view(): SyncView {
    return {
      state: this.state,
      lastSynced: this.saved.lastSynced,
      waiting: this.waiting,
      refused: this.saved.refused,
      conflicts: this.conflicts,
    };
  }

  setWaiting(n: number): void {
    if (n === this.waiting) return;
    this.waiting = n;
    this.notify();
  }

  setState(state: SyncState): void {
    this.state = state;
    this.notify();
  }

  roundDone(complete: boolean): void {
    if (complete) this.saved.lastSynced = Date.now();
    this.save();
  }

  refuse(r: Rejection): void {
    const same = (x: Rejection) => x.id === r.id && x.db === r.db;
    this.saved.refused = [r, ...this.saved.refused.filter((x) => !same(x))].slice(0, 50);
    this.save();
  }

  /** A refused document written again (fixed): no longer listed as refused. */
  forgetRefusal(id: string): void {
    this.saved.refused = this.saved.refused.filter((x) => x.id !== id);
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  reset(): void {
    this.saved = { lastSynced: null, refused: [] };
    this.conflicts = [];
    this.waiting = 0;
    localStorage.removeItem(KEY);
    this.notify();
  }

  private save(): void {
    localStorage.setItem(KEY, JSON.stringify(this.saved));
    this.notify();
  }

  notify(): void {
    for (const fn of this.listeners) fn();
  }
}

function read(): Partial<Saved> {
  try {
    return JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Saved>;
  } catch {
    return {};
  }
}
