import { callProvider, ProviderUnreachable } from '../http.js';
import { toE164 } from '../phone.js';
import type { SubmitOutcome } from '../outbox-types.js';
import type { DeliveryReport, SmsOrder, SmsProvider } from '../sms-types.js';

/**
 * Africa's Talking SMS, as its documentation describes it:
 * - send: POST {url} (…/version1/messaging), form-encoded `username`, `to` (+255…), `message`,
 *   optional `from`; headers `apiKey` and `Accept: application/json` →
 *   `{SMSMessageData: {Message, Recipients: [{statusCode, number, status, cost, messageId}]}}`;
 * - per-recipient statusCode: 100 Processed, 101 Sent, 102 Queued; 401 RiskHold,
 *   402 InvalidSenderId, 403 InvalidPhoneNumber, 404 UnsupportedNumberType,
 *   405 InsufficientBalance, 406 UserInBlacklist, 407 CouldNotRoute, 409 DoNotDisturbRejection,
 *   500 InternalServerError, 501 GatewayError, 502 RejectedByGateway;
 * - delivery reports: a form POST to the callback URL with `id` (the messageId), `status`
 *   (Sent, Submitted, Buffered: on the way; Success: delivered; Rejected, Failed: final),
 *   `phoneNumber`, `networkCode`, `failureReason` (Rejected/Failed only).
 * There is no status query for a sent SMS: only delivery reports settle one.
 * Which codes are worth a retry is not documented: see docs/integrations.md.
 */
export interface AfricasTalkingSettings {
  url: string;
  username: string;
  apiKey: string;
  from?: string;
  timeoutMs: number;
}

const NAME = 'africastalking';
const ACCEPTED = new Set([100, 101, 102]);
/** Nothing was sent and trying later may work (guessed, see docs/integrations.md). */
const RETRYABLE = new Set([405, 500, 501]);

export function africasTalking(s: AfricasTalkingSettings): SmsProvider {
  return {
    name: NAME,
    async submit(order: SmsOrder): Promise<SubmitOutcome> {
      const res = await callProvider(
        NAME,
        s.url,
        {
          headers: { apikey: s.apiKey },
          form: {
            username: s.username,
            to: order.to,
            message: order.text,
            ...(s.from && { from: s.from }),
          },
        },
        s.timeoutMs,
      );
      const data = res.body.SMSMessageData as
        { Message?: string; Recipients?: Array<Record<string, unknown>> } | undefined;
      const recipient = data?.Recipients?.[0];
      if ((res.status === 200 || res.status === 201) && recipient) {
        const code = Number(recipient.statusCode);
        const reason = `${String(recipient.status ?? 'refused')} (${code})`;
        if (ACCEPTED.has(code)) {
          return { kind: 'accepted', reference: String(recipient.messageId ?? '') || undefined };
        }
        return { kind: 'rejected', retryable: RETRYABLE.has(code), reason };
      }
      const message = String(data?.Message ?? res.body.raw ?? `HTTP ${res.status}`);
      if (res.status === 429 || res.status === 502 || res.status === 503) {
        return { kind: 'rejected', retryable: true, reason: message };
      }
      if (res.status >= 500) throw new ProviderUnreachable(NAME, true, `HTTP ${res.status}`);
      return { kind: 'rejected', retryable: false, reason: message };
    },
  };
}

/** A delivery report's form fields → what the SMS worker needs. */
export function africasTalkingReport(form: Record<string, string>): DeliveryReport {
  const status = String(form.status ?? '');
  const outcome =
    status === 'Success'
      ? 'succeeded'
      : status === 'Failed' || status === 'Rejected'
        ? 'failed'
        : 'pending';
  return {
    reference: String(form.id ?? ''),
    to: toE164(String(form.phoneNumber ?? '')),
    outcome,
    ...(outcome === 'failed' && {
      reason: `${status}: ${form.failureReason || 'no reason given'}`,
    }),
  };
}
