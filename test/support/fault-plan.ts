import { seededRandom } from '../../packages/roachbank-app/src/workload/seeded-random.js';
import type { ClientMessage, Verdict } from './wire-proxy.js';

/** Chances per message (0–1) of each network fault the proxy can inject. */
export interface FaultRates {
  /** Cut the connection before any message. */
  readonly cutAtMessage: number;
  /** Cut the connection instead of forwarding a message that commits. */
  readonly cutBeforeCommit: number;
  /** Forward a message that commits and cut before its reply arrives (the ambiguous case). */
  readonly cutAfterCommit: number;
  /** Hold a message back for `delayMs` (uniform in the range) before forwarding it. */
  readonly delay: number;
  readonly delayMs: readonly [number, number];
}

export interface NetworkFaultCounts {
  cutAtMessage: number;
  cutBeforeCommit: number;
  cutAfterCommit: number;
  delayed: number;
}

export interface FaultPlan {
  /** The proxy policy: draws from the seeded generator for every message while enabled. */
  readonly policy: (message: ClientMessage) => Verdict;
  /** What the policy actually injected. */
  readonly injected: NetworkFaultCounts;
  /** Off: every message is forwarded untouched (the network has healed). */
  enabled: boolean;
}

const resolution = 1_000_000;

/**
 * A seeded, probabilistic policy for the wire proxy. The same seed draws the
 * same sequence of decisions; which message meets which decision still depends
 * on timing, so a seed reproduces a run's fault mix, not its exact interleaving.
 */
export function faultPlan(seed: number, rates: FaultRates): FaultPlan {
  const random = seededRandom(seed);
  const chance = (p: number) => p > 0 && random.int(0, resolution - 1) < p * resolution;
  const injected: NetworkFaultCounts = { cutAtMessage: 0, cutBeforeCommit: 0, cutAfterCommit: 0, delayed: 0 };
  const plan: FaultPlan = {
    enabled: true,
    injected,
    policy(message) {
      if (!plan.enabled) return 'forward';
      if (message.commits && chance(rates.cutBeforeCommit)) {
        injected.cutBeforeCommit++;
        return 'cut-before';
      }
      if (message.commits && chance(rates.cutAfterCommit)) {
        injected.cutAfterCommit++;
        return 'cut-after';
      }
      if (chance(rates.cutAtMessage)) {
        injected.cutAtMessage++;
        return 'cut-before';
      }
      if (chance(rates.delay)) {
        injected.delayed++;
        return { delayMs: random.int(rates.delayMs[0], rates.delayMs[1]) };
      }
      return 'forward';
    },
  };
  return plan;
}
