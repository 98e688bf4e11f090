import { createHash } from 'node:crypto';

/**
 * Field records as phones make them, for the gateway benchmark; the content follows the
 * reference sync rules (farmer, visit). Two kinds of ids: random UUIDs (`uuid`, what
 * PouchDB's post() generates: 16 bytes of entropy no compressor can remove, paid three
 * times per document by the replication protocol) and time-ordered ones (`ordered`, the
 * creation time in base 36 and a counter, what we recommend phones use). Seeded, so every
 * run syncs the same bytes.
 */
export type IdStyle = 'uuid' | 'ordered';

const FIRST = [
  'Asha',
  'Baraka',
  'Chausiku',
  'Dalila',
  'Elia',
  'Faraji',
  'Grace',
  'Halima',
  'Idd',
  'Jabiri',
  'Khadija',
  'Lulu',
  'Mussa',
  'Neema',
  'Omari',
  'Pendo',
  'Rehema',
  'Saidi',
  'Tumaini',
  'Upendo',
  'Winfrida',
  'Yusufu',
  'Zawadi',
];
const LAST = [
  'Mwakalinga',
  'Kimaro',
  'Massawe',
  'Mushi',
  'Nyerere',
  'Komba',
  'Mollel',
  'Swai',
  'Lyimo',
  'Mbwambo',
  'Shayo',
  'Kitwana',
  'Mrema',
  'Temba',
];
const VILLAGES = [
  'Mvomero',
  'Dakawa',
  'Mtibwa',
  'Turiani',
  'Melela',
  'Kilosa',
  'Gairo',
  'Ifakara',
  "Mang'ula",
  'Kidatu',
  'Malinyi',
  'Mlimba',
  'Ulanga',
  'Mahenge',
  'Kisaki',
  'Mikese',
];
const DISTRICTS = [
  'Mvomero',
  'Kilosa',
  'Gairo',
  'Kilombero',
  'Ulanga',
  'Morogoro Rural',
  'Malinyi',
];
const ACTIVITIES = ['training', 'input-distribution', 'follow-up', 'survey'];
const NOTES = [
  'Alishauriwa kupanda mbegu bora na kutumia mbolea kwa wakati.',
  'Shamba limeathiriwa na viwavijeshi; ameshauriwa kunyunyizia dawa.',
  'Amepokea mifuko miwili ya mbolea ya kupandia (DAP).',
  'Mavuno yanatarajiwa kuongezeka msimu huu.',
  'Farmer asked about the next training on post-harvest storage.',
  'Maize looks healthy; weeding done. Follow up in two weeks.',
];

/** A small deterministic PRNG (mulberry32): the same records on every run. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function fieldRecords(
  n: number,
  owner: string,
  ids: IdStyle = 'uuid',
  seed = 42,
): Record<string, unknown>[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)] as T;
  const idOf = (i: number, at: Date) =>
    ids === 'uuid'
      ? createHash('md5').update(`${seed}:${i}`).digest('hex')
      : `${at.getTime().toString(36)}-${(i % 1296).toString(36).padStart(2, '0')}`;
  const farmers: string[] = [];
  const out: Record<string, unknown>[] = [];
  const start = Date.UTC(2025, 0, 6, 6);
  for (let i = 0; i < n; i++) {
    // Working hours in East Africa Time, a few minutes apart.
    const at = new Date(start + i * 7 * 60_000 + Math.floor(rnd() * 300_000));
    const when = at.toISOString().replace(/\.\d+Z$/, '+00:00');
    if (farmers.length === 0 || rnd() < 0.35) {
      const id = `farmer-${idOf(i, at)}`;
      farmers.push(id);
      out.push({
        _id: id,
        type: 'farmer',
        owner,
        created_at: when,
        updated_at: when,
        name: `${pick(FIRST)} ${pick(LAST)}`,
        phone: `+2557${String(Math.floor(rnd() * 1e8)).padStart(8, '0')}`,
        village: pick(VILLAGES),
        district: pick(DISTRICTS),
        gender: rnd() < 0.55 ? 'female' : 'male',
        land_acres: Math.round(rnd() * 40) / 4,
      });
    } else {
      const visit: Record<string, unknown> = {
        _id: `visit-${idOf(i, at)}`,
        type: 'visit',
        owner,
        created_at: when,
        updated_at: when,
        farmer_id: pick(farmers),
        visited_at: when,
        activity: pick(ACTIVITIES),
        location: {
          lat: -6.1 - Math.round(rnd() * 3e5) / 1e5,
          lon: 36.5 + Math.round(rnd() * 3e5) / 1e5,
        },
      };
      if (rnd() < 0.4) visit.notes = pick(NOTES);
      out.push(visit);
    }
  }
  return out;
}
