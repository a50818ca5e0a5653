/**
 * What a reload (SIGHUP) does to each running instance, decided from the old and new specs alone:
 * keep it as it is, retune it in place, or restart it. Pure, so the rules are tested without a
 * daemon.
 */
import { isDeepStrictEqual } from 'node:util';
import type { FloatipConfig, InstanceSpec, SyncGroupSpec } from '../config/model.js';

export function groupIndex(config: FloatipConfig | null): Map<string, SyncGroupSpec> {
  const out = new Map<string, SyncGroupSpec>();
  for (const g of config?.syncGroups ?? []) for (const m of g.members) out.set(m, g);
  return out;
}

export function sameGroup(a: SyncGroupSpec | undefined, b: SyncGroupSpec | undefined): boolean {
  if (!a || !b) return a === b;
  const { pos: _pa, ...ra } = a;
  const { pos: _pb, ...rb } = b;
  return isDeepStrictEqual(ra, rb);
}

/**
 * Whether a reload can apply `b` to a running `a` without restarting it: only the priority, the
 * preempt settings, down_timer_adverts and the tracker lists differ. Everything that shapes the
 * adverts, the sockets or the providers (addresses, interval, peers, notify, providers…) restarts.
 */
export function retunable(a: InstanceSpec, b: InstanceSpec): boolean {
  const soft = (s: InstanceSpec) => {
    const {
      pos: _pos,
      priority: _priority,
      preempt: _preempt,
      preemptDelayMs: _preemptDelay,
      downTimerAdverts: _down,
      trackScripts: _ts,
      trackInterfaces: _ti,
      trackProcesses: _tp,
      trackFiles: _tf,
      initialState: _state,
      extra: _extra,
      ...rest
    } = s;
    return rest;
  };
  return isDeepStrictEqual(soft(a), soft(b));
}

export function sameInstance(a: InstanceSpec, b: InstanceSpec): boolean {
  // Positions move when lines are added above an instance; that is not a change to the instance.
  const { pos: _pa, ...ra } = a;
  const { pos: _pb, ...rb } = b;
  return isDeepStrictEqual(ra, rb);
}
