/** Summary statistics for the benchmark tables. */

export interface Summary {
  n: number;
  median: number;
  p95: number;
  max: number;
  min: number;
}

/**
 * Nearest-rank percentile (the smallest sample with at least q of the samples at or below it):
 * with 20 trials p95 is the 19th value, a real observation rather than an interpolation.
 */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) throw new Error('percentile of no samples');
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function median(sorted: number[]): number {
  if (sorted.length === 0) throw new Error('median of no samples');
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(values: number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, median: median(s), p95: percentile(s, 0.95), max: s[s.length - 1]!, min: s[0]! };
}
