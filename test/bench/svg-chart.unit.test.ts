import { Window } from 'happy-dom';
import { describe, expect, it } from 'vitest';
import { lineChart, niceStep } from '../../bench/support/svg-chart.js';

/** Parses as XML (not HTML): an unescaped `&` or an unclosed tag gives a <parsererror>. */
function parseSvg(text: string) {
  const doc = new new Window().DOMParser().parseFromString(text, 'image/svg+xml');
  return doc;
}

const spec = {
  title: 'approve round trip <with> "open" approvals & more',
  xLabel: 'open approvals',
  yLabel: 'ms (p50 & p99)',
  categories: ['0', '100', '1,000'],
  series: [
    { name: 'p50', values: [1.2, 1.4, 2.9] },
    { name: 'p99 <tail>', values: [4, 5.5, 12] },
  ],
  target: { value: 10, label: 'target ≤ 10 ms' },
};

describe('lineChart (bench/support/svg-chart.ts)', () => {
  it('is well-formed XML whose root is an svg element, even with markup characters in the labels', () => {
    const doc = parseSvg(lineChart(spec));
    expect(doc.getElementsByTagName('parsererror').length).toBe(0);
    expect(doc.documentElement.nodeName.toLowerCase()).toBe('svg');
    expect(doc.documentElement.getAttribute('xmlns')).toBe('http://www.w3.org/2000/svg');
  });

  it('labels both axes and every category', () => {
    const doc = parseSvg(lineChart(spec));
    const text = (selector: string) => [...doc.querySelectorAll(selector)].map((e) => e.textContent);
    expect(text('.axis-label.x')).toEqual(['open approvals']);
    expect(text('.axis-label.y')).toEqual(['ms (p50 & p99)']);
    expect(text('.x-tick')).toEqual(['0', '100', '1,000']);
    expect(doc.querySelectorAll('.y-tick').length).toBeGreaterThanOrEqual(2);
  });

  it('draws one point per measurement, carrying its value', () => {
    const doc = parseSvg(lineChart(spec));
    const points = [...doc.querySelectorAll('circle.point')];
    expect(points.length).toBe(6);
    expect(points.map((p) => [p.getAttribute('data-series'), p.getAttribute('data-x'), Number(p.getAttribute('data-y'))])).toEqual([
      ['p50', '0', 1.2], ['p50', '100', 1.4], ['p50', '1,000', 2.9],
      ['p99 <tail>', '0', 4], ['p99 <tail>', '100', 5.5], ['p99 <tail>', '1,000', 12],
    ]);
  });

  it('puts a larger value higher on the page, and the target line where its value is', () => {
    const doc = parseSvg(lineChart({ ...spec, series: [{ name: 'p50', values: [1, 5, 10] }] }));
    const cy = [...doc.querySelectorAll('circle.point')].map((p) => Number(p.getAttribute('cy')));
    expect(cy[0]).toBeGreaterThan(cy[1] as number);
    expect(cy[1]).toBeGreaterThan(cy[2] as number);
    expect(Number(doc.querySelector('line.target')?.getAttribute('y1'))).toBeCloseTo(cy[2] as number, 0);
  });

  it('leaves out a measurement that is missing (NaN) and refuses a series of the wrong length', () => {
    const doc = parseSvg(lineChart({ ...spec, series: [{ name: 'p50', values: [1, Number.NaN, 3] }] }));
    expect(doc.querySelectorAll('circle.point').length).toBe(2);
    expect(() => lineChart({ ...spec, series: [{ name: 'p50', values: [1, 2] }] })).toThrow('series "p50" has 2 values for 3 categories');
  });

  it('chooses round tick steps', () => {
    expect([niceStep(0), niceStep(4.2), niceStep(9), niceStep(23), niceStep(480)]).toEqual([1, 1, 2, 5, 100]);
  });
});
