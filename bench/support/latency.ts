/**
 * Latency samples in milliseconds. Every sample is kept, so percentiles are exact
 * (nearest-rank on the sorted samples), not estimated from buckets.
 */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

export class LatencyHistogram {
  private samples = new Float64Array(1024);
  private size = 0;

  record(milliseconds: number): void {
    if (this.size === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.size] = milliseconds;
    this.size += 1;
  }

  get count(): number {
    return this.size;
  }

  summary(): LatencySummary {
    if (this.size === 0) return { count: 0, p50: Number.NaN, p99: Number.NaN, mean: Number.NaN, max: Number.NaN };
    const sorted = this.samples.slice(0, this.size).sort();
    let total = 0;
    for (const sample of sorted) total += sample;
    return {
      count: this.size,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      mean: total / this.size,
      max: sorted[this.size - 1] ?? Number.NaN,
    };
  }
}

/** Nearest rank: the smallest sample with at least p% of the samples at or below it. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}
