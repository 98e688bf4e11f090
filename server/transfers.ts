/**
 * Where each integration sends personal data (PDPA: transfers outside the country need the
 * Personal Data Protection Commission's authorisation). Every integration that sends personal
 * data to a provider is listed here with the country that provider processes it in; when the
 * integration is configured and that country is not DATA_RESIDENCY, the configuration is
 * refused (a ConfigError at start-up, in every script too) unless its name is in
 * PERSONAL_DATA_ABROAD_ALLOWED. A new integration adds its line here.
 */
export interface Transfer {
  /** The name PERSONAL_DATA_ABROAD_ALLOWED uses. */
  name: string;
  /** ISO 3166-1 alpha-2 code of where the provider processes the data. */
  country: string;
  /** What personal data it sends, for the error message and docs/data-protection.md. */
  sends: string;
  /** The integration is in use when every one of these settings is set. */
  enabledBy: readonly string[];
}

export const TRANSFERS: readonly Transfer[] = [
  {
    name: 'azampay',
    country: 'TZ',
    sends: "payees' phone numbers and amounts",
    enabledBy: [
      'AZAMPAY_APP_NAME',
      'AZAMPAY_CLIENT_ID',
      'AZAMPAY_CLIENT_SECRET',
      'AZAMPAY_API_KEY',
    ],
  },
  {
    // Vodacom Tanzania's M-Pesa; the OpenAPI gateway's hosting is not documented, so this
    // rests on the wallet being Vodacom Tanzania's (an operator with doubts asks Vodacom).
    name: 'mpesa',
    country: 'TZ',
    sends: "payees' phone numbers and amounts",
    enabledBy: ['MPESA_API_KEY', 'MPESA_PUBLIC_KEY', 'MPESA_SERVICE_PROVIDER_CODE'],
  },
  {
    // Africa's Talking is run from Kenya; where it keeps messages is its answer to give, so
    // a Tanzanian deployment must allow it knowingly.
    name: 'africastalking',
    country: 'KE',
    sends: "recipients' phone numbers and message texts (SMS, sign-in codes)",
    enabledBy: ['AFRICASTALKING_USERNAME', 'AFRICASTALKING_API_KEY'],
  },
  {
    name: 'beem',
    country: 'TZ',
    sends: "recipients' phone numbers and message texts (SMS, sign-in codes)",
    enabledBy: ['BEEM_API_KEY', 'BEEM_SECRET_KEY'],
  },
];

/** The problems of a configuration's transfers abroad; empty when every one is allowed. */
export function transferProblems(
  settings: Record<string, unknown> & {
    DATA_RESIDENCY: string;
    PERSONAL_DATA_ABROAD_ALLOWED?: string;
  },
  transfers: readonly Transfer[] = TRANSFERS,
): string[] {
  const allowed = new Set(
    (settings.PERSONAL_DATA_ABROAD_ALLOWED ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const problems: string[] = [];
  for (const name of allowed) {
    if (!transfers.some((t) => t.name === name)) {
      problems.push(
        `PERSONAL_DATA_ABROAD_ALLOWED: ${JSON.stringify(name)} is not an integration (known: ${transfers.map((t) => t.name).join(', ')})`,
      );
    }
  }
  for (const t of transfers) {
    const enabled = t.enabledBy.every((k) => settings[k] !== undefined && settings[k] !== '');
    if (!enabled || t.country === settings.DATA_RESIDENCY || allowed.has(t.name)) continue;
    problems.push(
      `${t.name} sends personal data (${t.sends}) to ${t.country}, outside DATA_RESIDENCY=${settings.DATA_RESIDENCY}: ` +
        `refused. Once the transfer is lawful (the Commission's authorisation, or adequate safeguards), ` +
        `allow it with PERSONAL_DATA_ABROAD_ALLOWED=${t.name}`,
    );
  }
  return problems;
}
