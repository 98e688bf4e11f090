/** The few DOM helpers the operations page is built with. */

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

export const when = (t: string | null) => (t ? new Date(t).toLocaleString() : 'never');

export function card(label: string, value: number, warn = false): HTMLElement {
  return el(
    'div',
    { class: warn && value > 0 ? 'card warn' : 'card' },
    el('strong', {}, String(value)),
    label,
  );
}
