/**
 * Swahili first, English second. Every text a person reads comes from here; `{name}` marks a
 * value filled in at run time. The chosen language is `?lang=` or the switch, remembered.
 */

const sw = {
  app_name: 'Sawa Shamba',
  language: 'Lugha',
  sign_in: 'Ingia',
  sign_up: 'Jisajili',
  sign_out: 'Toka',
  username: 'Jina la mtumiaji au namba ya simu',
  password: 'Nenosiri',
  new_here: 'Mara ya kwanza? Jisajili',
  have_account: 'Una akaunti tayari? Ingia',
  working: 'Subiri…',
  bad_credentials: 'Jina au nenosiri si sahihi',
  offline_sign_in: 'Hakuna mtandao: kuingia kunahitaji mtandao mara ya kwanza',
  username_taken: 'Jina hili limeshachukuliwa: chagua jingine, au ingia',
  invalid_username:
    'Jina si sahihi: herufi ndogo a-z, tarakimu na _ . - +, au namba ya simu kama +255712345678',
  weak_password: 'Nenosiri ni fupi mno: angalau herufi {n}',
  account_disabled: 'Akaunti hii imezimwa: wasiliana na msimamizi',
  rate_limited: 'Majaribio mengi mno: subiri kidogo kisha ujaribu tena',
  farmers: 'Wakulima',
  search: 'Tafuta mkulima',
  add_farmer: 'Ongeza mkulima',
  edit_farmer: 'Hariri mkulima',
  no_farmers: 'Bado hakuna wakulima. Ongeza wa kwanza.',
  no_match: 'Hakuna mkulima anayelingana na “{q}”.',
  save: 'Hifadhi',
  cancel: 'Ghairi',
  back: 'Rudi',
  edit: 'Hariri',
  saved: 'Imehifadhiwa kwenye simu',
  fix_fields: 'Rekebisha sehemu zilizowekwa alama kabla ya kuhifadhi',
  optional: '(si lazima)',
  choose: '— chagua —',
  visits: 'Ziara',
  no_visits: 'Bado hakuna ziara.',
  record_visit: 'Rekodi ziara',
  payments: 'Malipo',
  no_payments: 'Bado hakuna maombi ya malipo.',
  request_payment: 'Omba malipo',
  conflict: 'Mgongano: simu nyingine ilihariri mkulima huyu pia',
  other_version: 'toleo jingine',
  refused: 'Imekataliwa na seva',
  not_found: 'Hati haipo kwenye simu hii.',
  // Sync
  sync: 'Usawazishaji',
  sync_now: 'Sawazisha sasa',
  status_synced: 'Imesawazishwa {when}',
  status_never: 'Bado haijasawazishwa',
  status_syncing: 'Inasawazisha…',
  status_offline: 'Hakuna mtandao',
  status_waiting: '{n} mabadiliko yanasubiri',
  status_error: 'Hitilafu ya usawazishaji; itajaribu tena',
  status_signed_out: 'Umetoka: ingia tena ili kusawazisha',
  refused_writes: 'Maandishi yaliyokataliwa',
  none_refused: 'Hakuna maandishi yaliyokataliwa.',
  conflicts: 'Migongano',
  none_conflicts: 'Hakuna migongano.',
  just_now: 'sasa hivi',
  minutes_ago: 'dakika {n} zilizopita',
  // Fields
  f_name: 'Jina',
  f_phone: 'Simu',
  f_village: 'Kijiji',
  f_district: 'Wilaya',
  f_gender: 'Jinsia',
  f_land_acres: 'Ardhi (ekari)',
  f_visited_at: 'Tarehe ya ziara',
  f_activity: 'Shughuli',
  f_notes: 'Maelezo',
  f_msisdn: 'Namba ya kupokea pesa',
  f_amount: 'Kiasi (TSh)',
  f_provider: 'Mtandao wa pesa',
  f_reason: 'Sababu',
  f_owner: 'Mmiliki',
  f_type: 'Aina',
  f_created_at: 'Iliundwa',
  f_updated_at: 'Ilibadilishwa',
  f_farmer_id: 'Mkulima',
  v_female: 'Mwanamke',
  v_male: 'Mwanamume',
  v_other: 'Nyingine',
  v_training: 'Mafunzo',
  'v_input-distribution': 'Ugawaji wa pembejeo',
  'v_follow-up': 'Ufuatiliaji',
  v_survey: 'Utafiti',
  v_pending: 'Inasubiri',
  v_succeeded: 'Imelipwa',
  v_failed: 'Imeshindikana',
  v_waiting_server: 'Inasubiri kufika kwenye seva',
  v_mpesa: 'M-Pesa',
  v_airtel: 'Airtel Money',
  v_mixx: 'Mixx by Yas',
  v_halopesa: 'HaloPesa',
  v_azampesa: 'AzamPesa',
  d_farmer: 'Mkulima',
  d_visit: 'Ziara',
  d_payment_request: 'Ombi la malipo',
  d_payment_status: 'Hali ya malipo',
};

