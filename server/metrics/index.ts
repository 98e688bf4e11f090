import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { ANONYMOUS, deviceLabel, SeriesBudget } from './labels.js';
import { metricsAuth } from './auth.js';
import { onWireBytes } from './wire.js';
import { onProviderCall } from './provider-calls.js';

/**
 * Prometheus metrics for the ops network: request counts and latencies by route and status,
 * bytes on the wire per user and device, sync-rule refusals, and prom-client's process
 * metrics. One registry per app instance (not prom-client's global one), so tests and
 * scripts can build several apps in one process.
 */
export interface Metrics {
  registry: Registry;
  /** Documents refused by the sync rules at the gateway. */
  writeRejections: Counter<'db_kind'>;
  /** Calls `listener` with each answered request's bytes on the wire; returns the unsubscriber. */
  onWire(listener: WireListener): () => void;
}

export type WireListener = (req: FastifyRequest, bytesIn: number, bytesOut: number) => void;

// From a cached answer on a LAN to a 2G pull of a large batch, and longpoll feeds (60 s).
const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

async function metricsPlugin(app: FastifyInstance): Promise<void> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const requests = new Counter({
    name: 'sawa_http_requests_total',
    help: 'HTTP requests answered, by route template, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'sawa_http_request_duration_seconds',
    help: 'Time from request to the end of the answer (whole feed for streamed _changes)',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const bytes = new Counter({
    name: 'sawa_wire_bytes_total',
    help: 'Bytes on the wire (headers included, after compression) by direction, user and device',
    labelNames: ['direction', 'user', 'device'] as const,
    registers,
  });
  const writeRejections = new Counter({
    name: 'sawa_sync_write_rejections_total',
    help: 'Documents the gateway refused under the sync rules',
    labelNames: ['db_kind'] as const,
    registers,
  });
  const budget = new SeriesBudget(app.config.METRICS_USER_SERIES);

  const wireListeners = new Set<WireListener>();
  const onWire = (listener: WireListener) => {
    wireListeners.add(listener);
    return () => void wireListeners.delete(listener);
  };
  app.decorate('metrics', { registry, writeRejections, onWire } satisfies Metrics);
  app.decorateRequest('metricsRoute', null);

  app.addHook('onRequest', async (req, reply) => {
    const stop = latency.startTimer();
    onWireBytes(req.raw, reply.raw, (bytesIn, bytesOut) => {
      const labels = {
        route: routeOf(req),
        method: req.method,
        status: String(reply.raw.statusCode),
      };
      requests.inc(labels);
      stop(labels);
      const who = budget.labels(userOf(req), deviceLabel(req.headers['x-sawa-device']));
      bytes.inc({ direction: 'in', ...who }, bytesIn);
      bytes.inc({ direction: 'out', ...who }, bytesOut);
      for (const listener of wireListeners) listener(req, bytesIn, bytesOut);
    });
  });

  app.get(
    '/metrics',
    {
      onRequest: metricsAuth(app.config.METRICS_TOKEN),
      schema: {
        summary: 'Prometheus metrics (ops network only)',
        description:
          'Prometheus text format. Needs `Authorization: Bearer <METRICS_TOKEN>`; without ' +
          'METRICS_TOKEN configured the endpoint is off (404).',
        tags: ['operations'],
        security: [{ bearer: [] }],
        response: {
          200: { description: 'Prometheus text exposition format 0.0.4', type: 'string' },
        },
      },
    },
    async (_req, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    },
  );

  const providerCalls = new Counter({
    name: 'sawa_provider_calls_total',
    help: 'Calls to outside providers (payments, SMS) by provider, kind of call and outcome',
    labelNames: ['provider', 'kind', 'outcome'] as const,
    registers,
  });
  const stopCounting = onProviderCall((call) => providerCalls.inc({ ...call }));

  app.addHook('onClose', async () => {
    stopCounting();
    registry.clear();
  });
}

/** A route template, never the concrete path: paths carry database names and document ids. */
function routeOf(req: FastifyRequest): string {
  return req.metricsRoute ?? req.routeOptions.url ?? 'unmatched';
}

function userOf(req: FastifyRequest): string {
  return (req as { sawaUser?: { name?: string } | null }).sawaUser?.name ?? ANONYMOUS;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
  interface FastifyRequest {
    /** Route template for metrics, when the router's own (e.g. `/sync/*`) says too little. */
    metricsRoute: string | null;
  }
}

export default fp(metricsPlugin, { name: 'sawa-metrics' });
