import type { Config } from '../config.js';
import type { SmsProvider } from './sms-types.js';
import { africasTalking } from './africastalking/client.js';
import { beem } from './beem/client.js';

const built = new WeakMap<Config, SmsProvider | null>();

/** The configured SMS provider, or null (SMS_PROVIDER unset or its credentials missing). */
export function smsProvider(config: Config): SmsProvider | null {
  if (!built.has(config)) built.set(config, build(config));
  return built.get(config) ?? null;
}

function build(c: Config): SmsProvider | null {
  if (c.SMS_PROVIDER === 'africastalking') {
    if (!c.AFRICASTALKING_USERNAME || !c.AFRICASTALKING_API_KEY) return null;
    return africasTalking({
      url: c.AFRICASTALKING_URL,
      username: c.AFRICASTALKING_USERNAME,
      apiKey: c.AFRICASTALKING_API_KEY,
      from: c.AFRICASTALKING_FROM,
      timeoutMs: c.PROVIDER_TIMEOUT_MS,
    });
  }
  if (c.SMS_PROVIDER === 'beem') {
    if (!c.BEEM_API_KEY || !c.BEEM_SECRET_KEY) return null;
    return beem({
      url: c.BEEM_URL,
      apiKey: c.BEEM_API_KEY,
      secretKey: c.BEEM_SECRET_KEY,
      sourceAddr: c.BEEM_SOURCE_ADDR,
      timeoutMs: c.PROVIDER_TIMEOUT_MS,
    });
  }
  return null;
}
