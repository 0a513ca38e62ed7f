import { act, cleanup, render } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type uPlot from 'uplot';
import { type ChartFactory, UPlotChart } from './UPlotChart';

afterEach(cleanup);

/** Records what the wrapper asks of uPlot (happy-dom has no canvas to draw on; Chromium draws it in test/browser/signals). */
function recorder() {
  const calls: string[] = [];
  const factory: ChartFactory = (options, data, target) => {
    calls.push(`create ${options.width}x${options.height} points=${data[0].length} in=${target.className}`);
    return {
      setData: (d: uPlot.AlignedData) => void calls.push(`setData points=${d[0].length}`),
      setSize: (s: { width: number; height: number }) => void calls.push(`setSize ${s.width}x${s.height}`),
      destroy: () => void calls.push('destroy'),
    } as never;
  };
  return { calls, factory };
}

const options = { series: [{}, { label: 'p50' }] } as Omit<uPlot.Options, 'width' | 'height'>;

describe('UPlotChart', () => {
  it('creates one chart, feeds new data with setData (no new chart), and destroys it on unmount', () => {
    const { calls, factory } = recorder();
    const view = render(<UPlotChart options={options} data={[[1], [2]]} label="Latency" factory={factory} height={120} />);
    expect(view.getByRole('img', { name: 'Latency' })).toBeTruthy();
    view.rerender(<UPlotChart options={options} data={[[1, 2], [2, 3]]} label="Latency" factory={factory} height={120} />);
    view.unmount();
    expect(calls.filter((c) => !c.startsWith('setData points=1'))).toEqual(['create 600x120 points=1 in=uplot-chart', 'setData points=2', 'destroy']);
  });

  it('new options make a new chart and destroy the old one', () => {
    const { calls, factory } = recorder();
    const view = render(<UPlotChart options={options} data={[[1], [2]]} label="Rates" factory={factory} />);
    act(() => view.rerender(<UPlotChart options={{ ...options }} data={[[1], [2]]} label="Rates" factory={factory} />));
    expect(calls.filter((c) => c.startsWith('create') || c === 'destroy')).toEqual(['create 600x200 points=1 in=uplot-chart', 'destroy', 'create 600x200 points=1 in=uplot-chart']);
    view.unmount();
    expect(calls.at(-1)).toBe('destroy');
  });
});
