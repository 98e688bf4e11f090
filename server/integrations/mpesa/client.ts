import { constants, publicEncrypt, randomUUID, type KeyObject } from 'node:crypto';
import { readPublicKey } from '../../util/public-key.js';
import { callProvider, credentialCache, ProviderUnreachable, type Answer } from '../http.js';
import { digitsOnly } from '../phone.js';
import type {
  PaymentOrder,
  PaymentProvider,
  QueryOutcome,
  StatusQuestion,
  SubmitOutcome,
} from '../payment-types.js';
import { classify, NOT_FOUND_CODES } from './codes.js';

/**
 * Vodacom M-Pesa Tanzania through the M-Pesa OpenAPI (`{base}` = …/ipg/v2/vodacomTZN):
 * - session: GET {base}/getSession/ with `Authorization: Bearer <API key encrypted>` →
 *   `{output_ResponseCode: "INS-0", output_SessionID}`;
 * - C2B single stage: POST {base}/c2bPayment/singleStage/ with the session key encrypted
 *   the same way, `{input_Amount, input_Country: "TZN", input_Currency: "TZS",
 *   input_CustomerMSISDN: "2557…", input_ServiceProviderCode, input_ThirdPartyConversationID,
 *   input_TransactionReference, input_PurchasedItemsDesc}` → `{output_ResponseCode,
 *   output_ResponseDesc, output_TransactionID, output_ConversationID, …}`;
 * - status: GET {base}/queryTransactionStatus/?input_QueryReference=…&input_ServiceProviderCode=…
 *   &input_ThirdPartyConversationID=…&input_Country=TZN → `{output_ResponseCode,
 *   output_ResponseTransactionStatus}`.
 * "Encrypted": RSA with PKCS#1 v1.5 padding under the public key the portal gives, base64.
 * Every call carries an `Origin` header. What was guessed is listed in docs/integrations.md.
 */
export interface MpesaSettings {
  baseUrl: string;
  apiKey: string;
  /** Base64 DER (as the portal shows it) or PEM. */
  publicKey: string;
  serviceProviderCode: string;
  origin: string;
  timeoutMs: number;
}

const NAME = 'mpesa';
/** Sessions live as long as the portal application says; we renew after 50 minutes (guessed). */
const SESSION_MS = 50 * 60_000;

/** What M-Pesa's bearer tokens are: the value encrypted under its public key, base64. */
export function encryptForMpesa(key: KeyObject, value: string): string {
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(value)).toString(
    'base64',
  );
}

/** `sawa-<hex>` → `sawa<hex>`: the documented examples of the id are letters and digits only. */
export const conversationId = (externalId: string) => externalId.replace(/[^0-9A-Za-z]/g, '');
/** The inverse, for callbacks: `sawa<hex>` → `sawa-<hex>`, or null for anything else. */
export function externalIdOf(conversation: string): string | null {
  const m = /^sawa([0-9a-f]{32})$/.exec(conversation);
  return m ? `sawa-${m[1]}` : null;
}
/** input_TransactionReference: 1 to 20 characters (INS-17), derived from the same key. */
const transactionReference = (externalId: string) => `S${conversationId(externalId).slice(4, 23)}`;

export function mpesa(s: MpesaSettings): PaymentProvider {
  const key = readPublicKey(s.publicKey);
  const session = credentialCache(
    NAME,
    () =>
      callProvider(
        NAME,
        `${s.baseUrl}/getSession/`,
        {
          headers: {
            authorization: `Bearer ${encryptForMpesa(key, s.apiKey)}`,
            origin: s.origin,
          },
        },
        s.timeoutMs,
      ),
    (res) => {
      const id = res.body.output_SessionID;
      if (res.body.output_ResponseCode !== 'INS-0' || typeof id !== 'string' || !id) {
        return `session refused (HTTP ${res.status} ${String(res.body.output_ResponseCode ?? '')})`;
      }
      return { value: id, until: Date.now() + SESSION_MS };
    },
  );
  /** Every call after the session carries the session id encrypted as its bearer token. */
  const authorized = (call: (bearer: string) => Promise<Answer>) =>
    session.authorized((id) => call(encryptForMpesa(key, id)));

  const headers = (bearer: string) => ({ authorization: `Bearer ${bearer}`, origin: s.origin });
  const words = (res: Answer) =>
    `${String(res.body.output_ResponseCode ?? `HTTP ${res.status}`)}: ${String(
      res.body.output_ResponseDesc ?? '',
    )}`.slice(0, 300);

  return {
    name: NAME,
    async submit(order: PaymentOrder): Promise<SubmitOutcome> {
      if (order.network !== 'mpesa') {
        return {
          kind: 'rejected',
          retryable: false,
          reason: `M-Pesa does not serve ${order.network} wallets`,
        };
      }
      const res = await authorized((bearer) =>
        callProvider(
          NAME,
          `${s.baseUrl}/c2bPayment/singleStage/`,
          {
            headers: headers(bearer),
            json: {
              input_Amount: String(order.amount),
              input_Country: 'TZN',
              input_Currency: 'TZS',
              input_CustomerMSISDN: digitsOnly(order.msisdn),
              input_ServiceProviderCode: s.serviceProviderCode,
              input_ThirdPartyConversationID: conversationId(order.externalId),
              input_TransactionReference: transactionReference(order.externalId),
              input_PurchasedItemsDesc: 'Sawa payment',
            },
          },
          s.timeoutMs,
        ),
      );
      switch (classify(res.body.output_ResponseCode, res.status)) {
        case 'ok': {
          const ref = res.body.output_TransactionID;
          // Accepted, not yet counted as paid: the status query (or a callback it
          // confirms) settles it.
          return { kind: 'accepted', reference: typeof ref === 'string' && ref ? ref : undefined };
        }
        case 'retry':
          return { kind: 'rejected', retryable: true, reason: words(res) };
        case 'unknown':
          throw new ProviderUnreachable(NAME, true, words(res));
        default:
          return { kind: 'rejected', retryable: false, reason: words(res) };
      }
    },

    async query(q: StatusQuestion): Promise<QueryOutcome> {
      const qs = new URLSearchParams({
        input_QueryReference: q.reference ?? conversationId(q.externalId),
        input_ServiceProviderCode: s.serviceProviderCode,
        // The query's own id: unique per request, as every OpenAPI call's is.
        input_ThirdPartyConversationID: randomUUID().replace(/-/g, ''),
        input_Country: 'TZN',
      });
      const res = await authorized((bearer) =>
        callProvider(
          NAME,
          `${s.baseUrl}/queryTransactionStatus/?${qs}`,
          { headers: headers(bearer) },
          s.timeoutMs,
        ),
      );
      const code = String(res.body.output_ResponseCode ?? '');
      if (NOT_FOUND_CODES.has(code) || (res.status === 404 && !code)) return { kind: 'not-found' };
      if (code !== 'INS-0') {
        throw new ProviderUnreachable(NAME, false, `status query ${words(res)}`);
      }
      const status = String(res.body.output_ResponseTransactionStatus ?? '').toLowerCase();
      if (status === 'completed') return { kind: 'succeeded', reference: q.reference };
      if (/^(cancelled|canceled|expired|failed|declined|rejected|reversed)$/.test(status)) {
        return { kind: 'failed', reason: `M-Pesa: ${status}` };
      }
      return { kind: 'pending' };
    },
  };
}
