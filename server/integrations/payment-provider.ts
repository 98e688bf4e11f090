import type { Config } from '../config.js';
import type { PaymentProvider } from './payment-types.js';
import { azamPay } from './azampay/client.js';
import { mpesa } from './mpesa/client.js';

export interface PaymentProviders {
  azampay: PaymentProvider | null;
  mpesa: PaymentProvider | null;
}

const built = new WeakMap<Config, PaymentProviders>();

/**
 * Each configured payment provider (null when its credentials are missing). One per
 * configuration, so access tokens and sessions are reused from run to run.
 */
export function paymentProviders(config: Config): PaymentProviders {
  let p = built.get(config);
  if (!p) {
    p = { azampay: buildAzamPay(config), mpesa: buildMpesa(config) };
    built.set(config, p);
  }
  return p;
}

/**
 * The provider the payments job uses, or null: requests then wait, saying so in their
 * status. M-Pesa wallets go to Vodacom's M-Pesa OpenAPI when it is configured, every other
 * wallet (and M-Pesa without it) to AzamPay. The wallet of a request never changes, so a
 * request is queried where it was sent while the configuration stays the same.
 */
export function paymentProvider(config: Config): PaymentProvider | null {
  const { azampay, mpesa } = paymentProviders(config);
  if (!azampay || !mpesa) return azampay ?? mpesa;
  const via = (network: string) => (network === 'mpesa' ? mpesa : azampay);
  return {
    name: 'mpesa+azampay',
    nameFor: (network) => via(network).name,
    submit: (order) => via(order.network).submit(order),
    query: (q) => via(q.network).query(q),
  };
}

function buildAzamPay(config: Config): PaymentProvider | null {
  const { AZAMPAY_APP_NAME, AZAMPAY_CLIENT_ID, AZAMPAY_CLIENT_SECRET, AZAMPAY_API_KEY } = config;
  if (!AZAMPAY_APP_NAME || !AZAMPAY_CLIENT_ID || !AZAMPAY_CLIENT_SECRET || !AZAMPAY_API_KEY) {
    return null;
  }
  return azamPay({
    authUrl: config.AZAMPAY_AUTH_URL,
    checkoutUrl: config.AZAMPAY_CHECKOUT_URL,
    appName: AZAMPAY_APP_NAME,
    clientId: AZAMPAY_CLIENT_ID,
    clientSecret: AZAMPAY_CLIENT_SECRET,
    apiKey: AZAMPAY_API_KEY,
    timeoutMs: config.PROVIDER_TIMEOUT_MS,
  });
}

function buildMpesa(config: Config): PaymentProvider | null {
  const { MPESA_API_KEY, MPESA_PUBLIC_KEY, MPESA_SERVICE_PROVIDER_CODE } = config;
  if (!MPESA_API_KEY || !MPESA_PUBLIC_KEY || !MPESA_SERVICE_PROVIDER_CODE) return null;
  return mpesa({
    baseUrl: config.MPESA_BASE_URL,
    apiKey: MPESA_API_KEY,
    publicKey: MPESA_PUBLIC_KEY,
    serviceProviderCode: MPESA_SERVICE_PROVIDER_CODE,
    origin: config.MPESA_ORIGIN,
    timeoutMs: config.PROVIDER_TIMEOUT_MS,
  });
}
