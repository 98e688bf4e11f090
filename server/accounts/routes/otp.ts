import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Accounts } from '../service.js';
import type { AuthLimits } from '../rate-limit.js';
import { AuthResponse, errors } from '../schemas.js';
import {
  HourlyLimit,
  issueCode,
  sweepNowAndThen,
  OTP_MAX_ATTEMPTS,
  OTP_TTL_SEC,
  userOfPhone,
  verifyCode,
} from '../otp.js';
import { toE164 } from '../../integrations/phone.js';
import { PhoneInvalid, RateLimited } from '../../errors.js';
import { smsProvider } from '../../integrations/sms-provider.js';

const BODY_LIMIT = 1024;
const Phone = Type.String({
  minLength: 6,
  maxLength: 24,
  description: 'the phone number, as typed: +255712345678, 255712345678 or 0712345678',
});
const CodeRequested = Type.Object({
  ok: Type.Literal(true),
  expires_in: Type.Integer({ description: 'seconds a code sent now stays valid' }),
});

/** Sign-in by SMS (docs/accounts.md, "Sign-in by SMS"). */
export default async function otpRoutes(
  app: FastifyInstance,
  opts: { accounts: Accounts; limits: AuthLimits },
): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { ctx } = opts.accounts;
  const perNumber = new HourlyLimit(app.config.OTP_PER_NUMBER_PER_HOUR);
  const perAddress = new HourlyLimit(app.config.OTP_PER_ADDRESS_PER_HOUR);
  const phoneOf = (input: string) => {
    const phone = toE164(input);
    if (!phone) throw new PhoneInvalid();
    return phone;
  };

  api.post(
    '/auth/otp/request',
    {
      bodyLimit: BODY_LIMIT,
      onRequest: opts.limits.byIp,
      schema: {
        summary: 'Ask for a sign-in code by SMS',
        description:
          `Sends a 6-digit code to the number when it belongs to an account (its user name or phone), ` +
          `valid ${OTP_TTL_SEC} seconds; a new request replaces the earlier code. The answer is the ` +
          'same whether or not the number is known. Limited per number (OTP_PER_NUMBER_PER_HOUR) and ' +
          'per address (OTP_PER_ADDRESS_PER_HOUR): 429 with Retry-After.',
        tags: ['auth'],
        body: Type.Object({ phone: Phone }, { additionalProperties: false }),
        response: { 202: CodeRequested, ...errors(400, 413, 415, 429, 503) },
      },
    },
    async (req, reply) => {
      const phone = phoneOf(req.body.phone);
      const wait = perAddress.take(req.ip) || perNumber.take(phone);
      if (wait) {
        reply.header('retry-after', wait);
        throw new RateLimited(wait);
      }
      const user = await userOfPhone(ctx, phone);
      if (user) {
        // After the answer: the reply takes as long for a known number as for an unknown one.
        void issueCode(ctx, phone, user, smsProvider(app.config)).catch((err: unknown) =>
          req.log.error({ err: String(err) }, 'a sign-in code could not be made or sent'),
        );
      }
      void sweepNowAndThen(ctx).catch((err: unknown) =>
        req.log.warn({ err: String(err) }, 'expired sign-in codes could not be deleted'),
      );
      return reply.code(202).send({ ok: true as const, expires_in: OTP_TTL_SEC });
    },
  );

  api.post(
    '/auth/otp/verify',
    {
      bodyLimit: BODY_LIMIT,
      onRequest: opts.limits.byIp,
      schema: {
        summary: 'Sign in with a code sent by SMS',
        description:
          'Answers as POST /auth/login does. A wrong, expired or used code answers 401 ' +
          `SAWA_CODE_INVALID; after ${OTP_MAX_ATTEMPTS} wrong guesses the code is void.`,
        tags: ['auth'],
        body: Type.Object(
          { phone: Phone, code: Type.String({ pattern: '^[0-9]{6}$' }) },
          { additionalProperties: false },
        ),
        response: { 200: AuthResponse, ...errors(400, 401, 403, 413, 415, 429, 503) },
      },
    },
    async (req) => verifyCode(ctx, phoneOf(req.body.phone), req.body.code),
  );
}
