import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

/**
 * deploy/compose.yaml cannot be started here (no Docker daemon, no CouchDB):
 * this checks what can be checked without running it — that it parses, that
 * every file, secret, volume and service it names exists, and that no secret
 * sits in it as a value. docs/deployment.md says what was not run.
 */
const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
const compose = parse(readFileSync(resolve(DEPLOY, 'compose.yaml'), 'utf8'), {
  merge: true,
}) as {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
};

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  volumes?: string[];
  secrets?: string[];
  depends_on?: Record<string, unknown> | string[];
  ports?: string[];
  entrypoint?: string[];
}

const services = compose.services;
const couchNodes = ['couchdb1', 'couchdb2', 'couchdb3'];

t.test('a three-node CouchDB 3.5 cluster with couchdb.ini where the image reads it', async (t) => {
  const names = new Set<string>();
  for (const name of couchNodes) {
    const s = services[name]!;
    t.equal(s.image, 'couchdb:3.5', `${name}: the official image`);
    names.add(s.environment?.NODENAME as string);
    t.ok(
      s.volumes?.some((v) => v.startsWith('../couchdb.ini:/opt/couchdb/etc/local.d/')),
      `${name} mounts couchdb.ini in local.d`,
    );
    t.ok(s.secrets?.includes('couchdb_erlang_cookie'), `${name} shares the Erlang cookie`);
  }
  t.equal(names.size, 3, 'three distinct node names');
  const cluster = readFileSync(resolve(DEPLOY, 'couchdb/20-cluster.ini'), 'utf8');
  t.match(cluster, /^\[cluster\][^[]*^n = 3$/m, 'every document on three nodes');
  t.match(cluster, /^single_node = false$/m);
  const base = readFileSync(resolve(DEPLOY, '../couchdb.ini'), 'utf8');
  t.match(base, /^max_document_size = \d+$/m);
  t.match(base, /proxy_authentication_handler/);
  t.ok(services['cluster-setup'], 'a one-shot service joins the nodes');
});

t.test('two Sawa instances behind a TLS front, secrets from files only', async (t) => {
  for (const name of ['sawa1', 'sawa2']) {
    const s = services[name]!;
    t.match(s.environment?.COUCHDB_URL, /^http:\/\/couchdb\d\.sawa:5984$/, name);
    t.equal(s.environment?.JOBS_ENABLED, 'all', `${name} runs jobs; leases take turns`);
    t.same(s.build, { context: '..', dockerfile: 'deploy/sawa/Dockerfile' });
  }
  t.ok(services.caddy?.ports?.includes('443:443'), 'only the front publishes HTTPS');
  for (const [name, s] of Object.entries(services)) {
    if (name !== 'caddy') t.notOk(s.ports, `${name} publishes no port`);
    for (const [key, value] of Object.entries(s.environment ?? {})) {
      t.notOk(
        /PASSWORD|SECRET|TOKEN|COOKIE/.test(key),
        `${name}: ${key} is not set inline (${value.length} chars)`,
      );
    }
  }
  const dockerfile = readFileSync(resolve(DEPLOY, 'sawa/Dockerfile'), 'utf8');
  t.match(dockerfile, /npm ci --omit=dev/, 'the production install CI starts');
});

t.test('everything the file names exists', async (t) => {
  for (const [name, s] of Object.entries(services)) {
    for (const secret of s.secrets ?? []) {
      t.ok(compose.secrets[secret], `${name}: secret ${secret} is declared`);
    }
    for (const volume of s.volumes ?? []) {
      const [source] = volume.split(':') as [string];
      if (source.startsWith('.')) {
        t.ok(existsSync(resolve(DEPLOY, source)), `${name}: ${source} exists`);
      } else t.ok(source in compose.volumes, `${name}: volume ${source} is declared`);
    }
    const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    for (const dep of deps) t.ok(services[dep], `${name} depends on ${dep}, which exists`);
    if (s.build) {
      t.ok(existsSync(resolve(DEPLOY, s.build.context, s.build.dockerfile)), `${name}: Dockerfile`);
    }
  }
  for (const [secret, { file }] of Object.entries(compose.secrets)) {
    t.match(file, /^\.\/secrets\/\w+$/, `${secret} is a file under deploy/secrets`);
  }
  const ignored = readFileSync(resolve(DEPLOY, 'secrets/.gitignore'), 'utf8');
  t.match(ignored, /^\*$/m, 'secret files are never committed');
  for (const script of ['sawa/entrypoint.sh', 'couchdb/entrypoint.sh', 'backup/schedule.sh']) {
    t.ok(existsSync(resolve(DEPLOY, script)), script);
  }
  t.ok(existsSync(resolve(dirname(DEPLOY.replace(/\/$/, '')), 'docs/deployment.md')));
});
