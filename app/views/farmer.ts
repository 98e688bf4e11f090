import { go, h } from '../dom.js';
import { label, t } from '../i18n.js';
import { fieldsOf } from '../rules.js';
import { translateReason } from '../reasons.js';
import type { Session } from '../session.js';
import type { Doc } from '../data.js';

/** One farmer: details, conflict and refusal flags, visits and payment requests. */
export function farmerScreen(session: Session, id: string): HTMLElement {
  const farmer = session.docs.get(id);
  if (!farmer) return h('p', { class: 'empty' }, t('not_found'));
  const refusal = session.log.view().refused.find((r) => r.id === id);
  const visits = session.docs
    .ofType('visit')
    .filter((v) => v.farmer_id === id)
    .sort((a, b) => String(b.visited_at).localeCompare(String(a.visited_at)));
  const payments = session.docs
    .ofType('payment_request')
    .filter((p) => p.farmer_id === id)
    .sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
  const statuses = session.docs.ofType('payment_status');
  const details = fieldsOf('farmer')
    .filter((f) => f.name !== 'name' && farmer[f.name] !== undefined)
    .map((f) => [h('dt', {}, label('f', f.name)), h('dd', {}, shown(farmer[f.name]))]);

  return h(
    'section',
    { 'aria-labelledby': 'farmer-title' },
    h('p', {}, h('a', { href: '#/farmers' }, '← ', t('farmers'))),
    h('div', { class: 'title-row' },
      h('h2', { id: 'farmer-title' }, String(farmer.name ?? id)),
      h('button', { type: 'button', onclick: () => go('farmer', id, 'edit') }, t('edit'))),
    farmer._conflicts?.length
      ? h('p', { class: 'flag warn', role: 'note' }, t('conflict'))
      : null,
    refusal
      ? h('p', { class: 'flag bad', role: 'note' }, `${t('refused')}: ${translateReason(refusal.reason)}`)
      : null,
    h('dl', { class: 'card details' }, details),
    h('div', { class: 'title-row' },
      h('h3', { id: 'visits-title' }, t('visits')),
      h('button', { type: 'button', class: 'primary', onclick: () => go('farmer', id, 'visit') }, '+ ', t('record_visit'))),
    visits.length
      ? h('ul', { class: 'list', 'aria-labelledby': 'visits-title' }, visits.map((v) =>
          h('li', {}, h('div', {},
            h('strong', {}, label('v', String(v.activity))),
            h('span', { class: 'meta' }, when(v.visited_at)),
            v.notes ? h('span', { class: 'notes' }, String(v.notes)) : null))))
      : h('p', { class: 'empty' }, t('no_visits')),
    h('div', { class: 'title-row' },
      h('h3', { id: 'payments-title' }, t('payments')),
      h('button', { type: 'button', class: 'primary', onclick: () => go('farmer', id, 'pay') }, '+ ', t('request_payment'))),
    payments.length
      ? h('ul', { class: 'list', 'aria-labelledby': 'payments-title' }, payments.map((p) =>
          h('li', {}, h('div', {},
            h('strong', {}, `TSh ${Number(p.amount).toLocaleString('en')}`),
            h('span', { class: 'meta' }, `${label('v', String(p.provider))} · ${p.msisdn} · ${when(p.created_at)}`),
            paymentStatus(p, statuses)))))
      : h('p', { class: 'empty' }, t('no_payments')),
  ); // prettier-ignore
}

function paymentStatus(request: Doc, statuses: Doc[]): HTMLElement {
  const status = statuses
    .filter((s) => s.request_id === request._id)
    .sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at)))[0];
  const value = status ? String(status.status) : 'waiting_server';
  const tone = value === 'succeeded' ? 'good' : value === 'failed' ? 'bad' : 'wait';
  return h(
    'span',
    { class: `badge ${tone}`, 'data-status': value },
    label('v', value),
    status?.message ? ` — ${status.message}` : '',
  );
}

function shown(value: unknown): string {
  return typeof value === 'string' ? label('v', value) : String(value);
}

function when(value: unknown): string {
  const date = new Date(String(value));
  return Number.isNaN(date.getTime())
    ? String(value ?? '')
    : date.toLocaleString(document.documentElement.lang === 'en' ? 'en-GB' : 'sw-TZ', {
        dateStyle: 'medium',
        timeStyle: 'short',
      });
}
