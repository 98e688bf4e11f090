import {
  COMMON_IMMUTABLE,
  COMMON_MESSAGES,
  documentSchema,
  E164_TZ,
  E164_TZ_MESSAGE,
  text,
} from './common.js';
import type { SyncRule } from './types.js';

/** A farmer registered by an extension agent. Edited on several phones, so merged field by field. */
export const farmer: SyncRule = {
  type: 'farmer',
  description: 'a farmer in the extension programme',
  schema: documentSchema('farmer', {
    properties: {
      name: text(200),
      phone: { type: 'string', pattern: E164_TZ },
      village: text(100),
      district: text(100),
      gender: { enum: ['female', 'male', 'other'] },
      land_acres: { type: 'number', minimum: 0 },
    },
    required: ['name', 'village', 'district'],
  }),
  messages: {
    ...COMMON_MESSAGES,
    phone: E164_TZ_MESSAGE,
    land_acres: 'must be a number of acres, 0 or more',
  },
  ownerField: 'owner',
  immutable: [...COMMON_IMMUTABLE],
  writer: 'user',
  roles: {
    create: ['agent', 'supervisor', 'admin'],
    update: ['agent', 'supervisor', 'admin'],
    delete: ['supervisor', 'admin'],
    anyOwner: ['supervisor', 'admin'],
  },
  databases: ['private', 'team'],
  conflict: { strategy: 'field-merge', field: 'updated_at' },
  retention: { phoneDays: 'forever', serverDays: 'forever', from: 'updated_at' },
  personalData: ['name', 'phone', 'village', 'gender', 'land_acres'],
};
