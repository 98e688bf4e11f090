import { go, h, type Child } from '../dom.js';
import { label, t } from '../i18n.js';
import { fieldsOf } from '../rules.js';
import { translateReason } from '../reasons.js';
import type { Session } from '../session.js';
import { conflictNote, shown } from './conflict.js';
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
    farmer._conflicts?.length ? conflictNote(session, farmer) : null,
    refusal
      ? h('p', { class: 'flag bad', role: 'note' }, `${t('refused')}: ${translateReason(refusal.reason)}`)
      : null,
    h('dl', { class: 'card details' }, details),
    records(t('visits'), t('record_visit'), () => go('farmer', id, 'visit'), t('no_visits'),
      visits.map((v) => [
        h('strong', {}, label('v', String(v.activity))),
        h('span', { class: 'meta' }, when(v.visited_at)),
        v.notes ? h('span', { class: 'notes' }, String(v.notes)) : null,
      ])),
    records(t('payments'), t('request_payment'), () => go('farmer', id, 'pay'), t('no_payments'),
      payments.map((p) => [
        h('strong', {}, `TSh ${Number(p.amount).toLocaleString('en')}`),
        h('span', { class: 'meta' }, `${label('v', String(p.provider))} · ${p.msisdn} · ${when(p.created_at)}`),
        paymentStatus(p, statuses),
      ])),
  ); // prettier-ignore
}

/** A titled list of a farmer's records, with the button that adds one. */
function records(title: string, add: string, onAdd: () => void, empty: string, items: Child[][]) {
  const id = `list-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return [
    h('div', { class: 'title-row' },
      h('h3', { id }, title),
      h('button', { type: 'button', class: 'primary', onclick: onAdd }, '+ ', add)),
    items.length
      ? h('ul', { class: 'list', 'aria-labelledby': id }, items.map((item) => h('li', {}, h('div', {}, item))))
      : h('p', { class: 'empty' }, empty),
  ]; // prettier-ignore
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

function when(value: unknown): string {
  const date = new Date(String(value));
  return Number.isNaN(date.getTime())
    ? String(value ?? '')
    : date.toLocaleString(document.documentElement.lang === 'en' ? 'en-GB' : 'sw-TZ', {
        dateStyle: 'medium',
        timeStyle: 'short',
      });
}
