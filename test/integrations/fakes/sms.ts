import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';

/**
 * Local SMS providers following their documented wire formats, each with failure switches:
 * Africa's Talking (form-encoded send, `apiKey` header, per-recipient statusCode, form
 * delivery reports) and Beem (JSON send with Basic auth, JSON delivery reports — the report's
 * field names are guessed, see docs/integrations.md). One HTTP server serves both.
 */
export type SmsMode =
  'accept' | 'invalid-number' | 'insufficient-balance' | 'busy' | 'hang-after-accept';

export const AT = { username: 'sandbox', apiKey: 'at-key-0123456789' };
export const BEEM = { apiKey: 'beem-key', secretKey: 'beem-secret-xyz', sourceAddr: 'SAWA' };

export interface SentSms {
  provider: 'africastalking' | 'beem';
  to: string;
  text: string;
  reference: string;
}

export async function fakeSms(t: Test) {
  const sent: SentSms[] = [];
  const calls: Array<{ path: string; contentType: string; body: Record<string, unknown> }> = [];
  let mode: SmsMode = 'accept';
  let hangs: Array<() => void> = [];
  let beemIds = 40_000_000;

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const read = async (req: IncomingMessage) => {
    let s = '';
    for await (const c of req) s += c;
    return s;
  };

  async function africasTalking(req: IncomingMessage, res: ServerResponse, raw: string) {
    if (req.headers.apikey !== AT.apiKey) {
      res.writeHead(401, { 'content-type': 'text/plain' });
      return res.end('The supplied authentication is invalid');
    }
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      return json(res, 415, { SMSMessageData: { Message: 'form body expected', Recipients: [] } });
    }
    const form = Object.fromEntries(new URLSearchParams(raw));
    calls.push({ path: '/version1/messaging', contentType: 'form', body: form });
    if (form.username !== AT.username || !form.message) {
      return json(res, 400, { SMSMessageData: { Message: 'InvalidRequest', Recipients: [] } });
    }
    if (mode === 'busy') return json(res, 503, { SMSMessageData: { Message: 'Unavailable' } });
    const to = String(form.to ?? '');
    const code =
      !/^\+\d{8,15}$/.test(to) || mode === 'invalid-number'
        ? 403
        : mode === 'insufficient-balance'
          ? 405
          : 101;
    const words: Record<number, string> = {
      101: 'Success',
      403: 'InvalidPhoneNumber',
      405: 'InsufficientBalance',
    };
    const messageId = code === 101 ? `ATXid_${randomUUID().replace(/-/g, '')}` : 'None';
    if (code === 101)
      sent.push({ provider: 'africastalking', to, text: form.message, reference: messageId });
    const body = {
      SMSMessageData: {
        Message: code === 101 ? 'Sent to 1/1 Total Cost: TZS 18.0000' : 'Sent to 0/1 Total Cost: 0',
        Recipients: [
          {
            statusCode: code,
            number: to,
            status: words[code],
            cost: code === 101 ? 'TZS 18.0000' : '0',
            messageId,
          },
        ],
      },
    };
    if (code === 101 && mode === 'hang-after-accept') return void hangs.push(() => res.destroy());
    json(res, 201, body);
  }

  async function beem(req: IncomingMessage, res: ServerResponse, raw: string) {
    const basic = `Basic ${Buffer.from(`${BEEM.apiKey}:${BEEM.secretKey}`).toString('base64')}`;
    if (req.headers.authorization !== basic) {
      return json(res, 401, { code: 120, message: 'Invalid Authentication Parameters' });
    }
    const body = JSON.parse(raw || '{}') as Record<string, unknown>;
    calls.push({ path: '/v1/send', contentType: 'json', body });
    const recipients = body.recipients as
      Array<{ recipient_id: unknown; dest_addr: string }> | undefined;
    const ok =
      body.source_addr === BEEM.sourceAddr &&
      body.encoding === 0 &&
      typeof body.message === 'string' &&
      Array.isArray(recipients) &&
      recipients.length === 1;
    if (!ok) return json(res, 400, { successful: false, code: 101, message: 'Invalid request' });
    if (mode === 'busy')
      return json(res, 503, { successful: false, message: 'Service unavailable' });
    if (mode === 'insufficient-balance') {
      return json(res, 400, { successful: false, code: 102, message: 'Insufficient balance' });
    }
    const dest = String(recipients![0]!.dest_addr);
    const valid = /^\d{8,15}$/.test(dest) && mode !== 'invalid-number';
    const requestId = ++beemIds;
    if (valid)
      sent.push({
        provider: 'beem',
        to: dest,
        text: String(body.message),
        reference: String(requestId),
      });
    const answer = {
      successful: true,
      request_id: requestId,
      code: 100,
      message: 'Message Submitted Successfully',
      valid: valid ? 1 : 0,
      invalid: valid ? 0 : 1,
      duplicates: 0,
    };
    if (valid && mode === 'hang-after-accept') return void hangs.push(() => res.destroy());
    json(res, 200, answer);
  }

  const server = createServer((req, res) => {
    void (async () => {
      const raw = await read(req);
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      if (req.method === 'POST' && path === '/version1/messaging')
        return africasTalking(req, res, raw);
      if (req.method === 'POST' && path === '/v1/send') return beem(req, res, raw);
      json(res, 404, { message: 'not found' });
    })().catch((err) => json(res, 500, { message: String(err) }));
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
    sent,
    calls,
    setMode(m: SmsMode) {
      mode = m;
    },
    release() {
      for (const h of hangs) h();
      hangs = [];
    },
    /** Africa's Talking's delivery report for a message, as the form fields it posts. */
    atReport(s: SentSms, status: string, failureReason?: string): Record<string, string> {
      return {
        id: s.reference,
        status,
        phoneNumber: s.to,
        networkCode: '64002',
        retryCount: '0',
        ...(failureReason && { failureReason }),
      };
    },
    /** Beem's delivery report (field names guessed). */
    beemReport(s: SentSms, status: string) {
      return { request_id: Number(s.reference), recipient_id: 1, dest_addr: s.to, status };
    },
  };
}
