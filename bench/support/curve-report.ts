/**
 * docs/performance.md and its charts from measured cost curves: per curve a table (input, samples,
 * median, p99, ratio to the first input), the target and whether it was met, where the curve bends
 * most, the notes that explain it, and an SVG chart (bench/support/svg-chart.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CurvePoint } from './curve-engine.js';
import { lineChart } from './svg-chart.js';

/** A measured curve with what it is checked against. */
export interface Curve {
  /** File name of its chart (docs/performance/<key>.svg). */
  readonly key: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** How it was measured: inputs, sample counts, what the clock starts and stops on. */
  readonly method: string;
  readonly points: readonly CurvePoint[];
  /** The target in words, and the check of it on the points. */
  readonly target: string;
  readonly met: (points: readonly CurvePoint[]) => boolean;
  /** A dashed line on the chart, when the target is an absolute value. */
  readonly targetLine?: { readonly value: number; readonly label: string };
  /** Where the curve bends and why (written from the profile, see bench/support/curve-notes.ts). */
  readonly notes: string;
}

const num = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 3 }));

/** The largest p50 step between neighbouring inputs, in words. */
export function bend(points: readonly CurvePoint[]): string {
  let worst: { from: CurvePoint; to: CurvePoint; ratio: number } | undefined;
  for (let i = 1; i < points.length; i++) {
    const from = points[i - 1] as CurvePoint;
    const to = points[i] as CurvePoint;
    const ratio = to.p50 / from.p50;
    if (!worst || ratio > worst.ratio) worst = { from, to, ratio };
  }
  if (!worst) return 'one input only: no curve';
  return `the median grows most from ${worst.from.input} to ${worst.to.input}: ×${num(Math.round(worst.ratio * 100) / 100)} (p99 ×${num(Math.round((worst.to.p99 / worst.from.p99) * 100) / 100)})`;
}

/** The markdown table of one curve. */
export function curveTable(points: readonly CurvePoint[]): string {
  const extras = [...new Set(points.flatMap((p) => Object.keys(p.extra ?? {})))];
  const first = points[0];
  const head = ['input', 'samples', 'p50 ms', 'p99 ms', 'p50 / first', ...extras];
  const rows = points.map((p) => [p.input, num(p.n), num(p.p50), num(p.p99), first ? `${(p.p50 / first.p50).toFixed(2)}×` : '', ...extras.map((e) => { const v = p.extra?.[e]; return v === undefined ? '' : typeof v === 'number' ? num(v) : v; })]);
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Writes `<docsDir>/performance.md` and one `<docsDir>/performance/<key>.svg` per curve; returns the markdown. */
export function writeReport(docsDir: string, header: string, curves: readonly Curve[]): string {
  mkdirSync(join(docsDir, 'performance'), { recursive: true });
  const parts = [header];
  for (const c of curves) {
    writeFileSync(join(docsDir, 'performance', `${c.key}.svg`), lineChart({
      title: c.title, xLabel: c.xLabel, yLabel: c.yLabel,
      categories: c.points.map((p) => p.input.replace(/ \w+$/, '')),
      series: [{ name: 'p50', values: c.points.map((p) => p.p50) }, { name: 'p99', values: c.points.map((p) => p.p99) }],
      ...(c.targetLine ? { target: c.targetLine } : {}),
    }));
    const met = c.points.length > 0 && c.met(c.points);
    parts.push([
      `## ${c.title}`,
      c.method,
      curveTable(c.points),
      `**Target:** ${c.target} — **${met ? 'met' : 'missed'}** in this run.`,
      `**Bend:** ${bend(c.points)}.`,
      c.notes,
      `![${c.title}](performance/${c.key}.svg)`,
    ].join('\n\n'));
  }
  const markdown = `${parts.join('\n\n')}\n`;
  writeFileSync(join(docsDir, 'performance.md'), markdown);
  return markdown;
}
