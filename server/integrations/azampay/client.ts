import { callProvider, credentialCache, ProviderUnreachable } from '../http.js';
import { digitsOnly } from '../phone.js';
import type {
  PaymentOrder,
  PaymentProvider,
  QueryOutcome,
  StatusQuestion,
  SubmitOutcome,
} from '../payment-types.js';

/**
 * AzamPay (Tanzania) mobile checkout, as its documentation and SDKs describe it:
 * - token: POST {auth}/AppRegistration/GenerateToken `{appName, clientId, clientSecret}` →
 *   `{data: {accessToken, expire}, success, message}`;
 * - checkout: POST {checkout}/azampay/mno/checkout, `Authorization: Bearer`, `X-API-Key`,
 *   `{accountNumber: "2557…", amount: "5000", currency: "TZS", externalId, provider}` →
 *   `{transactionId, success, message}`; `externalId` (≤128 ASCII) is our idempotency key;
 * - status: GET {checkout}/azampay/gettransactionstatus?pgReferenceId=…&bankName=… →
 *   `{data: "<status>", success, message}`.
 * The status words and which HTTP statuses mean "retry" are not documented: see
 * docs/integrations.md for what was guessed.
 */

export interface AzamPaySettings {
  authUrl: string;
  checkoutUrl: string;
  appName: string;
  clientId: string;
  clientSecret: string;
  apiKey: string;
  timeoutMs: number;
}

/** Sawa's wallet names → AzamPay's `provider` values (Mixx by Yas is the former Tigo Pesa). */
export const AZAMPAY_NETWORKS: Record<string, string> = {
  mpesa: 'Mpesa',
  airtel: 'Airtel',
  mixx: 'Tigo',
  halopesa: 'Halopesa',
  azampesa: 'Azampesa',
};

const NAME = 'azampay';

export function azamPay(s: AzamPaySettings): PaymentProvider {
  const { authorized } = credentialCache(
    NAME,
    () =>
      callProvider(
        NAME,
        `${s.authUrl}/AppRegistration/GenerateToken`,
        { json: { appName: s.appName, clientId: s.clientId, clientSecret: s.clientSecret } },
        s.timeoutMs,
      ),
    (res) => {
      const data = res.body.data as { accessToken?: string; expire?: string } | undefined;
      if (res.status !== 200 || !data?.accessToken) return `token refused (HTTP ${res.status})`;
      const expire = Date.parse(data.expire ?? '');
      // Renew a minute early; without a readable expiry, keep it for five minutes.
      return {
        value: data.accessToken,
        until: Number.isNaN(expire) ? Date.now() + 300_000 : expire - 60_000,
      };
    },
  );

  return {
    name: NAME,
    async submit(order: PaymentOrder): Promise<SubmitOutcome> {
      const network = AZAMPAY_NETWORKS[order.network];
      if (!network) {
        return {
          kind: 'rejected',
          retryable: false,
          reason: `AzamPay does not serve ${order.network}`,
        };
      }
      const res = await authorized((t) =>
        callProvider(
          NAME,
          `${s.checkoutUrl}/azampay/mno/checkout`,
          {
            headers: { authorization: `Bearer ${t}`, 'x-api-key': s.apiKey },
            json: {
              accountNumber: digitsOnly(order.msisdn),
              amount: String(order.amount),
              currency: 'TZS',
              externalId: order.externalId,
              provider: network,
              additionalProperties: null,
            },
          },
          s.timeoutMs,
        ),
      );
      const message = String(res.body.message ?? res.body.msg ?? `HTTP ${res.status}`);
      if (res.status === 200 && res.body.success === true) {
        return { kind: 'accepted', reference: String(res.body.transactionId ?? '') || undefined };
      }
      if (res.status === 429 || res.status === 502 || res.status === 503) {
        return { kind: 'rejected', retryable: true, reason: message };
      }
      if (res.status >= 500) {
        // A server error after the request arrived: it may have been acted on.
        throw new ProviderUnreachable(NAME, true, `HTTP ${res.status}: ${message}`);
      }
      return { kind: 'rejected', retryable: false, reason: message };
    },

    async query(q: StatusQuestion): Promise<QueryOutcome> {
      const qs = new URLSearchParams({
        pgReferenceId: q.reference ?? q.externalId,
        bankName: AZAMPAY_NETWORKS[q.network] ?? q.network,
      });
      const res = await authorized((t) =>
        callProvider(
          NAME,
          `${s.checkoutUrl}/azampay/gettransactionstatus?${qs}`,
          { headers: { authorization: `Bearer ${t}` } },
          s.timeoutMs,
        ),
      );
      if (res.status === 404) return { kind: 'not-found' };
      if (res.status !== 200)
        throw new ProviderUnreachable(NAME, false, `status query HTTP ${res.status}`);
      const word = String(res.body.data ?? '').toLowerCase();
      if (/^(success|successful|completed)$/.test(word))
        return { kind: 'succeeded', reference: q.reference };
      if (/^(fail|failed|failure|rejected|cancelled)$/.test(word)) {
        return { kind: 'failed', reason: String(res.body.message ?? word) };
      }
      if (res.body.success === false && /not\s*found/i.test(String(res.body.message))) {
        return { kind: 'not-found' };
      }
      return { kind: 'pending' };
    },
  };
}
