import { deflateSync } from 'node:zlib';
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

/**
 * The histogram as hdr-histogram-js's `encodeIntoCompressedBase64` writes it (the V2 compressed
 * format, byte for byte: a test compares them), with less garbage. Every live save of the golden
 * signals encodes each changed group's histogram, and the library's encoder (a growing byte buffer,
 * then base64-js building strings chunk by chunk) was a fifth of all the bytes the server
 * allocated per approval in an allocation profile: young-generation GC pauses are the longest
 * stalls of the event loop. Here the bytes are written into one reused buffer and turned into
 * base64 by Node's Buffer.
 */
export function encodeHistogram(histogram: Histogram): string {
  const h = histogram as unknown as V2Source;
  const out = v2Writer;
  out.at = 0;
  out.int32(V2_COOKIE);
  out.int32(0); // the payload's length, written once known
  out.int32(1); // normalizingIndexOffset as the library writes it
  out.int32(h.numberOfSignificantValueDigits);
  out.int64(h.lowestDiscernibleValue);
  out.int64(h.highestTrackableValue);
  out.int64(1); // integerToDoubleValueConversionRatio
  const payloadStart = out.at;
  // Counts up to the highest recorded value, ZigZag LEB128; a run of zeros is one negative count.
  const limit = h.countsArrayIndex(h.maxValue) + 1;
  for (let i = 0; i < limit; ) {
    const count = h.getCountAtIndex(i++);
    if (count < 0) throw new Error(`cannot encode a histogram with a negative count (${count}) at index ${i}`);
    let zeros = 0;
    if (count === 0) {
      zeros = 1;
      while (i < limit && h.getCountAtIndex(i) === 0) {
        zeros++;
        i++;
      }
    }
    out.zigZag(zeros > 1 ? -zeros : count);
  }
  const end = out.at;
  out.at = 4;
  out.int32(end - payloadStart);
  const compressed = deflateSync(out.bytes.subarray(0, end));
  // The library's target buffer starts at 16 bytes: a shorter result keeps its zero padding.
  const framed = Buffer.alloc(Math.max(16, 8 + compressed.length));
  framed.writeInt32BE(V2_COMPRESSED_COOKIE | 0, 0);
  framed.writeInt32BE(compressed.length, 4);
  compressed.copy(framed, 8);
  return framed.toString('base64');
}

/** What the encoder reads of a JS histogram (public members of hdr-histogram-js's JsHistogram). */
interface V2Source {
  readonly numberOfSignificantValueDigits: number;
  readonly lowestDiscernibleValue: number;
  readonly highestTrackableValue: number;
  readonly maxValue: number;
  countsArrayIndex(value: number): number;
  getCountAtIndex(index: number): number;
}

// hdr-histogram-js's V2 cookies, with the word-size bits it sets (0x10).
const V2_COOKIE = 0x1c849303 | 0x10;
const V2_COMPRESSED_COOKIE = 0x1c849304 | 0x10;
const TWO_POW_32 = 2 ** 32;

/** A growable big-endian byte writer, reused across encodes (the encoder never yields). */
class ByteWriter {
  bytes = Buffer.alloc(4_096);
  at = 0;

  private room(n: number): void {
    if (this.at + n <= this.bytes.length) return;
    const bigger = Buffer.alloc(Math.max(this.bytes.length * 2, this.at + n));
    this.bytes.copy(bigger, 0, 0, this.at);
    this.bytes = bigger;
  }

  int32(value: number): void {
    this.room(4);
    this.bytes.writeUInt32BE(value >>> 0, this.at);
    this.at += 4;
  }

  /** As the library: the high word, then the low 32 bits. */
  int64(value: number): void {
    this.int32(Math.floor(value / TWO_POW_32));
    this.int32(value % TWO_POW_32);
  }

  /** ZigZag, then LEB128 of at most 9 bytes (the 9th carries 8 bits), as the V2 format wants. */
  zigZag(signed: number): void {
    let v = signed >= 0 ? signed * 2 : -signed * 2 - 1;
    this.room(9);
    for (let i = 0; i < 8; i++) {
      if (v < 128) {
        this.bytes[this.at++] = v;
        return;
      }
      this.bytes[this.at++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.bytes[this.at++] = v;
  }
}

const v2Writer = new ByteWriter();

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
