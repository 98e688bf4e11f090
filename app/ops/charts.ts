/**
 * Bar charts as inline SVG, no library: one bar per week, stacked by series (districts), with
 * a legend, a y scale and each bar's figure in its tooltip. Bars carry `data-week`,
 * `data-series` and `data-value`, so a test (or a person with the inspector) can read them.
 */
export interface Series {
  name: string;
  /** One value per label. */
  values: number[];
}

const NS = 'http://www.w3.org/2000/svg';
// Okabe–Ito: told apart by most colour-blind readers.
const COLOURS = [
  '#0072b2',
  '#e69f00',
  '#009e73',
  '#cc79a7',
  '#56b4e9',
  '#d55e00',
  '#f0e442',
  '#000000',
];
const W = 640;
const H = 220;
const M = { top: 12, right: 12, bottom: 28, left: 44 };

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  ...children: Array<Node | string>
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}

/** A round top for the scale: 1, 2 or 5 times a power of ten, at least `max`. */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= max)!;
}

export function barChart(opts: {
  title: string;
  labels: string[];
  /** The labels as shown under the bars (defaults to the labels). */
  shown?: string[];
  series: Series[];
  format?: (n: number) => string;
}): SVGSVGElement {
  const { labels, series } = opts;
  const format = opts.format ?? String;
  const totals = labels.map((_, i) => series.reduce((n, s) => n + (s.values[i] ?? 0), 0));
  const top = niceMax(Math.max(0, ...totals));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const step = plotW / Math.max(1, labels.length);
  const barW = Math.max(2, step * 0.7);
  const y = (v: number) => M.top + plotH - (v / top) * plotH;
  const chart = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    'aria-label': opts.title,
    class: 'chart',
  });
  chart.append(svg('title', {}, opts.title));
  // Counts: no half steps on the scale.
  for (const v of [0, top / 2, top].filter((v) => Number.isInteger(v))) {
    chart.append(
      svg('line', { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v), class: 'grid' }),
      svg('text', { x: M.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, format(v)),
    );
  }
  labels.forEach((label, i) => {
    const x = M.left + i * step + (step - barW) / 2;
    let base = 0;
    series.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      if (v <= 0) return;
      const rect = svg('rect', {
        x,
        y: y(base + v),
        width: barW,
        height: y(base) - y(base + v),
        fill: COLOURS[k % COLOURS.length]!,
        'data-week': label,
        'data-series': s.name,
        'data-value': v,
      });
      rect.append(svg('title', {}, `${s.name}, ${opts.shown?.[i] ?? label}: ${format(v)}`));
      chart.append(rect);
      base += v;
    });
    chart.append(
      svg(
        'text',
        { x: x + barW / 2, y: H - M.bottom + 16, 'text-anchor': 'middle', class: 'tick' },
        opts.shown?.[i] ?? label,
      ),
    );
  });
  return chart;
}

/** The legend: a swatch and a name per series, in the chart's colours. */
export function legend(series: Series[]): HTMLElement {
  const list = document.createElement('ul');
  list.className = 'legend';
  series.forEach((s, k) => {
    const item = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = COLOURS[k % COLOURS.length]!;
    item.append(swatch, s.name);
    list.append(item);
  });
  return list;
}
