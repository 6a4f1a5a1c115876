import * as hdr from 'hdr-histogram-js';

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * Latencies in HDR histograms (microseconds, 3 significant digits): one for the
 * whole run and one for the current interval, so memory stays the same however
 * many operations are recorded.
 */
export class LatencyRecorder {
  readonly #total = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  readonly #interval = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });

  record(micros: number): void {
    const value = Math.max(1, Math.round(micros));
    this.#total.recordValue(value);
    this.#interval.recordValue(value);
  }

  /** The interval since the last call, then starts a new one. */
  takeInterval(): LatencySummary {
    const summary = summarize(this.#interval);
    this.#interval.reset();
    return summary;
  }

  total(): LatencySummary {
    return summarize(this.#total);
  }
}

function summarize(histogram: hdr.Histogram): LatencySummary {
  const ms = (micros: number) => Math.round(micros) / 1000;
  return {
    count: histogram.totalCount,
    p50Ms: ms(histogram.getValueAtPercentile(50)),
    p95Ms: ms(histogram.getValueAtPercentile(95)),
    p99Ms: ms(histogram.getValueAtPercentile(99)),
    maxMs: ms(histogram.maxValue),
  };
}
