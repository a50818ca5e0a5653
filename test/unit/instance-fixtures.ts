/** Helpers shared by the VRRP reducer's tests. */
import {
  createInstance,
  step,
  type Effect,
  type InstanceEvent,
  type InstanceParams,
  type InstanceState,
} from '../../src/vrrp/instance.js';

/** This node's advert source in the reducer tests. */
export const ME = '10.99.0.2';

/** v2, vrid 51, priority 100, 1 s adverts, preempt, from ME; `over` replaces any of them. */
export function params(over: Partial<InstanceParams> = {}): InstanceParams {
  return {
    name: 'VI_1',
    version: 2,
    vrid: 51,
    priority: 100,
    advertIntervalCs: 100,
    preempt: true,
    preemptDelayUs: 0,
    downTimerAdverts: 3,
    primaryIp: ME,
    ...over,
  };
}

/** Runs events in order; returns the final state and the effects of the last event only. */
export function run(
  p: InstanceParams | InstanceState,
  events: [number, InstanceEvent][],
): { s: InstanceState; fx: Effect[] } {
  let s = 'state' in p ? p : createInstance(p);
  let fx: Effect[] = [];
  for (const [now, e] of events) {
    const r = step(s, e, now);
    s = r.state;
    fx = r.effects;
  }
  return { s, fx };
}
