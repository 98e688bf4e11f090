import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  constants,
  generateKeyPairSync,
  privateDecrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';

/**
 * A local Vodacom M-Pesa OpenAPI (market vodacomTZN) following its documented wire format:
 * the RSA session handshake (a key pair made here, at test time: the public half is what the
 * portal would give), C2B single stage, queryTransactionStatus and result callbacks, with
 * switches for the field's failure modes.
 */
export type C2bMode =
  | 'accept'
  | 'insufficient-balance'
  | 'invalid-number'
  | 'busy'
  | 'timeout-after-accept'
  /** As if a request with this key had come before: recorded, answered INS-10. */
  | 'duplicate';

export interface MpesaTxn {
  transactionId: string;
  conversationId: string;
  thirdPartyConversationId: string;
  msisdn: string;
  amount: string;
  status: 'Pending' | 'Completed' | 'Failed';
}

export const MPESA_CREDS = {
  apiKey: 'mpesa-api-key-0123456789abcdef',
  serviceProviderCode: '000000',
};

/** PKCS#1 v1.5 decryption by hand: Node 20 refuses that padding for private decryption. */
function decrypt(key: KeyObject, b64: string): string | null {
  try {
    const raw = privateDecrypt(
      { key, padding: constants.RSA_NO_PADDING },
      Buffer.from(b64, 'base64'),
    );
    if (raw[0] !== 0 || raw[1] !== 2) return null;
    const end = raw.indexOf(0, 2);
    if (end < 10) return null; // at least 8 bytes of padding
    return raw.subarray(end + 1).toString();
  } catch {
    return null;
  }
}

const id = (n: number) => randomBytes(n).toString('hex').toUpperCase();

