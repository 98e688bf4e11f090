import { externalIdOf } from './client.js';

/**
 * M-Pesa OpenAPI's result callback (the asynchronous flavour of its calls): a JSON POST to
 * the result URL, answered with an acknowledgement naming the same conversation.
 */
export interface MpesaResult {
  input_OriginalConversationID?: string;
  input_TransactionID?: string;
  input_ResultCode: string;
  input_ResultDesc?: string;
  input_ThirdPartyConversationID: string;
}

/** What the callback claims; `INS-0` is the only success. */
export function mpesaOutcome(body: MpesaResult) {
  return {
    externalId: externalIdOf(body.input_ThirdPartyConversationID),
    claimed: body.input_ResultCode === 'INS-0' ? ('succeeded' as const) : ('failed' as const),
    reference: body.input_TransactionID || undefined,
  };
}

/** The acknowledgement M-Pesa expects, whatever we made of the result. */
export function mpesaAcknowledgement(body: MpesaResult) {
  return {
    output_OriginalConversationID: body.input_OriginalConversationID ?? '',
    output_ResponseCode: '0',
    output_ResponseDesc: 'Successfully Accepted Result',
    output_ThirdPartyConversationID: body.input_ThirdPartyConversationID,
  };
}
