import { h } from '../dom.js';
import { t } from '../i18n.js';
import { translateReason } from '../reasons.js';
import type { Session } from '../session.js';
import { typeLabel } from './badges.js';

/** Sync details: what the server refused and why, and which documents are in conflict. */
export function syncScreen(session: Session): HTMLElement {
  const view = session.log.view();
  const name = (id: string) => {
    const doc = session.docs.get(id);
    return doc
      ? `${typeLabel(doc.type)}: ${String(doc.name ?? doc.activity ?? doc.amount ?? id)}`
      : id;
  };
  const link = (id: string) => {
    const doc = session.docs.get(id);
    const farmerId = doc?.type === 'farmer' ? id : (doc?.farmer_id as string | undefined);
    return farmerId
      ? h('a', { href: `#/farmer/${encodeURIComponent(farmerId)}` }, name(id))
      : name(id);
  };
  return h(
    'section',
    { 'aria-labelledby': 'sync-title' },
    h('h2', { id: 'sync-title' }, t('sync')),
    h('h3', { id: 'refused-title' }, t('refused_writes')),
    view.refused.length
      ? h('ul', { class: 'list', id: 'refused', 'aria-labelledby': 'refused-title' },
          view.refused.map((r) =>
            h('li', { 'data-id': r.id }, h('div', {},
              h('strong', {}, link(r.id)),
              h('span', { class: 'reason' }, translateReason(r.reason))))))
      : h('p', { class: 'empty' }, t('none_refused')),
    h('h3', { id: 'conflicts-title' }, t('conflicts')),
    view.conflicts.length
      ? h('ul', { class: 'list', id: 'conflicts', 'aria-labelledby': 'conflicts-title' },
          view.conflicts.map((c) =>
            h('li', { 'data-id': c.id }, h('div', {}, h('strong', {}, link(c.id)),
              h('span', { class: 'badge warn' }, t('conflicts'))))))
      : h('p', { class: 'empty' }, t('none_conflicts')),
  ); // prettier-ignore
}