export async function fakeMpesa(t: Test) {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKeyBase64 = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  const sessions = new Set<string>();
  const txns = new Map<string, MpesaTxn>();
  const calls: Array<{ path: string; body: Record<string, unknown>; query: URLSearchParams }> = [];
  let mode: C2bMode = 'accept';
  let sessionHangs = false;
  let hangs: Array<() => void> = [];

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const answer = (res: ServerResponse, status: number, code: string, desc: string, more = {}) =>
    json(res, status, { output_ResponseCode: code, output_ResponseDesc: desc, ...more });
  const read = async (req: IncomingMessage) => {
    let s = '';
    for await (const c of req) s += c;
    return s ? (JSON.parse(s) as Record<string, unknown>) : {};
  };
  const bearer = (req: IncomingMessage) =>
    decrypt(privateKey, String(req.headers.authorization ?? '').replace(/^Bearer /, ''));

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const path = url.pathname.replace(/^\/sandbox\/ipg\/v2\/vodacomTZN/, '');
      const body = req.method === 'POST' ? await read(req) : {};
      calls.push({ path, body, query: url.searchParams });
      if (!req.headers.origin) return answer(res, 400, 'INS-21', 'Origin header missing');
      if (path === '/getSession/' && req.method === 'GET') {
        if (sessionHangs) return void hangs.push(() => res.destroy());
        if (bearer(req) !== MPESA_CREDS.apiKey) return answer(res, 401, 'INS-2', 'Invalid API Key');
        const session = id(16).toLowerCase();
        sessions.add(session);
        return answer(res, 200, 'INS-0', 'Request processed successfully', {
          output_SessionID: session,
        });
      }
      const session = bearer(req);
      if (!session || !sessions.has(session)) return answer(res, 401, 'INS-2', 'Invalid API Key');

      if (path === '/c2bPayment/singleStage/' && req.method === 'POST') {
        const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : '');
        const third = str('input_ThirdPartyConversationID');
        const ref = str('input_TransactionReference');
        if (
          !/^\d+(\.\d{1,2})?$/.test(str('input_Amount')) ||
          str('input_Country') !== 'TZN' ||
          str('input_Currency') !== 'TZS' ||
          !str('input_PurchasedItemsDesc') ||
          !/^[0-9A-Za-z]{1,40}$/.test(third)
        ) {
          return answer(res, 400, 'INS-21', 'Parameter validations failed. Please try again.');
        }
        if (str('input_ServiceProviderCode') !== MPESA_CREDS.serviceProviderCode) {
          return answer(res, 400, 'INS-13', 'Invalid Shortcode Used');
        }
        if (ref.length < 1 || ref.length > 20) {
          return answer(
            res,
            400,
            'INS-17',
            'Invalid Transaction Reference. Length Should Be Between 1 and 20.',
          );
        }
        if (!/^255\d{9}$/.test(str('input_CustomerMSISDN')) || mode === 'invalid-number') {
          return answer(res, 400, 'INS-2051', 'MSISDN invalid.');
        }
        if (mode === 'busy') {
          return answer(
            res,
            503,
            'INS-16',
            'Unable to handle the request due to a temporary overloading',
          );
        }
        if (txns.has(third)) return answer(res, 409, 'INS-10', 'Duplicate Transaction');
        if (mode === 'insufficient-balance') {
          return answer(res, 422, 'INS-2006', 'Insufficient balance');
        }
        const txn: MpesaTxn = {
          transactionId: id(5),
          conversationId: id(16).toLowerCase(),
          thirdPartyConversationId: third,
          msisdn: str('input_CustomerMSISDN'),
          amount: str('input_Amount'),
          status: 'Pending',
        };
        txns.set(third, txn);
        if (mode === 'duplicate') return answer(res, 409, 'INS-10', 'Duplicate Transaction');
        // Accepted and acted on, but the answer never reaches the caller.
        if (mode === 'timeout-after-accept') return void hangs.push(() => res.destroy());
        return answer(res, 201, 'INS-0', 'Request processed successfully', {
          output_TransactionID: txn.transactionId,
          output_ConversationID: txn.conversationId,
          output_ThirdPartyConversationID: third,
        });
      }

      if (path === '/queryTransactionStatus/' && req.method === 'GET') {
        const q = url.searchParams;
        if (
          !q.get('input_ThirdPartyConversationID') ||
          q.get('input_Country') !== 'TZN' ||
          q.get('input_ServiceProviderCode') !== MPESA_CREDS.serviceProviderCode
        ) {
          return answer(res, 400, 'INS-20', 'Not All Parameters Provided. Please try again.');
        }
        const ref = q.get('input_QueryReference') ?? '';
        const txn = [...txns.values()].find(
          (x) =>
            x.transactionId === ref ||
            x.conversationId === ref ||
            x.thirdPartyConversationId === ref,
        );
        if (!txn) return answer(res, 400, 'INS-18', 'Invalid TransactionID Used');
        return answer(res, 200, 'INS-0', 'Request processed successfully', {
          output_ResponseTransactionStatus: txn.status,
          output_ConversationID: txn.conversationId,
          output_ThirdPartyConversationID: q.get('input_ThirdPartyConversationID'),
        });
      }
      answer(res, 404, 'INS-22', 'Invalid Operation Type');
    })().catch((err) => answer(res, 500, 'INS-1', `Internal Error: ${String(err)}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sandbox/ipg/v2/vodacomTZN`;
  const release = () => {
    for (const h of hangs) h();
    hangs = [];
  };
  t.teardown(
    () =>
      new Promise<void>((r) => {
        release();
        server.close(() => r());
        server.closeAllConnections();
      }),
  );

  /** The result callback M-Pesa posts for a transaction. */
  const resultBody = (txn: MpesaTxn) => ({
    input_OriginalConversationID: txn.conversationId,
    input_TransactionID: txn.transactionId,
    input_ResultCode: txn.status === 'Completed' ? 'INS-0' : 'INS-6',
    input_ResultDesc:
      txn.status === 'Completed' ? 'Request processed successfully' : 'Transaction Failed',
    input_ThirdPartyConversationID: txn.thirdPartyConversationId,
  });

  return {
    url,
    publicKey: publicKeyBase64,
    calls,
    txns,
    setMode(m: C2bMode) {
      mode = m;
    },
    /** The session service takes the request and never answers. */
    hangSessions(on: boolean) {
      sessionHangs = on;
    },
    /** Ends the hanging calls (their callers have long given up). */
    release,
    /** Every session given so far stops working, as when the portal revokes them early. */
    revokeSessions() {
      sessions.clear();
    },
    c2b: (msisdn?: string) =>
      calls.filter(
        (c) =>
          c.path === '/c2bPayment/singleStage/' &&
          (!msisdn || c.body.input_CustomerMSISDN === msisdn),
      ),
    txnOf: (msisdn: string) => [...txns.values()].find((x) => x.msisdn === msisdn),
    /** The customer answers the USSD prompt: the transaction ends. */
    complete(txn: MpesaTxn, status: 'Completed' | 'Failed') {
      txn.status = status;
      return txn;
    },
    resultBody,
    /**
     * Posts the result callback to `resultUrl` `times` times, in order, each after the
     * previous answer (a duplicated callback); returns the answers.
     */
    async callback(resultUrl: string, txn: MpesaTxn, times = 1) {
      const answers: Array<{ status: number; body: Record<string, unknown> }> = [];
      for (let i = 0; i < times; i++) {
        const res = await fetch(resultUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(resultBody(txn)),
        });
        answers.push({ status: res.status, body: (await res.json()) as Record<string, unknown> });
      }
      return answers;
    },
  };
}
