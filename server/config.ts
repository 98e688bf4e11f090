import { Type, type Static } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { corsOriginsProblems } from './edge/cors.js';
import { trustProxyProblems } from './edge/trust-proxy.js';
import { transferProblems } from './transfers.js';
import { rsaPublicKeyProblems } from './util/public-key.js';
import { DB_NAME_RULE, DB_PATTERN_RULE } from './util/db-name.js';

/** A string enum as plain JSON Schema `enum`, so a bad value gets one message naming the choices. */
function oneOf<const T extends readonly string[]>(
  values: T,
  opts: { default: T[number]; description: string },
) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...opts });
}

/**
 * Every setting Sawa reads, with its default, in one schema. Nothing else in the
 * code reads process.env: entry points call loadConfig() once and pass the result on.
 */
export const ConfigSchema = Type.Object({
  NODE_ENV: oneOf(['development', 'production', 'test'] as const, {
    default: 'development',
    description: 'development generates missing secrets under DATA_DIR',
  }),
  PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 3000,
    description: 'HTTP port of the service',
  }),
  HOST: Type.String({
    minLength: 1,
    default: '127.0.0.1',
    description: 'interface the service binds (0.0.0.0 for every interface)',
  }),
  STORE_PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 5984,
    description: 'port of the embedded store (always bound to loopback by npm start)',
  }),
  STORE_HOST: Type.String({
    minLength: 1,
    default: '127.0.0.1',
    description: 'interface `npm run store` binds',
  }),
  DATA_DIR: Type.String({
    minLength: 1,
    default: './data',
    description: 'where the embedded store keeps its databases and generated secrets',
  }),
  COUCHDB_URL: Type.Optional(
    Type.String({
      pattern: '^https?://',
      description: 'an Apache CouchDB 3.x to use instead of the embedded store',
    }),
  ),
  COUCHDB_USER: Type.Optional(
    Type.String({ minLength: 1, description: 'CouchDB server admin name' }),
  ),
  COUCHDB_PASSWORD: Type.Optional(
    Type.String({ minLength: 1, description: 'CouchDB server admin password' }),
  ),
  COUCHDB_PROXY_SECRET: Type.Optional(
    Type.String({
      minLength: 16,
      description:
        'secret for CouchDB proxy authentication ([chttpd_auth] secret); generated under DATA_DIR for the embedded store',
    }),
  ),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
    default: 'info',
    description: 'pino log level',
  }),
  STORE_MAX_REQUEST_BYTES: Type.Integer({
    minimum: 1024,
    default: 64 * 1024 * 1024,
    description: 'largest request body the embedded store accepts (413 above)',
  }),
  STORE_MAX_DOCUMENT_BYTES: Type.Integer({
    minimum: 1024,
    default: 8 * 1024 * 1024,
    description: 'largest JSON document the embedded store accepts, as CouchDB max_document_size',
  }),
  JWT_SECRET: Type.Optional(
    Type.String({
      minLength: 32,
      description:
        'HS256 key for access tokens (32+ chars); required in production unless JWT_ALGORITHM is asymmetric; generated under DATA_DIR in development',
    }),
  ),
  JWT_ALGORITHM: oneOf(['HS256', 'RS256', 'ES256', 'EdDSA'] as const, {
    default: 'HS256',
    description: 'access-token signature algorithm',
  }),
  JWT_PRIVATE_KEY_FILE: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'PEM private key for RS256/ES256/EdDSA access tokens',
    }),
  ),
  JWT_PUBLIC_KEY_FILE: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'PEM public key for RS256/ES256/EdDSA access tokens',
    }),
  ),
  ACCESS_TOKEN_TTL_SEC: Type.Integer({
    minimum: 30,
    maximum: 86400,
    default: 900,
    description: 'access-token lifetime, seconds',
  }),
  REFRESH_TOKEN_TTL_SEC: Type.Integer({
    minimum: 300,
    default: 30 * 86400,
    description: 'refresh-token lifetime, seconds (a phone offline longer must log in again)',
  }),
  PASSWORD_MIN_LENGTH: Type.Integer({
    minimum: 6,
    maximum: 128,
    default: 8,
    description: 'shortest password accepted at signup',
  }),
  AUTH_RATE_LIMIT_PER_MIN: Type.Integer({
    minimum: 1,
    default: 10,
    description:
      'wrong passwords per minute for one user name from one address before that pair is blocked (a minute, doubling each time, up to an hour)',
  }),
  AUTH_IP_RATE_LIMIT_PER_MIN: Type.Integer({
    minimum: 1,
    default: 60,
    description:
      'login, signup and password-change attempts per minute from one client address, whatever the names',
  }),
  SIGNUP: oneOf(['open', 'invite', 'closed'] as const, {
    default: 'open',
    description:
      'who may sign up: open (anyone), invite (with an invitation code), closed (admins create users)',
  }),
  INVITE_TTL_DAYS: Type.Integer({
    minimum: 1,
    maximum: 365,
    default: 7,
    description: 'days an invitation code stays valid unless its creator says otherwise',
  }),
  CORS_ORIGINS: Type.Optional(
    Type.String({
      description:
        'origins of apps allowed to call the API from a browser, separated by commas (capacitor://localhost, https://app.example.org); * outside production only',
    }),
  ),
  TRUST_PROXY: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'trust X-Forwarded-For from the front end: a hop count (1) or its addresses/CIDRs separated by commas; off by default',
    }),
  ),
  ACCOUNTS_DB: Type.String({
    pattern: `^${DB_NAME_RULE}$`,
    default: 'sawa-accounts',
    description: 'CouchDB database holding Sawa user records and refresh tokens',
  }),
  SYNC_MAX_REQUEST_BYTES: Type.Integer({
    minimum: 1024,
    default: 16 * 1024 * 1024,
    description: 'largest request body the sync gateway accepts (413 above), after gzip decoding',
  }),
  SYNC_MAX_DOCS_PER_REQUEST: Type.Integer({
    minimum: 1,
    default: 1000,
    description:
      'most documents one sync _bulk_docs may carry (413 above); at least the batch_size phones use',
  }),
  SYNC_CHANGE_HUB: oneOf(['on', 'off'] as const, {
    default: 'on',
    description:
      "on: phones' longpoll _changes wait on one _db_updates feed in the gateway instead of one CouchDB request each; off: each is forwarded",
  }),
  SYNC_UPSTREAM_CONNECTIONS: Type.Integer({
    minimum: 1,
    default: 128,
    description:
      'most connections (requests in flight) from the sync gateway to CouchDB, live feeds and streamed uploads aside; more wait their turn',
  }),
  SYNC_RATE_LIMIT_PER_MIN: Type.Integer({
    minimum: 1,
    default: 1200,
    description: 'sync gateway requests per minute per user',
  }),
  JOBS_ENABLED: Type.String({
    minLength: 1,
    default: 'all',
    description: 'jobs this instance schedules: all, none, or names separated by commas',
  }),
  JOBS_LEASE_TTL_SEC: Type.Integer({
    minimum: 5,
    maximum: 3600,
    default: 60,
    description:
      'life of a job lease, seconds: renewed every third of it while the job runs; a dead holder is replaced after it',
  }),
  JOBS_SAFETY_PASS_MIN: Type.Integer({
    minimum: 1,
    maximum: 10080,
    default: 60,
    description:
      'minutes between job runs that look at every user and team database, whatever _db_updates reports',
  }),
  JOB_RECONCILE_SCHEDULE: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'cron expression of the conflict reconciler (default every minute)',
    }),
  ),
  JOB_AGGREGATE_SCHEDULE: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'cron expression of the aggregator (default: its own)',
    }),
  ),
  METRICS_TOKEN: Type.Optional(
    Type.String({
      minLength: 16,
      description: 'bearer token Prometheus sends to GET /metrics; without it /metrics is off',
    }),
  ),
  METRICS_USER_SERIES: Type.Integer({
    minimum: 0,
    default: 2000,
    description:
      'most (user, device) pairs labelled in sawa_wire_bytes_total; later ones count as _other (0: none)',
  }),
  AGGREGATES_DB: Type.String({
    pattern: `^${DB_NAME_RULE}$`,
    default: 'sawa-aggregates',
    description: 'CouchDB database the aggregator writes report buckets to',
  }),
  AGGREGATE_BATCH_SIZE: Type.Integer({
    minimum: 1,
    maximum: 10000,
    default: 500,
    description: 'changes the aggregator reads per page of a database _changes feed',
  }),
  AGGREGATE_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 4,
    description: 'databases the aggregator works on at once',
  }),
  REPORTS_MAX_AGE_SEC: Type.Integer({
    minimum: 0,
    maximum: 86400,
    default: 60,
    description:
      'Cache-Control max-age of GET /reports/… answers; after it a client revalidates (304)',
  }),
  AUDIT_DB: Type.String({
    pattern: `^${DB_NAME_RULE}$`,
    default: 'sawa-audit',
    description: 'append-only CouchDB database of the audit log (staff access, privacy actions)',
  }),
  AUDIT_SYNC_WINDOW_MIN: Type.Integer({
    minimum: 1,
    maximum: 1440,
    default: 60,
    description:
      'staff access to other people’s databases through /sync is audited once per staff member, database, read or write, address and device per this many minutes',
  }),
  PRIVACY_DB: Type.String({
    pattern: `^${DB_NAME_RULE}$`,
    default: 'sawa-privacy',
    description: 'CouchDB database of processing restrictions',
  }),
  JOB_RETENTION_SCHEDULE: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'cron expression of the retention job (default daily at 03:15)',
    }),
  ),
  PAYMENTS_DAILY_LIMIT_TZS: Type.Integer({
    minimum: 0,
    default: 1_000_000,
    description: 'most shillings the payments worker pays for one agent in one (UTC) day',
  }),
  PAYMENTS_MAX_ATTEMPTS: Type.Integer({
    minimum: 1,
    maximum: 20,
    default: 5,
    description:
      'payment calls per request on retryable errors; also status queries before a stuck payment is flagged',
  }),
  PAYMENTS_RETRY_BASE_SEC: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 30,
    description: 'first retry and status-query delay, seconds; doubles each time, with jitter',
  }),
  PROVIDER_TIMEOUT_MS: Type.Integer({
    minimum: 1000,
    maximum: 120_000,
    default: 15_000,
    description:
      'deadline of one call to an SMS or payment provider, ms; after it the outcome is unknown',
  }),
  AZAMPAY_AUTH_URL: Type.String({
    pattern: '^https?://[^/]+(/.*[^/])?$',
    default: 'https://authenticator-sandbox.azampay.co.tz',
    description: 'AzamPay token service (production: https://authenticator.azampay.co.tz)',
  }),
  AZAMPAY_CHECKOUT_URL: Type.String({
    pattern: '^https?://[^/]+(/.*[^/])?$',
    default: 'https://sandbox.azampay.co.tz',
    description: 'AzamPay checkout API (production: https://checkout.azampay.co.tz)',
  }),
  AZAMPAY_APP_NAME: Type.Optional(Type.String({ minLength: 1, description: 'AzamPay app name' })),
  AZAMPAY_CLIENT_ID: Type.Optional(Type.String({ minLength: 1, description: 'AzamPay client id' })),
  AZAMPAY_CLIENT_SECRET: Type.Optional(
    Type.String({ minLength: 1, description: 'AzamPay client secret (a secret: never logged)' }),
  ),
  AZAMPAY_API_KEY: Type.Optional(
    Type.String({ minLength: 1, description: 'AzamPay X-API-Key (a secret: never logged)' }),
  ),
  AZAMPAY_CALLBACK_SECRET: Type.Optional(
    Type.String({
      minLength: 16,
      description:
        'path secret of the AzamPay callback URL /integrations/azampay/callback/<secret>; without it callbacks are refused',
    }),
  ),
  MPESA_BASE_URL: Type.String({
    pattern: '^https?://[^/]+(/.*[^/])?$',
    default: 'https://openapi.m-pesa.com/sandbox/ipg/v2/vodacomTZN',
    description:
      'Vodacom M-Pesa OpenAPI market base (production: https://openapi.m-pesa.com/openapi/ipg/v2/vodacomTZN)',
  }),
  MPESA_API_KEY: Type.Optional(
    Type.String({ minLength: 1, description: 'M-Pesa OpenAPI API key (a secret: never logged)' }),
  ),
  MPESA_PUBLIC_KEY: Type.Optional(
    Type.String({
      minLength: 100,
      description: 'M-Pesa OpenAPI public key, base64 as the portal shows it (or PEM)',
    }),
  ),
  MPESA_SERVICE_PROVIDER_CODE: Type.Optional(
    Type.String({
      pattern: '^[0-9A-Za-z]{1,20}$',
      description: 'M-Pesa business short code (input_ServiceProviderCode)',
    }),
  ),
  MPESA_ORIGIN: Type.String({
    minLength: 1,
    default: '*',
    description: 'Origin header M-Pesa OpenAPI calls carry (as set on the portal application)',
  }),
  MPESA_CALLBACK_SECRET: Type.Optional(
    Type.String({
      minLength: 16,
      description:
        'path secret of the M-Pesa result URL /integrations/mpesa/callback/<secret>; without it callbacks are refused',
    }),
  ),
  CALLBACK_ALLOWED_IPS: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'provider callbacks only from these addresses (comma-separated); default: any',
    }),
  ),
  JOB_PAYMENTS_SCHEDULE: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'cron expression of the payments worker (default every 15 seconds)',
    }),
  ),
  JOBS_DB: Type.String({
    pattern: `^${DB_NAME_RULE}$`,
    default: 'sawa-jobs',
    description: 'CouchDB database of job state: leases, checkpoints, held conflicts, rollouts',
  }),
  CONFLICTS_ARCHIVE_DB: Type.String({
    pattern: `^${DB_NAME_RULE}$`,
    default: 'sawa-conflicts-archive',
    description: 'CouchDB database keeping every revision the conflict reconciler replaced',
  }),
  FLEET_NAME_PREFIX: Type.String({
    pattern: '^(?:[a-z][a-z0-9-]{0,40})?$',
    default: '',
    description:
      'jobs, rollouts and backups look only at user and team databases whose user or team name starts with this (empty: all)',
  }),
  USER_CACHE_SIZE: Type.Integer({
    minimum: 0,
    default: 10000,
    description:
      'user records the token check keeps in memory, dropped on their next change in the accounts database; 0 reads the record on every request',
  }),
  STORE_MAX_DBS_OPEN: Type.Integer({
    minimum: 2,
    default: 500,
    description:
      'databases the embedded store keeps open at once; the least recently used idle one is closed past it',
  }),
  BACKUP_ENCRYPTION_KEY: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'key of encrypted backups (npm run backup -- --encrypt) and of restoring them: 32 bytes as base64 or 64 hex digits (a secret: never logged)',
    }),
  ),
  BACKUP_DATABASES: Type.Optional(
    Type.String({
      pattern: `^\\s*${DB_PATTERN_RULE}\\s*(?:,\\s*${DB_PATTERN_RULE}\\s*)*$`,
      description:
        'databases npm run backup covers, and restore and verify take: names and name prefixes ending in *, separated by commas (sawa-*, team-*, userdb-*, _users); default every database',
    }),
  ),
  DATA_PROTECTION_REGISTRATION: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 100,
      description:
        "the deployment's registration number with the Personal Data Protection Commission (as controller or processor)",
    }),
  ),
  DATA_RESIDENCY: Type.String({
    pattern: '^[A-Z]{2}$',
    default: 'TZ',
    description:
      'ISO country code where personal data is kept and processed; integrations sending it elsewhere are refused',
  }),
  PERSONAL_DATA_ABROAD_ALLOWED: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'integrations (comma-separated names from server/transfers.ts) allowed to send personal data outside DATA_RESIDENCY',
    }),
  ),
  SYNC_HEALTH_WARN_DOCS: Type.Integer({
    minimum: 1,
    default: 10_000,
    description:
      'GET /admin/sync-health flags a user whose database holds more documents than this (too many for a phone)',
  }),
  SYNC_USAGE_WRITE_SEC: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 300,
    description:
      'seconds between writes of the per-user daily usage (bytes, refused writes) GET /admin/sync-health sums over 7 days',
  }),
  SYNC_HEALTH_STALE_DAYS: Type.Integer({
    minimum: 1,
    maximum: 365,
    default: 7,
    description: 'GET /admin/sync-health flags a user with no pull or push for this many days',
  }),
  SMS_PROVIDER: Type.Optional(
    Type.Unsafe<'africastalking' | 'beem'>({
      type: 'string',
      enum: ['africastalking', 'beem'],
      description: 'the provider that sends sms_request documents; unset, requests wait and say so',
    }),
  ),
  SMS_MAX_ATTEMPTS: Type.Integer({
    minimum: 1,
    maximum: 20,
    default: 3,
    description: 'send calls per SMS on retryable errors',
  }),
  SMS_RETRY_BASE_SEC: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 30,
    description: 'first SMS retry delay, seconds; doubles each time, with jitter',
  }),
  JOB_SMS_SCHEDULE: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'cron expression of the SMS worker (default every 15 seconds)',
    }),
  ),
  AFRICASTALKING_URL: Type.String({
    pattern: '^https?://[^/]+(/.*[^/])?$',
    default: 'https://api.sandbox.africastalking.com/version1/messaging',
    description:
      "Africa's Talking SMS endpoint (production: https://api.africastalking.com/version1/messaging)",
  }),
  AFRICASTALKING_USERNAME: Type.Optional(
    Type.String({ minLength: 1, description: "Africa's Talking app username (sandbox: sandbox)" }),
  ),
  AFRICASTALKING_API_KEY: Type.Optional(
    Type.String({ minLength: 1, description: "Africa's Talking apiKey (a secret: never logged)" }),
  ),
  AFRICASTALKING_FROM: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 11,
      description: "Africa's Talking sender id or short code",
    }),
  ),
  AFRICASTALKING_DLR_SECRET: Type.Optional(
    Type.String({
      minLength: 16,
      description:
        'path secret of the delivery-report URL /integrations/africastalking/delivery/<secret>',
    }),
  ),
  BEEM_URL: Type.String({
    pattern: '^https?://[^/]+(/.*[^/])?$',
    default: 'https://apisms.beem.africa/v1/send',
    description: 'Beem SMS send endpoint',
  }),
  BEEM_API_KEY: Type.Optional(Type.String({ minLength: 1, description: 'Beem api key' })),
  BEEM_SECRET_KEY: Type.Optional(
    Type.String({ minLength: 1, description: 'Beem secret key (a secret: never logged)' }),
  ),
  BEEM_SOURCE_ADDR: Type.String({
    minLength: 1,
    maxLength: 11,
    default: 'INFO',
    description: 'Beem sender name (source_addr), approved by Beem',
  }),
  BEEM_DLR_SECRET: Type.Optional(
    Type.String({
      minLength: 16,
      description: 'path secret of the delivery-report URL /integrations/beem/delivery/<secret>',
    }),
  ),
  OTP_PER_NUMBER_PER_HOUR: Type.Integer({
    minimum: 1,
    default: 5,
    description: 'sign-in codes asked for one phone number in an hour (per instance)',
  }),
  OTP_PER_ADDRESS_PER_HOUR: Type.Integer({
    minimum: 1,
    default: 30,
    description: 'sign-in codes asked for from one client address in an hour (per instance)',
  }),
  PAYMENTS_APPROVE_ABOVE_TZS: Type.Optional(
    Type.Integer({
      minimum: 0,
      description:
        "payment requests above this many shillings wait for a supervisor's payment_approval; unset: none wait",
    }),
  ),
  STORE_DB_UPDATES_DELAY_MS: Type.Integer({
    minimum: 0,
    maximum: 5000,
    default: 0,
    description:
      'the embedded store lists a write in _db_updates this long after it (0: at once); CouchDB takes 200-500 ms, which tests set to emulate',
  }),
});

