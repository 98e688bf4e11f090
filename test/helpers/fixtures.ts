import { randomBytes } from 'node:crypto';
import { basicAuth, couch, type TestCouch } from './store.js';

/** A name no other test (or earlier run against a real CouchDB) has used. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** Creates a database as the server admin, optionally with a security object; returns its name. */
export async function createDb(
  server: TestCouch,
  prefix = 'db',
  security?: Record<string, unknown>,
): Promise<string> {
  const name = unique(prefix);
  const res = await couch(server.url, 'PUT', `/${name}`, { auth: server.adminAuth });
  if (res.status !== 201)
    throw new Error(`creating ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  if (security) {
    const sec = await couch(server.url, 'PUT', `/${name}/_security`, {
      auth: server.adminAuth,
      body: security,
    });
    if (sec.status !== 200)
      throw new Error(`securing ${name}: ${sec.status} ${JSON.stringify(sec.body)}`);
  }
  return name;
}

export interface TestUser {
  name: string;
  password: string;
  auth: string;
}

/** A `_users` account created by the server admin; its name is made unique. */
export async function createUser(
  server: TestCouch,
  prefix: string,
  roles: string[] = [],
): Promise<TestUser> {
  const name = unique(prefix);
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const res = await couch(server.url, 'PUT', `/_users/org.couchdb.user:${name}`, {
    auth: server.adminAuth,
    body: { _id: `org.couchdb.user:${name}`, name, password, roles, type: 'user' },
  });
  if (res.status !== 201)
    throw new Error(`creating user ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return { name, password, auth: basicAuth(name, password) };
}

/** A request helper bound to one server and one identity. */
export function client(server: TestCouch, auth?: string) {
  return (method: string, path: string, opts: Parameters<typeof couch>[3] = {}) =>
    couch(server.url, method, path, { auth, ...opts });
}

/** Reads a streamed response until it ends; for feeds that close on their own. */
export async function readAll(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, init);
  return { status: res.status, text: await res.text(), headers: res.headers };
}
