import { callProvider, ProviderUnreachable } from '../http.js';
import { digitsOnly, toE164 } from '../phone.js';
import type { SubmitOutcome } from '../outbox-types.js';
import type { DeliveryReport, SmsOrder, SmsProvider } from '../sms-types.js';

/**
 * Beem (Tanzania) SMS, as its documentation and SDKs describe it:
 * - send: POST {url} (https://apisms.beem.africa/v1/send), `Authorization: Basic
 *   base64(api_key:secret_key)`, JSON `{source_addr, encoding: 0, schedule_time: "", message,
 *   recipients: [{recipient_id, dest_addr: "2557…"}]}` → `{successful, request_id, code: 100,
 *   message, valid, invalid, duplicates}`;
 * - delivery reports: a JSON POST to the callback URL; its fields (`request_id`, `dest_addr`,
 *   `status` DELIVERED/UNDELIVERED/…) are guessed from SDKs, see docs/integrations.md.
 * No status query is used: Beem's delivery-report API was not found in its documentation.
 */
export interface BeemSettings {
  url: string;
  apiKey: string;
  secretKey: string;
  sourceAddr: string;
  timeoutMs: number;
}

const NAME = 'beem';

export function beem(s: BeemSettings): SmsProvider {
  const basic = Buffer.from(`${s.apiKey}:${s.secretKey}`).toString('base64');
  return {
    name: NAME,
    async submit(order: SmsOrder): Promise<SubmitOutcome> {
      const res = await callProvider(
        NAME,
        s.url,
        {
          headers: { authorization: `Basic ${basic}` },
          json: {
            source_addr: s.sourceAddr,
            encoding: 0,
            schedule_time: '',
            message: order.text,
            recipients: [{ recipient_id: 1, dest_addr: digitsOnly(order.to) }],
          },
        },
        s.timeoutMs,
      );
      const b = res.body;
      const message = String(b.message ?? b.raw ?? `HTTP ${res.status}`);
      if (res.status === 200 && b.successful === true && Number(b.code) === 100) {
        if (Number(b.valid ?? 1) >= 1) {
          return { kind: 'accepted', reference: String(b.request_id ?? '') || undefined };
        }
        return { kind: 'rejected', retryable: false, reason: `invalid number: ${message}` };
      }
      if (res.status === 429 || res.status === 502 || res.status === 503) {
        return { kind: 'rejected', retryable: true, reason: message };
      }
      if (res.status >= 500) throw new ProviderUnreachable(NAME, true, `HTTP ${res.status}`);
      return { kind: 'rejected', retryable: false, reason: `${message} (code ${String(b.code)})` };
    },
  };
}

/** A delivery report's JSON body → what the SMS worker needs (field names guessed). */
export function beemReport(body: Record<string, unknown>): DeliveryReport {
  const status = String(body.status ?? '').toUpperCase();
  const outcome =
    status === 'DELIVERED'
      ? 'succeeded'
      : /^(UNDELIVERED|FAILED|REJECTED|EXPIRED)$/.test(status)
        ? 'failed'
        : 'pending';
  return {
    reference: String(body.request_id ?? ''),
    to: toE164(String(body.dest_addr ?? '')),
    outcome,
    ...(outcome === 'failed' && { reason: status }),
  };
}
