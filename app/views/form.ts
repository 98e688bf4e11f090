import type { FieldSchema } from 'sawa:rules';
import { h } from '../dom.js';
import { label, t } from '../i18n.js';
import { check, fieldsOf, type Field, type Problems, type UserCtx } from '../rules.js';
import type { Doc } from '../data.js';

/**
 * A form built from a sync rule: one control per field of the rule's schema, checked on submit
 * by the generated validate_doc_update. A refusal's reasons are shown beside their fields and
 * nothing is saved, so the phone refuses exactly what the server would.
 */

export interface RuleFormOptions {
  type: string;
  /** Fields the screen fills in itself (e.g. farmer_id), or leaves out (location). */
  skip?: string[];
  /** The stored document when editing; null when creating. */
  old: Doc | null;
  /** Values to show in the controls at first. */
  initial: Record<string, unknown>;
  /** The document to check and save, from the form's values. */
  build(values: Record<string, unknown>): Doc;
  user: UserCtx;
  submitLabel: string;
  onSave(doc: Doc): Promise<void>;
  onCancel(): void;
}

export function ruleForm(opts: RuleFormOptions): HTMLFormElement {
  const fields = fieldsOf(opts.type).filter((f) => !opts.skip?.includes(f.name));
  const summary = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const controls = new Map<string, HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>();
  const errors = new Map<string, HTMLElement>();

  const rows = fields.map((field) => {
    const id = `f-${field.name}`;
    const control = controlFor(field, id, opts.initial[field.name]);
    const error = h('span', { class: 'field-error', id: `${id}-error` });
    controls.set(field.name, control);
    errors.set(field.name, error);
    return h(
      'div',
      { class: 'field' },
      h(
        'label',
        { for: id },
        label('f', field.name),
        field.required ? '' : h('small', {}, ' ', t('optional')),
      ),
      control,
      error,
    );
  });

  const values = () => {
    const out: Record<string, unknown> = {};
    for (const field of fields) {
      const value = read(field, controls.get(field.name)!);
      if (value !== undefined) out[field.name] = value;
    }
    return out;
  };

  const show = (problems: Problems) => {
    let first: HTMLElement | null = null;
    for (const field of fields) {
      const control = controls.get(field.name)!;
      const message = problems[field.name] ?? '';
      errors.get(field.name)!.textContent = message;
      if (message) {
        control.setAttribute('aria-invalid', 'true');
        control.setAttribute('aria-describedby', `f-${field.name}-error`);
        first ??= control;
      } else {
        control.removeAttribute('aria-invalid');
        control.removeAttribute('aria-describedby');
      }
    }
    // Problems not tied to a field the form shows (owner, type…) go in the summary.
    const other = Object.entries(problems)
      .filter(([name]) => !controls.has(name))
      .map(([name, text]) => (name ? `${label('f', name)}: ${text}` : text));
    const any = Object.keys(problems).length > 0;
    summary.hidden = !any;
    summary.textContent = any ? [t('fix_fields'), ...other].join('. ') : '';
    first?.focus();
    return !any;
  };

  const submit = h('button', { type: 'submit', class: 'primary' }, opts.submitLabel);
  const form = h(
    'form',
    {
      class: 'card form',
      novalidate: true,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const doc = opts.build(values());
        if (!show(check(doc, opts.old, opts.user))) return;
        submit.disabled = true;
        try {
          await opts.onSave(doc);
        } finally {
          submit.disabled = false;
        }
      },
    },
    summary,
    rows,
    h(
      'div',
      { class: 'actions' },
      submit,
      h('button', { type: 'button', onclick: () => opts.onCancel() }, t('cancel')),
    ),
  );
  return form;
}

function controlFor(field: Field, id: string, value: unknown) {
  const s: FieldSchema = field.schema;
  const common = { id, name: field.name, required: field.required };
  if (s.enum) {
    return h(
      'select',
      common,
      h('option', { value: '' }, t('choose')),
      s.enum.map((v) => h('option', { value: v, selected: v === value }, label('v', v))),
    );
  }
  if (s.type === 'string' && (s.maxLength ?? 0) > 500) {
    return h('textarea', { ...common, rows: 3 }, value === undefined ? '' : String(value));
  }
  const numeric = s.type === 'number' || s.type === 'integer';
  const tel = s.pattern?.startsWith('^\\+');
  const date = s.format === 'date-time';
  return h('input', {
    ...common,
    type: numeric ? 'number' : tel ? 'tel' : date ? 'datetime-local' : 'text',
    inputmode: numeric ? (s.type === 'integer' ? 'numeric' : 'decimal') : undefined,
    step: s.type === 'number' ? 'any' : undefined,
    placeholder: tel ? '+255712345678' : undefined,
    autocomplete: 'off',
    value: date && typeof value === 'string' ? toLocalInput(value) : value,
  });
}

/** The control's value as the schema wants it; undefined for an empty optional field. */
function read(
  field: Field,
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
): unknown {
  const raw = control.value.trim();
  if (raw === '') return undefined;
  const type = field.schema.type;
  // A number the schema refuses is passed as typed, so the rule's own message explains it.
  if (type === 'number' || type === 'integer')
    return Number.isFinite(Number(raw)) ? Number(raw) : raw;
  if (field.schema.format === 'date-time') return fromLocalInput(raw);
  return raw;
}

/** "2024-05-01T09:30" (the phone's local time) → "2024-05-01T09:30:00+03:00". */
export function fromLocalInput(local: string): string {
  const date = new Date(local);
  if (Number.isNaN(date.getTime())) return local;
  return isoWithOffset(date);
}

export function isoWithOffset(date: Date): string {
  const pad = (n: number) => String(Math.abs(n)).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`
  );
}

function toLocalInput(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return isoWithOffset(date).slice(0, 16);
}