export type TextKey = keyof typeof sw;

const en: Record<TextKey, string> = {
  app_name: 'Sawa Farm',
  language: 'Language',
  sign_in: 'Sign in',
  sign_up: 'Sign up',
  sign_out: 'Sign out',
  username: 'User name or phone number',
  password: 'Password',
  new_here: 'First time? Sign up',
  have_account: 'Have an account? Sign in',
  working: 'Please wait…',
  bad_credentials: 'Wrong name or password',
  offline_sign_in: 'No network: the first sign-in needs one',
  username_taken: 'This name is taken: choose another, or sign in',
  invalid_username:
    'Not a valid name: lower-case a-z, digits and _ . - +, or a phone number like +255712345678',
  weak_password: 'The password is too short: at least {n} characters',
  account_disabled: 'This account is disabled: ask your supervisor',
  rate_limited: 'Too many attempts: wait a moment, then try again',
  farmers: 'Farmers',
  search: 'Search farmers',
  add_farmer: 'Add farmer',
  edit_farmer: 'Edit farmer',
  no_farmers: 'No farmers yet. Add the first one.',
  no_match: 'No farmer matches “{q}”.',
  save: 'Save',
  cancel: 'Cancel',
  back: 'Back',
  edit: 'Edit',
  saved: 'Saved on this phone',
  fix_fields: 'Fix the marked fields before saving',
  optional: '(optional)',
  choose: '— choose —',
  visits: 'Visits',
  no_visits: 'No visits yet.',
  record_visit: 'Record a visit',
  payments: 'Payments',
  no_payments: 'No payment requests yet.',
  request_payment: 'Request a payment',
  conflict: 'Conflict: another phone edited this farmer too',
  other_version: 'other version',
  refused: 'Refused by the server',
  not_found: 'This document is not on this phone.',
  sync: 'Sync',
  sync_now: 'Sync now',
  status_synced: 'Synced {when}',
  status_never: 'Not synced yet',
  status_syncing: 'Syncing…',
  status_offline: 'Offline',
  status_waiting: '{n} changes waiting',
  status_error: 'Sync error; will retry',
  status_signed_out: 'Signed out: sign in again to sync',
  refused_writes: 'Refused writes',
  none_refused: 'No refused writes.',
  conflicts: 'Conflicts',
  none_conflicts: 'No conflicts.',
  just_now: 'just now',
  minutes_ago: '{n} min ago',
  f_name: 'Name',
  f_phone: 'Phone',
  f_village: 'Village',
  f_district: 'District',
  f_gender: 'Gender',
  f_land_acres: 'Land (acres)',
  f_visited_at: 'Date of visit',
  f_activity: 'Activity',
  f_notes: 'Notes',
  f_msisdn: 'Number to pay',
  f_amount: 'Amount (TSh)',
  f_provider: 'Mobile money',
  f_reason: 'Reason',
  f_owner: 'Owner',
  f_type: 'Type',
  f_created_at: 'Created',
  f_updated_at: 'Updated',
  f_farmer_id: 'Farmer',
  v_female: 'Female',
  v_male: 'Male',
  v_other: 'Other',
  v_training: 'Training',
  'v_input-distribution': 'Input distribution',
  'v_follow-up': 'Follow-up',
  v_survey: 'Survey',
  v_pending: 'Pending',
  v_succeeded: 'Paid',
  v_failed: 'Failed',
  v_waiting_server: 'Waiting to reach the server',
  v_mpesa: 'M-Pesa',
  v_airtel: 'Airtel Money',
  v_mixx: 'Mixx by Yas',
  v_halopesa: 'HaloPesa',
  v_azampesa: 'AzamPesa',
  d_farmer: 'Farmer',
  d_visit: 'Visit',
  d_payment_request: 'Payment request',
  d_payment_status: 'Payment status',
};

export type Lang = 'sw' | 'en';
const TEXTS: Record<Lang, Record<TextKey, string>> = { sw, en };
const KEY = 'sawa.lang';

let lang: Lang = pickLanguage();

function pickLanguage(): Lang {
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked === 'sw' || asked === 'en') {
    localStorage.setItem(KEY, asked);
    return asked;
  }
  return localStorage.getItem(KEY) === 'en' ? 'en' : 'sw';
}

export function currentLang(): Lang {
  return lang;
}

export function setLang(next: Lang): void {
  lang = next;
  localStorage.setItem(KEY, next);
  document.documentElement.lang = next;
}

/** The text for `key` in the chosen language, with `{name}` placeholders filled from `vars`. */
export function t(key: TextKey, vars: Record<string, string | number> = {}): string {
  return TEXTS[lang][key].replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? ''));
}

/** A field's (`f_phone`), choice's (`v_female`) or type's (`d_farmer`) label; else the raw name. */
export function label(prefix: 'f' | 'v' | 'd', name: string): string {
  const key = `${prefix}_${name}`;
  return key in sw ? t(key as TextKey) : name;
}
