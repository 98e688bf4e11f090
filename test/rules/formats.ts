import { fullFormats } from 'ajv-formats/dist/formats.js';
import t from 'tap';
import { formatsSource, SUPPORTED_FORMATS } from '../../server/rules/compile.js';
import { evaluateIsolated } from '../../server/rules/sources.js';

/**
 * validate_doc_update carries its own copies of the string formats (it cannot load
 * ajv-formats). They must judge exactly as ajv-formats' full formats do.
 */

const ours = evaluateIsolated<() => Record<string, (s: string) => boolean>>(formatsSource())();

const SAMPLES: Record<string, string[]> = {
  date: [
    '2024-05-01',
    '2024-02-29',
    '2023-02-29',
    '2024-13-01',
    '2024-04-31',
    '2024-5-1',
    '20240501',
    '',
    '2000-02-29',
    '1900-02-29',
  ],
  time: [
    '09:30:00Z',
    '09:30:00+03:00',
    '09:30:00.123+0300',
    '09:30:00',
    '24:00:00Z',
    '23:59:60Z',
    '02:59:60+03:00',
    '12:60:00Z',
    '09:30:00+24:00',
    '09:30Z',
  ],
  'date-time': [
    '2024-05-01T09:30:00+03:00',
    '2024-05-01t09:30:00z',
    '2024-05-01 09:30:00Z',
    '2024-05-01T09:30:00',
    '2024-05-01T09:30:00.5Z',
    '2024-02-30T09:30:00Z',
    '2024-05-01',
    'yesterday',
    '2024-05-01T09:30:00+03:00T',
    '2016-12-31T23:59:60Z',
    '2024-05-01T25:00:00Z',
  ],
  email: [
    'a@b.co',
    'first.last+tag@example.org',
    'a@b',
    'no-at.example.org',
    'a@@b.co',
    'a b@c.co',
    'a@-b.co',
    '.a@b.co',
  ],
  uuid: [
    '0d4b8c1e-2f57-4c4e-9a63-1c1f0c6b2a11',
    'urn:uuid:0D4B8C1E-2F57-4C4E-9A63-1C1F0C6B2A11',
    '0d4b8c1e2f574c4e9a631c1f0c6b2a11',
    'xyz',
  ],
};

t.same(
  [...SUPPORTED_FORMATS].sort(),
  Object.keys(SAMPLES).sort(),
  'every supported format is sampled',
);

for (const [name, samples] of Object.entries(SAMPLES)) {
  t.test(name, async (t) => {
    const def = fullFormats[name as keyof typeof fullFormats];
    const reference = (s: string): boolean => {
      if (def instanceof RegExp) return def.test(s);
      if (typeof def === 'function') return def(s);
      if (typeof def === 'object' && 'validate' in def) {
        const v = def.validate;
        return v instanceof RegExp ? v.test(s) : (v as (x: string) => boolean)(s);
      }
      throw new Error(`no reference for ${name}`);
    };
    const ourFormat = ours[name];
    if (!ourFormat) throw new Error(`missing ${name}`);
    let valid = 0;
    for (const s of samples) {
      t.equal(ourFormat(s), reference(s), JSON.stringify(s));
      if (reference(s)) valid++;
    }
    t.ok(valid > 0 && valid < samples.length, 'samples include valid and invalid strings');
  });
}
