import { go, h } from '../dom.js';
import { t } from '../i18n.js';
import type { Session } from '../session.js';
import type { Doc } from '../data.js';
import { badges } from './badges.js';

/** The agent's farmers, searchable by name, village, district or phone. */
export function farmersScreen(
  session: Session,
  query: string,
  onQuery: (q: string) => void,
): HTMLElement {
  const all = session.docs.ofType('farmer').sort(byName);
  const q = query.trim().toLowerCase();
  const shown = q ? all.filter((f) => matches(f, q)) : all;
  const search = h('input', {
    id: 'search',
    type: 'search',
    value: query,
    autocomplete: 'off',
    oninput: (e: Event) => onQuery((e.target as HTMLInputElement).value),
  });
  return h(
    'section',
    { 'aria-labelledby': 'farmers-title' },
    h('div', { class: 'title-row' },
      h('h2', { id: 'farmers-title' }, t('farmers'), h('span', { class: 'count' }, ` (${all.length})`)),
      h('button', { type: 'button', class: 'primary', onclick: () => go('farmers', 'new') }, '+ ', t('add_farmer'))),
    h('div', { class: 'field search' }, h('label', { for: 'search' }, t('search')), search),
    shown.length === 0
      ? h('p', { class: 'empty' }, q ? t('no_match', { q: query }) : t('no_farmers'))
      : h('ul', { class: 'list', 'aria-label': t('farmers') },
          shown.map((f) =>
            h('li', {},
              h('a', { href: `#/farmer/${encodeURIComponent(f._id)}` },
                h('strong', {}, String(f.name ?? f._id)),
                h('span', { class: 'meta' }, [f.village, f.district].filter(Boolean).join(', ')),
                badges(session, f))))),
  ); // prettier-ignore
}

function byName(a: Doc, b: Doc): number {
  return String(a.name ?? '').localeCompare(String(b.name ?? ''));
}

function matches(f: Doc, q: string): boolean {
  return ['name', 'village', 'district', 'phone'].some((k) =>
    String(f[k] ?? '')
      .toLowerCase()
      .includes(q),
  );
}
