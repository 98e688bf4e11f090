import { h } from '../dom.js';
import { label, t } from '../i18n.js';
import { fieldsOf } from '../rules.js';
import type { Session } from '../session.js';
import type { Doc } from '../data.js';

/**
 * The conflict flag on a document, with what the other versions say where they differ, so
 * the agent can tell the supervisor which is right. The server's reconciler settles the
 * conflict (for farmers, field by field) and the settled version syncs back.
 */
export function conflictNote(session: Session, doc: Doc): HTMLElement {
  const note = h('div', { class: 'flag warn', role: 'note' }, h('p', {}, t('conflict')));
  const fields = fieldsOf(String(doc.type)).map((f) => f.name);
  void Promise.all(
    (doc._conflicts ?? []).map((rev) => session.db.get(doc._id, { rev }).catch(() => null)),
  ).then((others) => {
    const rows = others.flatMap((other) =>
      other
        ? fields
            .filter((f) => JSON.stringify(other[f]) !== JSON.stringify(doc[f]))
            .map((f) =>
              h(
                'li',
                {},
                `${label('f', f)}: ${shown(doc[f])} · ${t('other_version')}: ${shown(other[f])}`,
              ),
            )
        : [],
    );
    if (rows.length) note.append(h('ul', { class: 'differences' }, rows));
  });
  return note;
}

/** A field's value for people: choices by their label, nothing as a dash. */
export function shown(value: unknown): string {
  if (value === undefined) return '—';
  return typeof value === 'string' ? label('v', value) : String(value);
}
