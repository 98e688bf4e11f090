import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { checkCallback } from '../integrations/callback-guard.js';
import {
  azamPayOutcome,
  handlePaymentCallback,
  type AzamPayCallback,
} from '../jobs/integrations/payments/callback.js';
import { paymentProviders } from '../integrations/payment-provider.js';
import {
  mpesaAcknowledgement,
  mpesaOutcome,
  type MpesaResult,
} from '../integrations/mpesa/callback.js';
import { handleDeliveryReport } from '../jobs/integrations/sms/callback.js';
import { africasTalkingReport } from '../integrations/africastalking/client.js';
import { beemReport } from '../integrations/beem/client.js';
import type { DeliveryReport } from '../integrations/sms-types.js';

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

const mpesaBody = {
  type: 'object',
  required: ['input_ResultCode', 'input_ThirdPartyConversationID'],
  properties: {
    input_OriginalConversationID: { type: 'string', maxLength: 100 },
    input_TransactionID: { type: 'string', maxLength: 100 },
    input_ResultCode: { type: 'string', maxLength: 20, description: 'INS-0 is success' },
    input_ResultDesc: { type: 'string', maxLength: 500 },
    input_ThirdPartyConversationID: {
      type: 'string',
      maxLength: 100,
      description: 'our input_ThirdPartyConversationID',
    },
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
      const provider = paymentProviders(app.config).azampay;
      if (!provider) return { received: true, result: 'no-provider' };
      const result = await handlePaymentCallback(
        app.couch.nano,
        app.config.JOBS_DB,
        provider,
        azamPayOutcome(req.body),
        req.log,
      );
      return { received: true, result };
    },
  );

  app.post<{ Params: { secret: string }; Body: MpesaResult }>(
    '/integrations/mpesa/callback/:secret',
    {
      schema: {
        summary: 'M-Pesa OpenAPI result callback (the path holds the configured secret)',
        tags: ['integrations'],
        params: secretParams,
        body: mpesaBody,
        response: {
          200: {
            type: 'object',
            properties: {
              output_OriginalConversationID: { type: 'string' },
              output_ResponseCode: { type: 'string' },
              output_ResponseDesc: { type: 'string' },
              output_ThirdPartyConversationID: { type: 'string' },
              result: { type: 'string' },
            },
          },
        },
      },
      preValidation: async (req) =>
        checkCallback(
          req,
          req.params.secret,
          app.config.MPESA_CALLBACK_SECRET,
          app.config.CALLBACK_ALLOWED_IPS,
        ),
    },
    async (req) => {
      const provider = paymentProviders(app.config).mpesa;
      const result = provider
        ? await handlePaymentCallback(
            app.couch.nano,
            app.config.JOBS_DB,
            provider,
            mpesaOutcome(req.body),
            req.log,
          )
        : 'no-provider';
      return { ...mpesaAcknowledgement(req.body), result };
    },
  );

  await app.register(deliveryReports);
}

const secretParams = {
  type: 'object',
  properties: { secret: { type: 'string', maxLength: 200 } },
  required: ['secret'],
} as const;

const reportAnswer = {
  200: {
    type: 'object',
    properties: { received: { type: 'boolean' }, result: { type: 'string' } },
  },
} as const;

/**
 * SMS delivery reports: Africa's Talking posts a form, Beem JSON. Encapsulated, so the form
 * parser serves these routes only.
 */
async function deliveryReports(app: FastifyInstance): Promise<void> {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 16_384 },
    (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  const settle = (provider: string, report: DeliveryReport, log: FastifyInstance['log']) =>
    handleDeliveryReport(app.couch.nano, app.config.JOBS_DB, provider, report, log);

  app.post<{ Params: { secret: string }; Body: Record<string, string> }>(
    '/integrations/africastalking/delivery/:secret',
    {
      schema: {
        summary: "Africa's Talking SMS delivery report (form post; the path holds the secret)",
        tags: ['integrations'],
        params: secretParams,
        consumes: ['application/x-www-form-urlencoded'],
        body: {
          type: 'object',
          required: ['id', 'status'],
          properties: {
            id: { type: 'string', maxLength: 200, description: 'the messageId of the send' },
            status: { type: 'string', maxLength: 40 },
            phoneNumber: { type: 'string', maxLength: 20 },
            networkCode: { type: 'string', maxLength: 20 },
            failureReason: { type: 'string', maxLength: 200 },
            retryCount: { type: 'string', maxLength: 10 },
          },
        },
        response: reportAnswer,
      },
      preValidation: async (req) =>
        checkCallback(
          req,
          req.params.secret,
          app.config.AFRICASTALKING_DLR_SECRET,
          app.config.CALLBACK_ALLOWED_IPS,
        ),
    },
    async (req) => ({
      received: true,
      result: await settle('africastalking', africasTalkingReport(req.body), req.log),
    }),
  );

  app.post<{ Params: { secret: string }; Body: Record<string, unknown> }>(
    '/integrations/beem/delivery/:secret',
    {
      schema: {
        summary: 'Beem SMS delivery report (JSON; the path holds the secret)',
        tags: ['integrations'],
        params: secretParams,
        body: {
          type: 'object',
          required: ['request_id', 'status'],
          properties: {
            request_id: {
              anyOf: [{ type: 'string' }, { type: 'integer' }],
              description: 'the request_id of the send',
            },
            recipient_id: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
            dest_addr: { type: 'string', maxLength: 20 },
            status: { type: 'string', maxLength: 40 },
          },
        },
        response: reportAnswer,
      },
      preValidation: async (req) =>
        checkCallback(
          req,
          req.params.secret,
          app.config.BEEM_DLR_SECRET,
          app.config.CALLBACK_ALLOWED_IPS,
        ),
    },
    async (req) => ({
      received: true,
      result: await settle('beem', beemReport(req.body), req.log),
    }),
  );
}

export default fp(integrations, { name: 'integrations', dependencies: ['couch'] });
