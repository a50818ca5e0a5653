/**
 * Deliberate defects, each a decorator around the real `step` or `stepHolderPolicy`: src/ is never
 * edited, the defect lives only in the function the simulator is handed. Each one breaks one VRRP rule the way a
 * plausible bug would.
 */
import { compareTieBreakIp, step, type InstanceState, type StepResult } from '../../src/vrrp/instance.js';
import { skewTimeUs } from '../../src/vrrp/timing.js';
import { stepHolderPolicy } from '../../src/notify/holder-policy.js';
import type { PolicyStepFn, StepFn } from '../../src/sim/simulator.js';

/** Master_Down without Skew_Time: every backup's timer is armed Skew_Time too early. */
export const ignoreSkew: StepFn = (s, e, now) => {
  const r = step(s, e, now);
  let state: InstanceState = r.state;
  const effects = r.effects.map((fx) => {
    if (fx.type !== 'set-timer' || fx.timer !== 'master_down') return fx;
    const skew = skewTimeUs(state.params.version, state.effectivePriority, state.masterAdverIntervalCs);
    const at = Math.max(now, fx.at - skew);
    // The reducer ignores a timer that fires before its own deadline, so move that one too.
    state = Object.freeze({ ...state, masterDownAt: at });
    return { ...fx, at };
  });
  return { state, effects };
};

/** The equal-priority tie-break reversed: a MASTER yields to the LOWER address. */
export const reverseTieBreak: StepFn = (s, e, now) => {
  if (e.type !== 'advert' || s.state !== 'MASTER' || e.priority !== s.effectivePriority || e.priority === 0) {
    return step(s, e, now);
  }
  const cmp = compareTieBreakIp(e.src, s.params.primaryIp);
  if (cmp === 0) return step(s, e, now);
  // Present the advert as strictly better when its address is lower, strictly worse when higher.
  const priority = cmp < 0 ? Math.min(255, e.priority + 1) : Math.max(1, e.priority - 1);
  return step(s, { ...e, priority }, now);
};

/** A BACKUP ignores priority-0 adverts, so a graceful stop costs a full Master_Down. */
export const dropPriorityZero: StepFn = (s, e, now): StepResult => {
  if (e.type === 'advert' && e.priority === 0 && s.state === 'BACKUP') return { state: s, effects: [] };
  return step(s, e, now);
};

/** Preemption broken: a BACKUP accepts lower-priority adverts as if it had nopreempt. */
export const neverPreempt: StepFn = (s, e, now) => {
  if (e.type === 'advert' && s.state === 'BACKUP' && e.priority > 0 && e.priority < s.effectivePriority) {
    return step(s, { ...e, priority: s.effectivePriority }, now);
  }
  return step(s, e, now);
};

/** Tracker results lost: weights never change the effective priority. */
export const dropWeights: StepFn = (s, e, now) =>
  e.type === 'weights' ? { state: s, effects: [] } : step(s, e, now);

// ---------------------------------------------------------------------------------------------
// Holder-policy defects, each a decorator around the real `stepHolderPolicy`.

/**
 * Never fence: contention is treated as drift, so a master that finds a competitor holding within
 * the hold-off of its own move takes the address back at once (naive notify scripts do this).
 */
export const neverFence: PolicyStepFn = (s, e, now) => {
  const r = stepHolderPolicy(s, e, now);
  if (!r.actions.some((a) => a.type === 'fenced')) return r;
  // The same read, seen by a policy that believes its own last move is long past.
  return stepHolderPolicy({ ...s, lastMoveAt: null }, e, now);
};

/** The platform's "holder is not running" is ignored: a dead holder looks alive. */
export const ignoreDeadHolder: PolicyStepFn = (s, e, now) =>
  stepHolderPolicy(s, e.type === 'holder-read' && e.alive === false ? { ...e, alive: true } : e, now);

/**
 * Rule 5 removed: the policy never remembers why it last moved, so an evidence-free move that is
 * undone at once is retried every H (the one-way-cut churn of test/sim/README.md flaw 3).
 */
export const noBackoff: PolicyStepFn = (s, e, now) => {
  const r = stepHolderPolicy({ ...s, lastMoveReason: null, backstopDoublings: 0 }, e, now);
  return { ...r, state: { ...r.state, lastMoveReason: null, backstopDoublings: 0 } };
};
