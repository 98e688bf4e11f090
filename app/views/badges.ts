import { h } from '../dom.js';
import { label, t } from '../i18n.js';
import type { Session } from '../session.js';
import type { Doc } from '../data.js';

/** Small flags beside a document: in conflict, refused by the server. */
export function badges(session: Session, doc: Doc): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (doc._conflicts?.length) out.push(h('span', { class: 'badge warn' }, t('conflicts')));
  if (session.log.view().refused.some((r) => r.id === doc._id)) {
    out.push(h('span', { class: 'badge bad' }, t('refused')));
  }
  return out;
}

/** The document's type in the chosen language. */
export function typeLabel(type: unknown): string {
  return label('d', String(type ?? ''));
}
