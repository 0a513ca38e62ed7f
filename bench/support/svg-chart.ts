/**
 * A small line chart as standalone SVG text, for docs/performance.md: categorical x (the curve's
 * inputs, evenly spaced, so 0 / 100 / 1,000 and 5 / 50 / 500 read alike), linear y from 0, one
 * circle per measurement, an optional dashed target line. Hand-written on purpose: a chart
 * library for three points per series is more code to trust than this.
 */

/** One line of the chart: a value per category, in the categories' order (NaN leaves a gap). */
export interface ChartSeries {
  readonly name: string;
  readonly values: readonly number[];
}

/** What a chart shows; `target` draws a dashed horizontal line at that y. */
export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly categories: readonly string[];
  readonly series: readonly ChartSeries[];
  readonly target?: { readonly value: number; readonly label: string };
}

const W = 560;
const H = 320;
const PAD = { left: 64, right: 120, top: 36, bottom: 52 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

/** Escapes text for XML character data and attribute values. */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/** A round step for about five y ticks (1, 2 or 5 times a power of ten). */
export function niceStep(max: number): number {
  if (!(max > 0)) return 1;
  const raw = max / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumSignificantDigits: 3 });
}

/** Renders the chart as a complete SVG document. */
export function lineChart(spec: ChartSpec): string {
  const n = spec.categories.length;
  for (const s of spec.series) {
    if (s.values.length !== n) throw new Error(`series "${s.name}" has ${s.values.length} values for ${n} categories`);
  }
  const finite = spec.series.flatMap((s) => s.values.filter(Number.isFinite));
  const top = Math.max(...finite, spec.target?.value ?? 0, 0);
  const step = niceStep(top * 1.05);
  const yMax = Math.max(step, Math.ceil((top * 1.05) / step) * step);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (n === 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const y = (v: number) => PAD.top + plotH - (v / yMax) * plotH;
  const r = (v: number) => Math.round(v * 10) / 10;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<title>${xmlEscape(spec.title)}</title>`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${xmlEscape(spec.title)}</text>`);
  // Grid and y ticks.
  for (let v = 0; v <= yMax + step / 2; v += step) {
    out.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${r(y(v))}" y2="${r(y(v))}" stroke="#e5e5e5"/>`);
    out.push(`<text class="y-tick" x="${PAD.left - 6}" y="${r(y(v)) + 4}" text-anchor="end">${xmlEscape(fmt(v))}</text>`);
  }
  // Axes.
  out.push(`<line class="axis x" x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" stroke="#333"/>`);
  out.push(`<line class="axis y" x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#333"/>`);
  spec.categories.forEach((c, i) => {
    out.push(`<text class="x-tick" x="${r(x(i))}" y="${PAD.top + plotH + 16}" text-anchor="middle">${xmlEscape(c)}</text>`);
  });
  out.push(`<text class="axis-label x" x="${PAD.left + plotW / 2}" y="${H - 12}" text-anchor="middle">${xmlEscape(spec.xLabel)}</text>`);
  out.push(`<text class="axis-label y" transform="translate(16 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle">${xmlEscape(spec.yLabel)}</text>`);
  if (spec.target) {
    const ty = r(y(spec.target.value));
    out.push(`<line class="target" x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${ty}" y2="${ty}" stroke="#888" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${PAD.left + plotW + 6}" y="${ty + 4}" fill="#555">${xmlEscape(spec.target.label)}</text>`);
  }
  spec.series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length] as string;
    const pts = s.values.map((v, i) => [x(i), v] as const).filter(([, v]) => Number.isFinite(v));
    if (pts.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([px, v]) => `${r(px)},${r(y(v))}`).join(' ')}"/>`);
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v)) return;
      out.push(`<circle class="point" data-series="${xmlEscape(s.name)}" data-x="${xmlEscape(spec.categories[i] as string)}" data-y="${v}" cx="${r(x(i))}" cy="${r(y(v))}" r="4" fill="${color}"><title>${xmlEscape(`${s.name} at ${spec.categories[i]}: ${fmt(v)}`)}</title></circle>`);
    });
    out.push(`<text class="legend" x="${PAD.left + plotW + 6}" y="${PAD.top + 14 + k * 16}" fill="${color}">${xmlEscape(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
