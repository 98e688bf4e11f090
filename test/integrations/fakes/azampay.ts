import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';

/**
 * A local AzamPay following its documented wire format (token, MNO checkout, transaction
 * status, checkout callback), with switches for the field's failure modes.
 */
export type CheckoutMode =
  'accept' | 'invalid-number' | 'busy' | 'hang-after-accept' | 'insufficient-balance';

interface Txn {
  transactionId: string;
  externalId: string;
  accountNumber: string;
  amount: string;
  provider: string;
  status: 'PENDING' | 'SUCCESS' | 'FAILED';
}

export const CREDS = {
  appName: 'sawa-test',
  clientId: 'client-123',
  clientSecret: 'client-secret-xyz',
  apiKey: 'api-key-abc',
};

const PROVIDERS = new Set(['Airtel', 'Tigo', 'Halopesa', 'Azampesa', 'Mpesa']);

export async function fakeAzamPay(t: Test) {
  const txns = new Map<string, Txn>();
  const tokens = new Set<string>();
  const calls: Array<{ path: string; body: Record<string, unknown> }> = [];
  let mode: CheckoutMode = 'accept';
  let hangs: Array<() => void> = [];

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const read = async (req: IncomingMessage) => {
    let s = '';
    for await (const c of req) s += c;
    return s ? (JSON.parse(s) as Record<string, unknown>) : {};
  };
  const authorized = (req: IncomingMessage) =>
    tokens.has(String(req.headers.authorization ?? '').replace(/^Bearer /, ''));

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const body = req.method === 'POST' ? await read(req) : {};
      calls.push({ path: url.pathname, body });
      if (url.pathname === '/AppRegistration/GenerateToken') {
        const ok =
          body.appName === CREDS.appName &&
          body.clientId === CREDS.clientId &&
          body.clientSecret === CREDS.clientSecret;
        if (!ok) return json(res, 423, { success: false, message: 'Provided detail is not valid' });
        const token = randomUUID();
        tokens.add(token);
        return json(res, 200, {
          data: { accessToken: token, expire: new Date(Date.now() + 3_600_000).toISOString() },
          message: 'Token generated successfully',
          success: true,
          statusCode: 200,
        });
      }
      if (url.pathname === '/azampay/mno/checkout') {
        if (!authorized(req)) return json(res, 401, { success: false, message: 'Unauthorized' });
        if (req.headers['x-api-key'] !== CREDS.apiKey) {
          return json(res, 403, { success: false, message: 'Invalid API key' });
        }
        const { accountNumber, amount, currency, externalId, provider } = body;
        const bad =
          typeof accountNumber !== 'string' ||
          !/^255\d{9}$/.test(accountNumber) ||
          typeof amount !== 'string' ||
          currency !== 'TZS' ||
          typeof externalId !== 'string' ||
          externalId.length > 128 ||
          !PROVIDERS.has(String(provider));
        if (bad || mode === 'invalid-number') {
          return json(res, 400, { success: false, message: 'Invalid accountNumber or request' });
        }
        if (mode === 'busy') {
          return json(res, 503, { success: false, message: 'Service temporarily unavailable' });
        }
        if (txns.has(externalId)) {
          return json(res, 400, { success: false, message: 'Duplicate externalId' });
        }
        const txn: Txn = {
          transactionId: randomUUID().replace(/-/g, ''),
          externalId,
          accountNumber,
          amount,
          provider: String(provider),
          status: mode === 'insufficient-balance' ? 'FAILED' : 'PENDING',
        };
        txns.set(externalId, txn);
        if (mode === 'hang-after-accept') {
          // Accepted and acted on, but the answer never reaches the caller.
          return void hangs.push(() => res.destroy());
        }
        return json(res, 200, {
          success: true,
          transactionId: txn.transactionId,
          message: 'Your request has been received and is being processed.',
        });
      }
      if (url.pathname === '/azampay/gettransactionstatus') {
        if (!authorized(req)) return json(res, 401, { success: false, message: 'Unauthorized' });
        const ref = url.searchParams.get('pgReferenceId') ?? '';
        const txn = [...txns.values()].find((x) => x.transactionId === ref || x.externalId === ref);
        if (!txn) return json(res, 404, { success: false, message: 'Transaction not found' });
        return json(res, 200, {
          data: txn.status,
          message: `Transaction is ${txn.status.toLowerCase()}`,
          success: true,
          statusCode: 200,
        });
      }
      json(res, 404, { success: false, message: 'not found' });
    })().catch((err) => json(res, 500, { success: false, message: String(err) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.teardown(
    () =>
      new Promise<void>((r) => {
        for (const h of hangs) h();
        server.close(() => r());
        server.closeAllConnections();
      }),
  );

  return {
    url,
    calls,
    txns,
    setMode(m: CheckoutMode) {
      mode = m;
    },
    /** Every token given so far stops working, as when AzamPay revokes them before expiry. */
    revokeTokens() {
      tokens.clear();
    },
    /** Ends the hanging calls (their callers have long given up). */
    release() {
      for (const h of hangs) h();
      hangs = [];
    },
    checkouts: (accountNumber?: string) =>
      calls.filter(
        (c) =>
          c.path === '/azampay/mno/checkout' &&
          (!accountNumber || c.body.accountNumber === accountNumber),
      ),
    /** The wallet operator settles the payment, as the customer's USSD answer would. */
    settle(externalId: string, status: 'SUCCESS' | 'FAILED') {
      const txn = txns.get(externalId);
      if (!txn) throw new Error(`no transaction ${externalId}`);
      txn.status = status;
      return txn;
    },
    /** AzamPay's callback body for a transaction, as it posts it to the merchant. */
    callbackBody(txn: Txn, status: 'success' | 'failure') {
      return {
        msisdn: txn.accountNumber,
        amount: txn.amount,
        message: status === 'success' ? 'Payment successful' : 'Payment failed',
        utilityref: txn.externalId,
        operator: txn.provider,
        reference: txn.transactionId,
        transactionstatus: status,
        submerchantAcc: null,
        fspReferenceId: `FSP${txn.transactionId.slice(0, 8)}`,
        additionalProperties: null,
      };
    },
  };
}
