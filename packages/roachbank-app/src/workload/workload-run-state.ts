import type { HoldExpectation } from './card-flows.js';
import { LatencyRecorder } from './latency-recorder.js';

/** A transfer whose outcome the client never learned (AMBIGUOUS_COMMIT): the audit looks it up. */
export interface UnknownOutcome {
  readonly id: string;
  readonly from: number;
  readonly to: number;
  readonly amount: bigint;
}

/**
 * What a workload run has seen so far, shared by its workers, its ticker and its
 * audit. Memory is bounded: each account's net change, not every transfer.
 */
export interface WorkloadRunState {
  /** Net change of each run account as the client saw it acknowledged. */
  readonly deltas: BigInt64Array;
  readonly latency: LatencyRecorder;
  readonly unknown: UnknownOutcome[];
  /** Every hold a card flow placed (`--holds`), with the statuses it may end in. */
  readonly holds: HoldExpectation[];
  readonly counts: { started: number; ops: number; errors: number; refused: number; reads: number; readViolations: number };
  lastError: string | null;
}

export function newRunState(accounts: number): WorkloadRunState {
  return {
    deltas: new BigInt64Array(accounts),
    latency: new LatencyRecorder(),
    unknown: [],
    holds: [],
    counts: { started: 0, ops: 0, errors: 0, refused: 0, reads: 0, readViolations: 0 },
    lastError: null,
  };
}

/** Counts a failure that is neither a refusal nor an unknown outcome, keeping its message. */
export function countError(state: WorkloadRunState, error: unknown): void {
  state.counts.errors++;
  state.lastError = error instanceof Error ? error.message : String(error);
}
