import { describe, expect, it } from 'vitest';
import { allTimeText, budgetState, profileBars, runBars, scopeLabel } from './budget-bars';
import { formatMs, formatShare, formatThroughput } from './format';
import type { Budget, BudgetLine, Signals, SignalsData } from './queries';
import { parseSignalsSearch, scopeOptions, signalsSearch } from './scopes';
import { appendSample, CHARTS, chartData, measuredPoints, type Sample } from './series';

const pct = (count: number, p50 = 1, p95 = 2, p99 = 3) => ({ count, p50, p95, p99, max: p99 });
const signals = (calls: number, successRate: number, over: Partial<Signals> = {}): Signals => ({
  scope: 'overall', window: 'LAST_5M', calls, successRate, errorRate: calls ? 1 - successRate : 0, throughput: 0,
  errorsByMode: {}, latencyMs: pct(calls), approvalWaitMs: pct(0), ...over,
});
const data = (s: Signals): SignalsData => ({ last5m: s, last1h: { ...s, window: 'LAST_1H' }, all: { ...s, window: 'ALL' } });
const sample = (at: number, calls: number, successRate = 1): Sample => ({ at, signals: data(signals(calls, successRate)) });

describe('signal samples (the charts\' time series)', () => {
  it('keeps the last N samples, oldest dropped', () => {
    let series: readonly Sample[] = [];
    for (let i = 1; i <= 5; i++) series = appendSample(series, sample(i * 1000, i), 3);
    expect(series.map((s) => s.at)).toEqual([3000, 4000, 5000]);
  });

  it('ignores an answer older than the last one (a slow poll overtaken by a faster one)', () => {
    const series = appendSample([sample(2000, 2)], sample(1000, 1));
    expect(series.map((s) => s.at)).toEqual([2000]);
  });

  it('gives uPlot seconds on x and one line per percentile; nothing measured is a gap, not a zero', () => {
    const series = [sample(1000, 0), sample(2000, 4, 0.75)];
    const rates = CHARTS.find((c) => c.id === 'rates')!;
    expect(chartData(series, 'LAST_5M', rates)).toEqual([[1, 2], [null, 75], [null, 25]]);
    const wait = CHARTS.find((c) => c.id === 'approvalWait')!;
    expect(chartData(series, 'ALL', wait)).toEqual([[1, 2], [null, null], [null, null], [null, null]]);
    expect(measuredPoints(chartData(series, 'LAST_5M', rates))).toBe(1);
  });

  it('reads the window asked for', () => {
    const s: Sample = { at: 1000, signals: { last5m: signals(1, 1), last1h: signals(2, 0.5), all: signals(3, 0) } };
    const rates = CHARTS.find((c) => c.id === 'rates')!;
    expect(chartData([s], 'LAST_1H', rates)[1]).toEqual([50]);
    expect(chartData([s], 'ALL', rates)[1]).toEqual([0]);
  });
});

describe('formatting', () => {
  it('shares, durations and rates read as a person would say them', () => {
    expect(formatShare(0.5)).toBe('50.0 %');
    expect(formatShare(undefined)).toBe('—');
    expect([formatMs(0.911), formatMs(250.4), formatMs(1234), formatMs(65_000), formatMs(3_900_000)]).toEqual(['0.91 ms', '250 ms', '1.23 s', '1 min 5 s', '1 h 5 min']);
    expect(formatMs(null)).toBe('—');
    expect([formatThroughput(0), formatThroughput(0.05), formatThroughput(3)]).toEqual(['0/s', '3.0/min', '3.00/s']);
    // two calls in the last hour are not "0.0/min"
    expect([formatThroughput(2 / 3600), formatThroughput(1 / 60)]).toEqual(['2.0/h', '1.0/min']);
    expect(allTimeText({ allTime: 1, warnings: 1, exceeded: 0, blocked: 2 })).toBe('1 call over all time · 1 warning · 0 exceeded · 2 blocked');
  });
});

