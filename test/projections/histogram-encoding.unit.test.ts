import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { decodeHistogram, encodeHistogram, newHistogram, recordClamped } from '../../src/projections/read-models/histogram.js';

// The golden signals store histograms as hdr-histogram-js's compressed V2 text. Our encoder must
// write the very same text as the library's (stored documents and rebuilds compare byte for byte).

/** A small deterministic generator, so a failure names a reproducible case. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

const cases: Array<[string, () => hdr.Histogram]> = [
  ['empty', () => newHistogram()],
  ['one value', () => { const h = newHistogram(); recordClamped(h, 1); return h; }],
  ['the highest value', () => { const h = newHistogram(); recordClamped(h, 3_600_000_000); return h; }],
  ['latencies in microseconds', () => {
    const h = newHistogram();
    const r = prng(7);
    for (let i = 0; i < 5_000; i++) recordClamped(h, Math.exp(r() * 16));
    return h;
  }],
  ['large counts (multi-byte LEB128) and long zero runs', () => {
    const h = newHistogram();
    h.recordValueWithCount(5, 4_000_000_000);
    h.recordValueWithCount(70_000, 300_000);
    h.recordValueWithCount(2_000_000_000, 129);
    return h;
  }],
];

describe('encodeHistogram', () => {
  it.each(cases)('writes the library\'s compressed V2 text for %s, and it decodes to the same counts', (_name, make) => {
    const h = make();
    const ours = encodeHistogram(h);
    expect(ours).toBe(hdr.encodeIntoCompressedBase64(h));
    const back = decodeHistogram(ours);
    expect(back.totalCount).toBe(h.totalCount);
    // maxValue comes back as its bucket's highest equivalent value; the percentiles are the same.
    for (const q of [50, 90, 99, 100]) expect(back.getValueAtPercentile(q)).toBe(h.getValueAtPercentile(q));
    expect(encodeHistogram(back)).toBe(ours);
  });

  it('reuses its buffer without leaking one encoding into the next (a long one, then a short one)', () => {
    const long = cases[3]![1]();
    const short = cases[1]![1]();
    encodeHistogram(long);
    expect(encodeHistogram(short)).toBe(hdr.encodeIntoCompressedBase64(short));
    expect(encodeHistogram(long)).toBe(hdr.encodeIntoCompressedBase64(long));
  });
});
