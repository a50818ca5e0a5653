/** Fault and timing knobs, settable at start and while running. */
import type { ReassociationMode } from './actions/index.js';
import type { ConsistencyDelay } from './consistency.js';

/** Fixed ms for every action, ms per action name, or a function of the call. */
export type LatencySpec =
  number | Readonly<Record<string, number>> | ((action: string, params: Record<string, string>) => number);

export type FaultCode = 'RequestLimitExceeded' | 'InternalError' | 'Unavailable';

export interface Ec2Knobs {
  /** Applied after the action ran and before the response is sent: a slow response, not a slow commit. */
  latencyMs: LatencySpec;
  /** Fraction of calls (0..1) answered RequestLimitExceeded (HTTP 503) without running. */
  throttleRate: number;
  /** Fraction of calls (0..1) answered with a 5xx without running. */
  serverErrorRate: number;
  /** Which 5xx `serverErrorRate` produces; 'mixed' alternates at random. */
  serverErrorCode: 'InternalError' | 'Unavailable' | 'mixed';
  /** Restrict throttling and 5xx injection to these action names; empty means all actions. */
  faultActions: readonly string[];
  /**
   * IAM allow-list in IAM spelling (`ec2:AssociateAddress`, `ec2:Describe*`, `ec2:*`); calls outside it
   * get UnauthorizedOperation. null allows everything.
   */
  allowedActions: readonly string[] | null;
  /** Eventual consistency: how long Describe* keeps showing a resource's pre-mutation view. */
  consistencyDelayMs: ConsistencyDelay;
  reassociation: ReassociationMode;
}

export const DEFAULT_KNOBS: Ec2Knobs = {
  latencyMs: 0,
  throttleRate: 0,
  serverErrorRate: 0,
  serverErrorCode: 'InternalError',
  faultActions: [],
  allowedActions: null,
  consistencyDelayMs: 0,
  reassociation: 'automatic',
};

export function checkKnobs(k: Ec2Knobs): void {
  for (const [name, rate] of [
    ['throttleRate', k.throttleRate],
    ['serverErrorRate', k.serverErrorRate],
  ] as const) {
    if (!(rate >= 0 && rate <= 1))
      throw new Error(`EC2 emulator knob ${name} must be within 0..1, got ${rate}`);
  }
  for (const a of k.allowedActions ?? []) {
    if (!/^ec2:[A-Za-z*?]+$/.test(a)) {
      throw new Error(
        `EC2 emulator knob allowedActions: '${a}' is not in IAM spelling (e.g. 'ec2:AssociateAddress')`,
      );
    }
  }
}

export function latencyFor(spec: LatencySpec, action: string, params: Record<string, string>): number {
  if (typeof spec === 'number') return spec;
  if (typeof spec === 'function') return spec(action, params);
  return spec[action] ?? 0;
}

/** mulberry32: tiny, seedable, good enough to make fault injection reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