describe('the scope selector and the address', () => {
  it('lists overall, then tools, then profiles, as goldenSignals names them', () => {
    const options = scopeOptions({ tools: { edges: [{ node: { name: 'file.read' } }, { node: { name: 'db.execute' } }] }, profiles: { edges: [{ node: { name: 'smb' } }] } });
    expect(options.map((o) => o.value)).toEqual(['overall', 'tool:db.execute', 'tool:file.read', 'profile:smb']);
    expect(scopeOptions(undefined)).toEqual([{ value: 'overall', label: 'Overall' }]);
  });

  it('scope and window round-trip through ?scope=&window=, with defaults left out and junk refused', () => {
    expect(signalsSearch('overall', 'LAST_5M')).toBe('');
    expect(parseSignalsSearch(signalsSearch('tool:file.read', 'ALL'))).toEqual({ scope: 'tool:file.read', window: 'ALL' });
    expect(parseSignalsSearch('?window=DROP_TABLE')).toEqual({ scope: 'overall', window: 'LAST_5M' });
  });
});

const line = (scope: string, used: number, limit: number | null, over: Partial<BudgetLine> = {}): BudgetLine => ({
  scope, kind: scope.split(':')[0]!, key: scope.includes(':') ? scope.split(':')[1]! : null, used, limit,
  remaining: limit === null ? null : Math.max(0, limit - used), percent: limit === null ? null : Math.round((used / limit) * 1000) / 10,
  warnings: 0, exceeded: 0, blocked: 0, action: null, ...over,
});

describe('budget bars', () => {
  it('follow the engine\'s rule: a warning from 80 %, the limit, then over', () => {
    expect([budgetState(7, 10), budgetState(8, 10), budgetState(10, 10), budgetState(11, 10), budgetState(3, null)]).toEqual(['ok', 'warning', 'limit', 'over', 'unlimited']);
    expect(budgetState(2, 10, true)).toBe('over');
  });

  it('a run\'s bars: total first, numbers beside the fill, the fill clamped at 100', () => {
    const budget: Budget = { profile: 'smb', runId: 'r', runs: null, liveRuns: null, lines: [line('tool:file.read', 12, 10, { exceeded: 1 }), line('total', 8, 10), line('domain:files', 3, null)] };
    const bars = runBars(budget);
    expect(bars.map((b) => b.scope)).toEqual(['total', 'domain:files', 'tool:file.read']);
    expect(bars[0]).toMatchObject({ label: 'Total calls', state: 'warning', fill: 80, text: '8 of 10 calls (80 %)', stateText: 'warning: 80 % reached' });
    expect(bars[1]).toMatchObject({ state: 'unlimited', fill: 0, text: '3 calls, no limit' });
    expect(bars[2]).toMatchObject({ state: 'over', fill: 100, percent: 120, label: 'Tool file.read' });
  });

  it('a profile\'s bar is its live runs\' use against their limits; all-time calls and counters beside it', () => {
    // 40 calls over all time; two live runs with 100 calls each have used 170 of 200
    const budget: Budget = { profile: 'enterprise', runId: null, runs: 5, liveRuns: 2, lines: [
      { ...line('total', 40, 200), remaining: 30, percent: 85, warnings: 3, exceeded: 1, blocked: 2 },
      line('tool:file.read', 9, null),
    ] };
    const [total, tool] = profileBars(budget);
    expect(total).toMatchObject({ used: 170, limit: 200, state: 'warning', text: '170 of 200 calls by live runs (85 %)', allTime: 40, warnings: 3, exceeded: 1, blocked: 2 });
    expect(tool).toMatchObject({ state: 'unlimited', text: 'no limit on the live runs', allTime: 9 });
    const [idle] = profileBars({ ...budget, liveRuns: 0, lines: [line('total', 40, null)] });
    expect(idle).toMatchObject({ state: 'unlimited', fill: 0, text: 'no live run', allTime: 40 });
    expect(scopeLabel('domain:deploys')).toBe('Domain deploys');
  });
});

describe('a profile\'s per-run limits in words', () => {
  it('names every limit and what happens past it', async () => {
    const { limitsText } = await import('./BudgetView');
    expect(limitsText({ totalCalls: 100, perDomain: { deploys: 5 }, perTool: { 'db.execute': 2 }, onExceed: 'block' })).toBe('Per run: 100 calls in total, 5 in domain deploys, 2 of tool db.execute; over the limit: block.');
    expect(limitsText({})).toBe('Per run: no limit.');
  });
});
