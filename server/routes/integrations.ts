import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { checkCallback } from '../integrations/callback-guard.js';
import {
  handleAzamPayCallback,
  type AzamPayCallback,
} from '../jobs/integrations/payments/callback.js';
import { paymentProvider } from '../integrations/payment-provider.js';

const callbackBody = {
  type: 'object',
  required: ['utilityref', 'transactionstatus'],
  properties: {
    utilityref: { type: 'string', maxLength: 128, description: 'our externalId' },
    transactionstatus: { type: 'string', maxLength: 40, description: 'success or failure' },
    reference: { type: 'string', maxLength: 200 },
    message: { type: 'string', maxLength: 500 },
    msisdn: { type: 'string', maxLength: 20 },
    amount: { type: 'string', maxLength: 20 },
    operator: { type: 'string', maxLength: 40 },
  },
} as const;

/** Provider callbacks (docs/integrations.md). Each is answered 200 once its body is valid. */
async function integrations(app: FastifyInstance): Promise<void> {
  app.post<{ Params: { secret: string }; Body: AzamPayCallback }>(
    '/integrations/azampay/callback/:secret',
    {
      schema: {
        summary: 'AzamPay checkout callback (the path holds the configured secret)',
        tags: ['integrations'],
        params: {
          type: 'object',
          properties: { secret: { type: 'string', maxLength: 200 } },
          required: ['secret'],
        },
        body: callbackBody,
        response: {
          200: {
            type: 'object',
            properties: { received: { type: 'boolean' }, result: { type: 'string' } },
          },
        },
      },
      preValidation: async (req) =>
        checkCallback(
          req,
          req.params.secret,
          app.config.AZAMPAY_CALLBACK_SECRET,
          app.config.CALLBACK_ALLOWED_IPS,
        ),
    },
    async (req) => {
      const provider = paymentProvider(app.config);
      if (!provider) return { received: true, result: 'no-provider' };
      const result = await handleAzamPayCallback(
        app.couch.nano,
        app.config.JOBS_DB,
        provider,
        req.body,
        req.log,
      );
      return { received: true, result };
    },
  );
}

export default fp(integrations, { name: 'integrations', dependencies: ['couch'] });
