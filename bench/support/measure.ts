import { performance } from 'node:perf_hooks';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Milliseconds one call of `fn` takes. */
export async function timeOnce(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * Runs each contender `rounds` times, interleaved (A B A B ...) so that machine noise hits both
 * alike, after one warm-up each; returns the median milliseconds per contender.
 */
export async function interleaved(
  rounds: number,
  contenders: Record<string, () => Promise<unknown> | unknown>,
): Promise<Record<string, number>> {
  const names = Object.keys(contenders);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const name of names) await (contenders[name] as () => unknown)();
  for (let r = 0; r < rounds; r++) {
    for (const name of names) (samples[name] as number[]).push(await timeOnce(contenders[name] as () => unknown));
  }
  return Object.fromEntries(names.map((n) => [n, median(samples[n] as number[])]));
}

/** Nearest-rank percentile of already collected samples. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}
