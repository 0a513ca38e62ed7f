import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** The histograms' fixed shape: 1 .. 3.6e9 at 2 significant digits (1 % resolution), 32-bit counts. */
const HIGHEST = 3_600_000_000;

/** A fixed-range HDR histogram: never resizes, so a decoded one encodes to the same text. */
export function newHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST,
    numberOfSignificantValueDigits: 2,
    useWebAssembly: false,
  });
}

/** Records a value, clamped into the histogram's range. */
export function recordClamped(histogram: Histogram, value: number): void {
  histogram.recordValue(Math.min(HIGHEST, Math.max(1, Math.round(value))));
}

export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(text: string): Histogram {
  return hdr.decodeFromCompressedBase64(text, 32, false);
}

/** p50/p95/p99 and max of the histograms merged, each value divided by `scale`. */
export function percentiles(histograms: readonly Histogram[], scale = 1): { count: number; p50: number; p95: number; p99: number; max: number } {
  const present = histograms.filter((h) => h.totalCount > 0);
  if (present.length === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  let merged = present[0] as Histogram;
  if (present.length > 1) {
    merged = newHistogram();
    for (const h of present) merged.add(h);
  }
  const at = (p: number) => merged.getValueAtPercentile(p) / scale;
  return { count: merged.totalCount, p50: at(50), p95: at(95), p99: at(99), max: merged.maxValue / scale };
}
