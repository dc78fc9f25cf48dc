/**
 * Small SVG charts for the console's analytics panel (no chart library: a line and a bar chart are
 * all it needs). Labels are set as text nodes, never as markup.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';
const W = 480;
const H = 160;
const PAD = { left: 40, right: 8, top: 8, bottom: 28 };

function el(name: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function frame(svg: SVGSVGElement, max: number): void {
  svg.replaceChildren(
    el('line', { class: 'axis', x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom }),
    el('line', { class: 'axis', x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom }),
    el('text', { x: PAD.left - 4, y: PAD.top + 8, 'text-anchor': 'end' }, formatNumber(max)),
    el('text', { x: PAD.left - 4, y: H - PAD.bottom, 'text-anchor': 'end' }, '0'),
  );
}

function empty(svg: SVGSVGElement): void {
  frame(svg, 0);
  svg.append(el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no data yet'));
}

/** A time series as a line, x by time; the first and last times label the axis. */
export function lineChart(svg: SVGSVGElement, points: readonly { at: number; value: number }[]): void {
  if (points.length === 0) {
    empty(svg);
    return;
  }
  const max = Math.max(1, ...points.map((p) => p.value));
  const t0 = (points[0] as { at: number }).at;
  const t1 = Math.max(t0 + 1, (points[points.length - 1] as { at: number }).at);
  const x = (at: number) => PAD.left + ((at - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);
  frame(svg, max);
  const d = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.at).toFixed(1)},${y(p.value).toFixed(1)}`).join('');
  svg.append(
    el('path', { class: 'series', d }),
    el('text', { x: PAD.left, y: H - 8 }, clock(t0)),
    el('text', { x: W - PAD.right, y: H - 8, 'text-anchor': 'end' }, clock(t1)),
  );
}

/** Labelled bars, at most `limit` of them in the given order. */
export function barChart(
  svg: SVGSVGElement,
  bars: readonly { label: string; value: number }[],
  options: { limit?: number; className?: string } = {},
): void {
  const shown = bars.slice(0, options.limit ?? 8);
  if (shown.length === 0) {
    empty(svg);
    return;
  }
  const max = Math.max(1, ...shown.map((b) => b.value));
  const slot = (W - PAD.left - PAD.right) / shown.length;
  frame(svg, max);
  shown.forEach((b, i) => {
    const h = (b.value / max) * (H - PAD.top - PAD.bottom);
    const x = PAD.left + i * slot + slot * 0.15;
    svg.append(
      el('rect', {
        class: `bar ${options.className ?? ''}`.trim(),
        x,
        y: H - PAD.bottom - h,
        width: slot * 0.7,
        height: h,
      }),
      el('text', { x: x + slot * 0.35, y: H - 16, 'text-anchor': 'middle' }, b.label.slice(0, 14)),
      el(
        'text',
        { x: x + slot * 0.35, y: H - PAD.bottom - h - 2, 'text-anchor': 'middle' },
        formatNumber(b.value),
      ),
    );
  });
}

function clock(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function formatNumber(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
