/**
 * M-Pesa OpenAPI's `output_ResponseCode`s (the portal's response-code table) sorted by what
 * the payments worker may do next. The table names the codes; which of them are safe to
 * send again is not documented, so the sorting is ours (docs/integrations.md lists it).
 */
export type CodeClass =
  /** Paid or accepted: settled by the status query (or a confirmed callback). */
  | 'ok'
  /** Nothing was done and trying later may work: the same key is sent again. */
  | 'retry'
  /** The request may have been acted on: never sent again, only asked about. */
  | 'unknown'
  /** Refused for good: the payment fails with the provider's words. */
  | 'failed';

const CLASSES: Record<string, CodeClass> = {
  'INS-0': 'ok', // Request processed successfully
  'INS-1': 'unknown', // Internal error
  'INS-2': 'retry', // Invalid API key (a configuration an operator can mend; nothing paid)
  'INS-4': 'retry', // User is not active
  'INS-5': 'failed', // Transaction cancelled by customer
  'INS-6': 'failed', // Transaction failed
  'INS-9': 'unknown', // Request timeout
  'INS-10': 'unknown', // Duplicate transaction: this key was seen, so ask what became of it
  'INS-13': 'failed', // Invalid shortcode used
  'INS-14': 'failed', // Invalid reference used
  'INS-15': 'failed', // Invalid amount used
  'INS-16': 'retry', // Unable to handle the request due to a temporary overloading
  'INS-17': 'failed', // Invalid transaction reference (length 1 to 20)
  'INS-18': 'failed', // Invalid TransactionID used
  'INS-19': 'failed', // Invalid ThirdPartyReference used
  'INS-20': 'failed', // Not all parameters provided
  'INS-21': 'failed', // Parameter validations failed
  'INS-22': 'failed', // Invalid operation type
  'INS-23': 'unknown', // Unknown status: contact M-Pesa support
  'INS-24': 'failed', // Invalid InitiatorIdentifier used
  'INS-25': 'failed', // Invalid SecurityCredential used
  'INS-26': 'retry', // Not authorized
  'INS-995': 'failed', // Customer's profile has problems
  'INS-996': 'failed', // Customer account status not active
  'INS-998': 'failed', // Invalid market
  'INS-2001': 'failed', // Initiator authentication error
  'INS-2002': 'failed', // Receiver invalid
  'INS-2006': 'failed', // Insufficient balance
  'INS-2051': 'failed', // MSISDN invalid
  'INS-2057': 'failed', // Language code invalid
};

/**
 * The class of an answer: by its code when it has one; without one, by the HTTP status
 * (429/502/503 nothing done; another 5xx perhaps done; anything else refused).
 */
export function classify(code: unknown, httpStatus: number): CodeClass {
  const known = typeof code === 'string' ? CLASSES[code] : undefined;
  if (known) return known;
  if (httpStatus === 429 || httpStatus === 502 || httpStatus === 503) return 'retry';
  if (httpStatus >= 500) return 'unknown';
  return 'failed';
}

/** Query answers meaning "no such transaction" (guessed: the table has no not-found code). */
export const NOT_FOUND_CODES: ReadonlySet<string> = new Set(['INS-14', 'INS-18', 'INS-997']);
