import { useMemo } from 'react';
import type uPlot from 'uplot';
import { formatClock, formatMs, formatShare, formatThroughput } from './format';
import type { Signals, SignalsData, SignalWindow } from './queries';
import { WINDOWS } from './scopes';
import { CHARTS, type ChartSpec, chartData, measuredPoints, type Sample, windowKey } from './series';
import { UPlotChart } from './UPlotChart';

const optionsCache = new Map<ChartSpec['id'], Omit<uPlot.Options, 'width' | 'height'>>();

/** One uPlot configuration per chart, made once (a new object would make a new chart each render). */
function chartOptions(spec: ChartSpec): Omit<uPlot.Options, 'width' | 'height'> {
  const cached = optionsCache.get(spec.id);
  if (cached) return cached;
  const show = (v: number | null | undefined) => (v === null || v === undefined ? '—' : spec.unit === '%' ? `${v.toFixed(1)} %` : formatMs(v));
  const options: Omit<uPlot.Options, 'width' | 'height'> = {
    scales: { x: { time: true }, y: spec.unit === '%' ? { range: [0, 100] } : { range: (_u, min, max) => [0, Math.max(1, max ?? min ?? 1) * 1.1] } },
    series: [{}, ...spec.lines.map((l) => ({ label: l.label, stroke: l.color, width: 2, value: (_u: uPlot, v: number | null) => show(v) }))],
    axes: [{}, { size: 70, values: (_u, values) => values.map((v) => show(v)) }],
    cursor: { drag: { x: false, y: false } },
  };
  optionsCache.set(spec.id, options);
  return options;
}

/** The current value of each window, one row per window (read by screen readers when it changes). */
export function SignalsTable(props: { latest: SignalsData }) {
  return (
    <table className="signals-table" aria-label="Golden signals per window">
      <thead>
        <tr>
          <th scope="col">Window</th><th scope="col">Calls</th><th scope="col">Success</th><th scope="col">Errors</th>
          <th scope="col">Latency p50 / p95 / p99</th><th scope="col">Approval wait p50 / p95 / p99</th><th scope="col">Throughput</th>
        </tr>
      </thead>
      <tbody aria-live="polite">
        {WINDOWS.map((w) => {
          const s: Signals = props.latest[windowKey(w.value)];
          return (
            <tr key={w.value} data-testid={`signals-${w.value}`}>
              <th scope="row">{w.label}</th>
              <td data-testid={`calls-${w.value}`}>{s.calls}</td>
              <td>{s.calls ? formatShare(s.successRate) : '—'}</td>
              <td>{s.calls ? formatShare(s.errorRate) : '—'}</td>
              <td>{percentiles(s.latencyMs)}</td>
              <td>{percentiles(s.approvalWaitMs)}</td>
              <td>{formatThroughput(s.throughput)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function percentiles(p: Signals['latencyMs']): string {
  if (p.count === 0) return '—';
  return `${formatMs(p.p50)} / ${formatMs(p.p95)} / ${formatMs(p.p99)}`;
}

/** The three charts of one window over the samples taken since the page opened. */
export function SignalCharts(props: { series: readonly Sample[]; window: SignalWindow }) {
  const label = WINDOWS.find((w) => w.value === props.window)?.label ?? props.window;
  return (
    <div className="signals-charts">
      {CHARTS.map((spec) => <SignalChart key={spec.id} spec={spec} series={props.series} window={props.window} windowLabel={label} />)}
    </div>
  );
}

function SignalChart(props: { spec: ChartSpec; series: readonly Sample[]; window: SignalWindow; windowLabel: string }) {
  const { spec, series, window } = props;
  const data = useMemo(() => chartData(series, window, spec), [series, window, spec]);
  const points = measuredPoints(data);
  const title = `${spec.title} (${props.windowLabel.toLowerCase()})`;
  return (
    <figure className="signal-chart" data-testid={`chart-${spec.id}`} data-points={points}>
      <figcaption>{title}</figcaption>
      <UPlotChart options={chartOptions(spec)} data={data as uPlot.AlignedData} label={`${title}: ${points} samples`} />
      {points === 0 && <p className="notice">Nothing measured in this window yet.</p>}
    </figure>
  );
}

/** Errors by failure mode in the chosen window. */
export function ErrorsByMode(props: { signals: Signals }) {
  const modes = Object.entries(props.signals.errorsByMode).sort((a, b) => b[1].count - a[1].count);
  if (modes.length === 0) return <p className="notice">No failed calls in this window.</p>;
  return (
    <ul className="errors-by-mode">
      {modes.map(([mode, m]) => <li key={mode}><span className="badge">{mode}</span> {m.count} ({formatShare(m.rate)})</li>)}
    </ul>
  );
}

/** "Sampled every 3 s; last at 12:00:03". */
export function SampleNote(props: { series: readonly Sample[]; everyMs: number }) {
  const last = props.series.at(-1);
  return <p className="notice">Sampled every {props.everyMs / 1_000} s while this page is open ({props.series.length} samples){last ? `; last at ${formatClock(last.at)}` : ''}.</p>;
}