export type Config = Static<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true, strict: false });
const validate = ajv.compile(ConfigSchema);

/** Builds the configuration from an environment (process.env by default), or throws ConfigError listing each bad value. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const known = Object.keys(ConfigSchema.properties);
  const input: Record<string, unknown> = {};
  for (const key of known) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  if (!validate(input)) {
    const problems = (validate.errors ?? []).map((e) => {
      const key = e.instancePath.replace(/^\//, '');
      const given = key ? ` (got ${JSON.stringify(env[key])})` : '';
      const hint = (ConfigSchema.properties as Record<string, { description?: string }>)[key]
        ?.description;
      const allowed =
        e.keyword === 'enum'
          ? `: ${(e.params as { allowedValues: string[] }).allowedValues.join(', ')}`
          : '';
      return `${key || 'config'} ${e.message}${allowed}${given}${hint ? ` — ${hint}` : ''}`;
    });
    throw new ConfigError(problems);
  }
  // Settings that a schema cannot check alone (lists, and values refused in production).
  const config = input as Config;
  const crossProblems = [
    ...corsOriginsProblems(config.CORS_ORIGINS, config.NODE_ENV).map((p) => `CORS_ORIGINS: ${p}`),
    ...trustProxyProblems(config.TRUST_PROXY).map((p) => `TRUST_PROXY: ${p}`),
    ...transferProblems(config),
    ...rsaPublicKeyProblems('MPESA_PUBLIC_KEY', config.MPESA_PUBLIC_KEY),
  ];
  if (crossProblems.length) throw new ConfigError(crossProblems);
  return config;
}
