import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** What a chart needs to be drawn; the factory is a seam for the lifecycle test (uPlot needs a canvas). */
export type ChartFactory = (options: uPlot.Options, data: uPlot.AlignedData, target: HTMLElement) => Pick<uPlot, 'setData' | 'setSize' | 'destroy'>;

const createUPlot: ChartFactory = (options, data, target) => new uPlot(options, data, target);

/**
 * uPlot draws into a DOM element it owns, outside React: the chart is made once per `options`
 * (a new scope or unit makes a new chart), fed with `setData` when only the data changes (cheap,
 * no flicker), resized with its container, and destroyed on unmount so no listener or canvas leaks.
 */
export function UPlotChart(props: { options: Omit<uPlot.Options, 'width' | 'height'>; data: uPlot.AlignedData; height?: number; label: string; factory?: ChartFactory }) {
  const { options, data, height = 200, label, factory = createUPlot } = props;
  const target = useRef<HTMLDivElement>(null);
  const chart = useRef<ReturnType<ChartFactory> | null>(null);
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    const element = target.current;
    if (!element) return;
    const width = Math.max(200, element.clientWidth || 600);
    const made = factory({ ...options, width, height }, latest.current, element);
    chart.current = made;
    const resize = typeof ResizeObserver === 'undefined' ? undefined : new ResizeObserver(() => {
      if (element.clientWidth > 0) made.setSize({ width: element.clientWidth, height });
    });
    resize?.observe(element);
    return () => {
      resize?.disconnect();
      made.destroy();
      chart.current = null;
    };
  }, [options, height, factory]);

  useEffect(() => {
    chart.current?.setData(data);
  }, [data]);

  return <div ref={target} className="uplot-chart" role="img" aria-label={label} />;
}
