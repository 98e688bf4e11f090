import { go, h } from '../dom.js';
import { t } from '../i18n.js';
import { newId, type Doc } from '../data.js';
import type { Session } from '../session.js';
import { isoWithOffset, ruleForm } from './form.js';

/**
 * The three forms an agent fills in: a farmer (add or edit), a visit, a payment request.
 * Each is built from its sync rule; this file only says which fields the screen fills itself.
 */

function stamp(session: Session, type: string, old: Doc | null) {
  const now = isoWithOffset(new Date());
  return {
    type,
    owner: old?.owner ?? session.user.name,
    created_at: old?.created_at ?? now,
    updated_at: now,
  };
}

export function farmerEditScreen(session: Session, id: string | null): HTMLElement {
  const old = id ? (session.docs.get(id) ?? null) : null;
  if (id && !old) return h('p', { class: 'empty' }, t('not_found'));
  const docId = old?._id ?? newId('farmer');
  return h(
    'section',
    { 'aria-labelledby': 'edit-title' },
    h('h2', { id: 'edit-title' }, t(old ? 'edit_farmer' : 'add_farmer')),
    ruleForm({
      type: 'farmer',
      old,
      initial: old ?? {},
      user: session.user,
      submitLabel: t('save'),
      build: (values) => ({
        _id: docId,
        ...(old?._rev ? { _rev: old._rev } : {}),
        ...stamp(session, 'farmer', old),
        ...values,
      }),
      onSave: async (doc) => {
        await session.save(doc);
        go('farmer', docId);
      },
      onCancel: () => (old ? go('farmer', docId) : go('farmers')),
    }),
  );
}

export function visitScreen(session: Session, farmerId: string): HTMLElement {
  return farmerRecordScreen(session, farmerId, {
    type: 'visit',
    title: t('record_visit'),
    skip: ['location'],
    initial: () => ({ visited_at: isoWithOffset(new Date()) }),
  });
}

export function paymentScreen(session: Session, farmerId: string): HTMLElement {
  return farmerRecordScreen(session, farmerId, {
    type: 'payment_request',
    title: t('request_payment'),
    initial: (farmer) => ({ msisdn: farmer.phone }),
  });
}

/** A new document about one farmer (a visit, a payment request), never edited afterwards. */
function farmerRecordScreen(
  session: Session,
  farmerId: string,
  what: {
    type: string;
    title: string;
    skip?: string[];
    initial(farmer: Doc): Record<string, unknown>;
  },
): HTMLElement {
  const farmer = session.docs.get(farmerId);
  if (!farmer) return h('p', { class: 'empty' }, t('not_found'));
  // Made once per form, so a double tap saves once; for a payment request the id is also
  // the provider's idempotency key.
  const id = newId(what.type);
  return h(
    'section',
    { 'aria-labelledby': 'record-title' },
    h('h2', { id: 'record-title' }, what.title, ': ', String(farmer.name)),
    ruleForm({
      type: what.type,
      skip: ['farmer_id', ...(what.skip ?? [])],
      old: null,
      initial: what.initial(farmer),
      user: session.user,
      submitLabel: what.type === 'payment_request' ? what.title : t('save'),
      build: (values) => ({
        _id: id,
        ...stamp(session, what.type, null),
        farmer_id: farmerId,
        ...values,
      }),
      onSave: async (doc) => {
        await session.save(doc);
        go('farmer', farmerId);
      },
      onCancel: () => go('farmer', farmerId),
    }),
  );
}
