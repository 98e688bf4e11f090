import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createAuditLog, type AuditEntry, type AuditLog } from '../audit/audit.js';
import { SyncAccessWindows } from '../audit/sync-access.js';
import { teamFromDbName, userDbName, userFromDbName } from '../provisioning/names.js';

/** Routes whose staff use the hook records: they read or change other people's data. */
const STAFF_ROUTES = /^\/(admin|reports)(\/|$)/;

/** The login route: a staff member's successful login is recorded (`login`). */
const LOGIN_ROUTE = '/auth/login';

const isStaffRole = (r: string) => r === 'admin' || r === 'supervisor';

/** At most this many characters of a reason are kept. */
const REASON_MAX = 500;

declare module 'fastify' {
  interface FastifyInstance {
    audit: AuditLog;
  }
  interface FastifyContextConfig {
    /** The route writes its own, richer audit entry (export, erase, restriction). */
    audited?: boolean;
  }
}

/** The X-Sawa-Reason header, trimmed, or null. */
export function reasonOf(req: FastifyRequest): string | null {
  const h = req.headers['x-sawa-reason'];
  const v = (Array.isArray(h) ? h[0] : h)?.trim();
  return v ? v.slice(0, REASON_MAX) : null;
}

/** Who acted, from where: the parts of an entry every audited request has. */
export function actorOf(
  req: FastifyRequest,
): Pick<AuditEntry, 'actor' | 'actor_roles' | 'ip' | 'method' | 'route'> {
  return {
    actor: req.sawaUser?.name ?? 'anonymous',
    actor_roles: req.sawaUser?.roles ?? [],
    ip: req.ip ?? null,
    method: req.method,
    route: req.routeOptions.url,
  };
}

/**
 * Decorates `audit` and records every request an admin or supervisor makes to the staff
 * routes (`/admin/…`, `/reports/…`): who, which route (its pattern, never its values),
 * whose data (the route's `name` or `id`), the answer's status, the reason given in
 * X-Sawa-Reason, the client address; every successful admin or supervisor login; and their
 * syncs of other people's databases through /sync, one entry per window (sync-access.ts). Registered before the routes, so its onResponse hook
 * covers them all. Routes with `config.audited` write their own entry instead.
 */
async function auditHook(app: FastifyInstance): Promise<void> {
  const audit = createAuditLog(app.couch.nano, app.config.AUDIT_DB);
  app.decorate('audit', audit);
  const pending = new Set<Promise<unknown>>();

  app.addHook('onReady', async () => {
    await audit
      .ready()
      .catch((err) => app.log.warn({ err: String(err) }, 'audit database not ready yet'));
  });
  // Entries still being written when the service stops.
  app.addHook('onClose', async () => {
    await Promise.allSettled([...pending]);
  });

  const keep = (req: FastifyRequest | null, entry: Omit<AuditEntry, 'at'> & { at?: string }) => {
    const write = audit
      .record(entry)
      .catch((err: unknown) =>
        // Never the entry itself: it names a person.
        (req?.log ?? app.log).error({ err: String(err) }, 'audit entry not written'),
      )
      .finally(() => pending.delete(write));
    pending.add(write);
  };

  // A staff login: the answer names who signed in and their roles (the request has no user yet).
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.routeOptions.url !== LOGIN_ROUTE || reply.statusCode !== 200) return payload;
    if (typeof payload !== 'string') return payload;
    let user: { name?: unknown; roles?: unknown } | undefined;
    try {
      user = (JSON.parse(payload) as { user?: typeof user }).user;
    } catch {
      return payload;
    }
    const roles = Array.isArray(user?.roles) ? user.roles.map(String) : [];
    if (typeof user?.name !== 'string' || !roles.some(isStaffRole)) return payload;
    keep(req, {
      ...actorOf(req),
      actor: user.name,
      actor_roles: roles,
      action: 'login',
      subject: null,
      reason: null,
      status: reply.statusCode,
    });
    return payload;
  });

  // Staff syncing other people's databases: one entry per window (server/audit/sync-access.ts).
  const syncAccess = new SyncAccessWindows(app.config.AUDIT_SYNC_WINDOW_MIN * 60_000, (a, at) =>
    keep(null, {
      at: at.toISOString(),
      actor: a.actor,
      actor_roles: a.roles,
      action: a.access === 'read' ? 'sync-read' : 'sync-write',
      subject: userFromDbName(a.db),
      reason: null,
      ip: a.ip,
      route: a.route,
      detail: {
        db: a.db,
        team: teamFromDbName(a.db),
        device: a.device,
        window_minutes: app.config.AUDIT_SYNC_WINDOW_MIN,
      },
    }),
  );

  app.addHook('onResponse', async (req, reply) => {
    const user = req.sawaUser;
    if (!user || !user.roles.some(isStaffRole)) return;
    const ep = req.syncEndpoint;
    if (ep) {
      if (reply.statusCode < 400 && ep.db !== userDbName(user.name)) {
        const device = req.headers['x-sawa-device'];
        syncAccess.note({
          actor: user.name,
          roles: user.roles,
          db: ep.db,
          access: ep.need === 'write' ? 'write' : 'read',
          ip: req.ip ?? null,
          device: typeof device === 'string' ? device.slice(0, 32) : null,
          route: ep.route,
        });
      }
      return;
    }
    const route = req.routeOptions.url;
    if (!route || !STAFF_ROUTES.test(route) || req.routeOptions.config.audited) return;
    const params = (req.params ?? {}) as Record<string, string | undefined>;
    keep(req, {
      ...actorOf(req),
      action: 'access',
      subject: params.name ?? params.id ?? null,
      reason: reasonOf(req),
      status: reply.statusCode,
    });
  });
}

export default fp(auditHook, { name: 'sawa-audit', dependencies: ['couch'] });
