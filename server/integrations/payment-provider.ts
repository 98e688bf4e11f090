import type { Config } from '../config.js';
import type { PaymentProvider } from './payment-types.js';
import { azamPay } from './azampay/client.js';

const built = new WeakMap<Config, PaymentProvider | null>();

/**
 * The configured payment provider, or null: requests then wait, saying so in their status.
 * One per configuration, so its access token is reused from run to run.
 */
export function paymentProvider(config: Config): PaymentProvider | null {
  if (!built.has(config)) built.set(config, build(config));
  return built.get(config) ?? null;
}

function build(config: Config): PaymentProvider | null {
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
