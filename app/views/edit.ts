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
  const farmer = session.docs.get(farmerId);
  if (!farmer) return h('p', { class: 'empty' }, t('not_found'));
  const visitId = newId('visit');
  return h(
    'section',
    { 'aria-labelledby': 'visit-title' },
    h('h2', { id: 'visit-title' }, t('record_visit'), ': ', String(farmer.name)),
    ruleForm({
      type: 'visit',
      skip: ['farmer_id', 'location'],
      old: null,
      initial: { visited_at: isoWithOffset(new Date()) },
      user: session.user,
      submitLabel: t('save'),
      build: (values) => ({
        _id: visitId,
        ...stamp(session, 'visit', null),
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

export function paymentScreen(session: Session, farmerId: string): HTMLElement {
  const farmer = session.docs.get(farmerId);
  if (!farmer) return h('p', { class: 'empty' }, t('not_found'));
  // The id is the payment's idempotency key: made once per form, so a double tap pays once.
  const requestId = newId('payment_request');
  return h(
    'section',
    { 'aria-labelledby': 'pay-title' },
    h('h2', { id: 'pay-title' }, t('request_payment'), ': ', String(farmer.name)),
    ruleForm({
      type: 'payment_request',
      skip: ['farmer_id'],
      old: null,
      initial: { msisdn: farmer.phone },
      user: session.user,
      submitLabel: t('request_payment'),
      build: (values) => ({
        _id: requestId,
        ...stamp(session, 'payment_request', null),
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
