import type { FastifyRequest } from 'fastify';
import { errors } from './errors.js';
import { params } from './http.js';

export type Feed = 'normal' | 'longpoll' | 'continuous' | 'eventsource';

export const DEFAULT_TIMEOUT_MS = 60_000;

/** The `_changes` parameters that shape the feed itself (filters are read by changes-filter.ts). */
export interface ChangesQuery {
  feed: Feed;
  style: 'main_only' | 'all_docs';
  limit: number | undefined;
  /** every Nth row carries its seq (seq_interval); 1 when not asked */
  every: number;
  heartbeat: number | undefined;
  timeout: number;
}

export function changesQuery(req: FastifyRequest): ChangesQuery {
  const asked = params.str(req, 'feed') ?? 'normal';
  // `live` is CouchDB's sugar for continuous.
  const feed = (asked === 'live' ? 'continuous' : asked) as Feed;
  if (!['normal', 'longpoll', 'continuous', 'eventsource'].includes(feed)) {
    throw errors.badRequest(
      'Supported `feed` types: normal, continuous, live, longpoll, eventsource',
    );
  }
  const seqInterval = params.str(req, 'seq_interval');
  if (seqInterval !== undefined && !(/^\d+$/.test(seqInterval) && Number(seqInterval) > 0)) {
    throw errors.badRequest('invalid_seq_interval');
  }
  const style = params.str(req, 'style') ?? 'main_only';
  if (style !== 'main_only' && style !== 'all_docs')
    throw errors.badRequest('style must be main_only or all_docs');
  return {
    feed,
    style,
    limit: params.int(req, 'limit'),
    every: seqInterval === undefined ? 1 : Number(seqInterval),
    heartbeat: heartbeatMs(params.str(req, 'heartbeat')),
    timeout: params.int(req, 'timeout') ?? DEFAULT_TIMEOUT_MS,
  };
}

/** `heartbeat`: `true` for the default period, or a positive number of milliseconds. */
function heartbeatMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return DEFAULT_TIMEOUT_MS;
  if (!/^-?\d+$/.test(value)) {
    throw errors.badRequest(
      'Invalid heartbeat value. Expecting a positive integer value (in milliseconds).',
    );
  }
  const ms = Number(value);
  if (ms <= 0)
    throw errors.badRequest('The heartbeat value should be a positive integer (in milliseconds).');
  return ms;
}
