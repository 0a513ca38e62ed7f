import type { Signals, SignalsData, SignalWindow } from './queries';

/**
 * How the charts get a time series. The API answers the current value of each window
 * (`goldenSignals(scope, window)`: a fold of the log at the time asked), not a history, so the page
 * samples it while it is open (every few seconds, and at once when an approval changes) and keeps
 * the last {@link MAX_SAMPLES} answers in memory. We chose this over a new history API because the
 * read model keeps only the buckets of its sliding windows: a history would be a new projection
 * (and a new contract) for a chart that only needs "how it moved while I watched"; the numbers
 * themselves stay the server's (a reload starts a new series, never different numbers).
 */
export const MAX_SAMPLES = 120;

/** One answer of the signals query and when it arrived (ms since the epoch, the browser's clock). */
export interface Sample {
  readonly at: number;
  readonly signals: SignalsData;
}

/** The series with `sample` added at the end, oldest dropped beyond `max`; a stale answer (older than the last) is ignored. */
export function appendSample(series: readonly Sample[], sample: Sample, max = MAX_SAMPLES): readonly Sample[] {
  const last = series.at(-1);
  if (last && sample.at < last.at) return series;
  const next = [...series, sample];
  return next.length > max ? next.slice(next.length - max) : next;
}

/** The field of `SignalsData` that holds a window. */
export function windowKey(window: SignalWindow): keyof SignalsData {
  switch (window) {
    case 'LAST_5M': return 'last5m';
    case 'LAST_1H': return 'last1h';
    case 'ALL': return 'all';
    default: {
      const unknown: never = window;
      throw new Error(`unknown window ${String(unknown)}`);
    }
  }
}

/** What one chart draws: a title, a unit for its axis, and its lines (a value per sample, null = nothing measured). */
export interface ChartSpec {
  readonly id: 'rates' | 'latency' | 'approvalWait';
  readonly title: string;
  readonly unit: '%' | 'ms';
  readonly lines: ReadonlyArray<{ readonly label: string; readonly color: string; readonly value: (s: Signals) => number | null }>;
}

const whenMeasured = (count: number, value: number): number | null => (count > 0 ? value : null);

/** The three charts of the screen. */
export const CHARTS: readonly ChartSpec[] = [
  {
    id: 'rates', title: 'Success and error rate', unit: '%',
    lines: [
      { label: 'success', color: '#12b76a', value: (s) => whenMeasured(s.calls, s.successRate * 100) },
      { label: 'error', color: '#d92d20', value: (s) => whenMeasured(s.calls, s.errorRate * 100) },
    ],
  },
  {
    id: 'latency', title: 'Tool call latency', unit: 'ms',
    lines: [
      { label: 'p50', color: '#2e90fa', value: (s) => whenMeasured(s.latencyMs.count, s.latencyMs.p50) },
      { label: 'p95', color: '#f79009', value: (s) => whenMeasured(s.latencyMs.count, s.latencyMs.p95) },
      { label: 'p99', color: '#d92d20', value: (s) => whenMeasured(s.latencyMs.count, s.latencyMs.p99) },
    ],
  },
  {
    id: 'approvalWait', title: 'Approval wait', unit: 'ms',
    lines: [
      { label: 'p50', color: '#2e90fa', value: (s) => whenMeasured(s.approvalWaitMs.count, s.approvalWaitMs.p50) },
      { label: 'p95', color: '#f79009', value: (s) => whenMeasured(s.approvalWaitMs.count, s.approvalWaitMs.p95) },
      { label: 'p99', color: '#d92d20', value: (s) => whenMeasured(s.approvalWaitMs.count, s.approvalWaitMs.p99) },
    ],
  },
];

/** uPlot's aligned data for one chart and window: x in seconds (uPlot's time unit), then one array per line. */
export function chartData(series: readonly Sample[], window: SignalWindow, chart: ChartSpec): [number[], ...Array<Array<number | null>>] {
  const key = windowKey(window);
  return [
    series.map((s) => s.at / 1_000),
    ...chart.lines.map((line) => series.map((s) => line.value(s.signals[key]))),
  ];
}

/** How many samples of a chart have at least one measured value (what "the chart is not empty" means). */
export function measuredPoints(data: ReturnType<typeof chartData>): number {
  const [xs, ...lines] = data;
  return xs.filter((_, i) => lines.some((l) => l[i] !== null && l[i] !== undefined)).length;
}
