import type { Test } from 'tap';
import { setup } from '../accounts/helper.js';
import { couch } from '../helpers/store.js';
import { unique } from '../helpers/fixtures.js';
import type { AuditLog } from '../../server/audit/audit.js';
import { phone, remote } from '../helpers/phones.js';

/** A service with audit and privacy databases of its own, on the file's shared store. */
export async function privacySetup(t: Test) {
  const s = await setup(t, {
    env: {
      AUDIT_DB: unique('sawa-audit'),
      PRIVACY_DB: unique('sawa-privacy'),
      AGGREGATES_DB: unique('sawa-aggregates'),
    },
  });
  const audit = s.svc.app.audit as AuditLog;
  return {
    ...s,
    audit,
    /** A request with headers (X-Sawa-Reason…) and a token. */
    send: (
      method: string,
      path: string,
      token: string | undefined,
      opts: { body?: unknown; headers?: Record<string, string>; raw?: boolean } = {},
    ) =>
      couch(s.svc.url, method, path, {
        ...opts,
        auth: token ? `Bearer ${token}` : undefined,
      }),
    /** The audit log's entries that match, once the hook's asynchronous write landed. */
    async entries(filter: Parameters<AuditLog['list']>[0], atLeast = 1) {
      for (let i = 0; i < 100; i++) {
        const page = await audit.list(filter, 100);
        if (page.entries.length >= atLeast) return page.entries;
        await new Promise((r) => setTimeout(r, 20));
      }
      return (await audit.list(filter, 100)).entries;
    },
  };
}

/** A person with a token and a phone that syncs through the gateway. */
export interface Person {
  name: string;
  token: string;
  db: string;
}

/** Pushes docs (with an attachment on the first) from a fresh phone to `db` through the gateway. */
export async function pushDocs(
  url: string,
  person: Person,
  db: string,
  docs: Array<Record<string, unknown> & { _id: string }>,
): Promise<void> {
  const local = phone();
  const [first, ...rest] = docs;
  if (first) {
    await local.put({
      ...first,
      _attachments: {
        'photo.txt': {
          content_type: 'text/plain',
          data: Buffer.from(`photo of ${first._id}`).toString('base64'),
        },
      },
    });
  }
  for (const d of rest) await local.put(d);
  const server = remote(`${url}/sync/${db}`, () => ({ authorization: `Bearer ${person.token}` }));
  const res = await local.replicate.to(server);
  if (res.docs_written !== docs.length) {
    throw new Error(`pushed ${res.docs_written} of ${docs.length}: ${JSON.stringify(res.errors)}`);
  }
  await local.destroy();
}
