/**
 * Phone numbers in, as people type them in Tanzania (`0712 345 678`, `255712345678`,
 * `+255 712-345-678`), to E.164; and out, as each provider wants them.
 */
export function toE164(input: string, country = '255'): string | null {
  const digits = input.trim().replace(/[\s().-]/g, '');
  let e164: string;
  if (/^\+[1-9]\d+$/.test(digits)) e164 = digits;
  else if (/^00[1-9]\d+$/.test(digits)) e164 = `+${digits.slice(2)}`;
  else if (/^0\d{9}$/.test(digits)) e164 = `+${country}${digits.slice(1)}`;
  else if (digits.startsWith(country) && /^\d+$/.test(digits)) e164 = `+${digits}`;
  else return null;
  if (e164.startsWith('+255')) return /^\+255[67]\d{8}$/.test(e164) ? e164 : null;
  return /^\+[1-9]\d{6,14}$/.test(e164) ? e164 : null;
}

/** `255712345678`: country code, no plus (AzamPay's accountNumber, Beem's dest_addr). */
export const digitsOnly = (e164: string) => e164.replace(/^\+/, '');
