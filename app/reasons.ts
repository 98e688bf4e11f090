import { currentLang, label } from './i18n.js';

/**
 * The server's refusals are English sentences built by the rules (design-docs/sawa/
 * validate_doc_update/reason.js and check.js): "farmer.phone must be an E.164 number…;
 * farmer.village is required". The phone's form runs the same generated function and gets the
 * same sentences. Here they are split per field and put in the agent's language: the
 * rule's own messages by table, the generic shapes by pattern. A sentence this file does not
 * know is shown as the server wrote it rather than hidden.
 */

export interface ReasonPart {
  /** Field path inside the document (`phone`, `location.lat`), or null for the whole doc. */
  field: string | null;
  /** What is wrong, in the chosen language. */
  text: string;
}

// The rule messages of sync-rules/, word for word, and their Swahili.
const RULE_MESSAGES_SW: Record<string, string> = {
  'must be an E.164 number: +255 and 9 digits, e.g. +255712345678':
    'iwe namba ya E.164: +255 na tarakimu 9, mfano +255712345678',
  'must be an E.164 number: + and country code, e.g. +255712345678':
    'iwe namba ya E.164: + na msimbo wa nchi, mfano +255712345678',
  'must be a number of acres, 0 or more': 'iwe idadi ya ekari, 0 au zaidi',
  'must be a whole number of Tanzanian shillings from 100 to 5,000,000':
    'iwe kiasi kamili cha shilingi za Tanzania kuanzia 100 hadi 5,000,000',
  'must be an ISO 8601 date-time with a time zone, e.g. 2024-05-01T09:30:00+03:00':
    'iwe tarehe na saa ya ISO 8601 yenye saa za eneo, mfano 2024-05-01T09:30:00+03:00',
};

const TYPES_SW: Record<string, string> = {
  'a string': 'maandishi',
  'a number': 'namba',
  'an integer': 'namba kamili',
  'an object': 'kitu',
  'true or false': 'kweli au si kweli',
};

// Generic shapes of reason.js, and the Swahili for each.
const GENERIC_SW: [RegExp, (...m: string[]) => string][] = [
  [/^is required$/, () => 'inahitajika'],
  [/^is not an allowed field$/, () => 'si sehemu inayoruhusiwa'],
  [/^must not be empty$/, () => 'isiwe tupu'],
  [/^must be at least (\d+) characters?$/, (n) => `iwe na herufi ${n} au zaidi`],
  [/^must be at most (\d+) characters?$/, (n) => `isizidi herufi ${n}`],
  [/^must be at least (\S+)$/, (n) => `iwe angalau ${n}`],
  [/^must be at most (\S+)$/, (n) => `isizidi ${n}`],
  [/^must be one of (.+)$/, (list) => `iwe mojawapo ya: ${choices(list)}`],
  [/^must match the pattern .+$/, () => 'haina muundo unaotakiwa'],
  [
    /^must be (a string|a number|an integer|an object|true or false)$/,
    (ty) => `iwe ${TYPES_SW[ty] ?? ty}`,
  ],
  [/^must be the writing user \((.*)\)$/, (u) => `lazima awe mtumiaji anayeandika (${u})`],
  [/^cannot change$/, () => 'haiwezi kubadilika'],
];

// Whole-document refusals of check.js.
const DOCUMENT_SW: [RegExp, (...m: string[]) => string][] = [
  [/^only its owner \((.*)\) may (update|delete) this (\w+)$/, (owner, action, type) =>
    `ni mmiliki wake tu (${owner}) anayeweza ${action === 'update' ? 'kuhariri' : 'kufuta'} ${label('d', type).toLowerCase()} huyu`],
  [/^(\w+) documents cannot be changed once written$/, (type) => `${label('d', type)}: haiwezi kubadilishwa baada ya kuandikwa`],
  [/^(\w+) documents are written by the server only$/, (type) => `${label('d', type)}: huandikwa na seva tu`],
  [/^(\w+) documents can(?:not)? be \w+ by .*$/, (type) => `${label('d', type)}: huna ruhusa ya kuandika hati hii`],
  [/^unknown document type .*$/, () => 'aina ya hati isiyojulikana'],
  [/^writes need a logged-in user$/, () => 'unahitaji kuingia ili kuandika'],
]; // prettier-ignore

function choices(list: string): string {
  return list
    .split(', ')
    .map((v) => label('v', v))
    .join(', ');
}

/** One reason sentence from the server, split per field and in the chosen language. */
export function reasonParts(reason: string): ReasonPart[] {
  return reason.split('; ').map(part);
}

/** A whole reason as one line in the chosen language: "Simu: iwe namba…; Kijiji: inahitajika". */
export function translateReason(reason: string): string {
  return reasonParts(reason)
    .map((p) => (p.field ? `${label('f', p.field)}: ${p.text}` : p.text))
    .join('; ');
}

function part(sentence: string): ReasonPart {
  const sw = currentLang() === 'sw';
  // "farmer.phone must be …", "farmer.village is required", "owner cannot change".
  const fielded = /^(?:[a-z][a-z0-9_]*\.)?([a-z_][\w.[\]]*) ((?:is|must|cannot) .+)$/.exec(
    sentence,
  );
  const whole = DOCUMENT_SW.find(([re]) => re.test(sentence));
  if (whole) {
    const m = whole[0].exec(sentence) as RegExpExecArray;
    return { field: null, text: sw ? whole[1](...m.slice(1)) : sentence };
  }
  if (!fielded) return { field: null, text: sentence };
  const [, field, rest] = fielded as unknown as [string, string, string];
  return { field, text: sw ? inSwahili(rest) : rest };
}

function inSwahili(rest: string): string {
  const known = RULE_MESSAGES_SW[rest];
  if (known) return known;
  for (const [re, make] of GENERIC_SW) {
    const m = re.exec(rest);
    if (m) return make(...m.slice(1));
  }
  return rest;
}
