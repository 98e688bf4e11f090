import { COMMON_MESSAGES, DATE_TIME_MESSAGE, documentSchema, text } from './common.js';
import type { SyncRule } from './types.js';

// Tanzania's bounding box, mainland and islands, rounded outwards.
const LAT = { minimum: -11.8, maximum: -0.95 };
const LON = { minimum: 29.3, maximum: 40.5 };

/** An agent's visit to a farmer. A record of what happened: never edited, only added. */
export const visit: SyncRule = {
  type: 'visit',
  description: 'an extension visit to a farmer',
  schema: documentSchema('visit', {
    properties: {
      farmer_id: text(200),
      visited_at: { type: 'string', format: 'date-time' },
      activity: { enum: ['training', 'input-distribution', 'follow-up', 'survey'] },
      notes: { type: 'string', maxLength: 2000 },
      location: {
        type: 'object',
        properties: { lat: { type: 'number', ...LAT }, lon: { type: 'number', ...LON } },
        required: ['lat', 'lon'],
        additionalProperties: false,
      },
    },
    required: ['farmer_id', 'visited_at', 'activity'],
  }),
  messages: {
    ...COMMON_MESSAGES,
    visited_at: DATE_TIME_MESSAGE,
    'location.lat': `must be a latitude inside Tanzania (${LAT.minimum} to ${LAT.maximum})`,
    'location.lon': `must be a longitude inside Tanzania (${LON.minimum} to ${LON.maximum})`,
  },
  ownerField: 'owner',
  immutable: 'all',
  writer: 'user',
  roles: {
    create: ['agent', 'supervisor'],
    update: [],
    delete: ['supervisor', 'admin'],
    anyOwner: ['supervisor', 'admin'],
  },
  databases: ['private', 'team'],
  // The earliest-created revision wins; the others are archived by the reconciler.
  conflict: { strategy: 'append-only', field: 'created_at' },
  retention: { phoneDays: 180, serverDays: 1825, from: 'visited_at' },
  personalData: ['notes', 'location'],
};
