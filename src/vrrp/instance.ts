/**
 * The VRRP state machine (RFC 3768 / RFC 5798 §6.4) as a pure reducer, following keepalived
 * 2.2.7's behaviour where it differs from the RFC text.
 *
 * `step(state, event, nowUs)` returns the next state and the effects a driver must carry out.
 * Nothing here touches sockets or clocks: the daemon and the deterministic simulator inject time
 * and execute effects, so both run exactly the same election logic.
 *
 * Driver contract:
 *  - Effects are executed in array order. Wire effects (`send-advert`) and timer effects come
 *    before the `transition` they belong to, in the order keepalived performs them: a new master
 *    sends its advert before it takes the addresses (vrrp_state_master_tx), and an old master
 *    sends priority 0 before it releases them (vrrp_state_leave_master).
 *  - At most one timer is armed at a time: `adver` in MASTER, `master_down` in BACKUP.
 *    `set-timer` replaces any earlier deadline of the same name. A timer that has fired is
 *    disarmed by firing; `clear-timer` is emitted only for a timer cancelled before it fired.
 *  - A `timer` event whose timer is not armed, or that arrives before the armed deadline (a stale
 *    timer in the driver), is ignored.
 *
 * Sync group members (`params.syncGroup`) never promote themselves: where a lone instance would go
 * BACKUP → MASTER, a member stays BACKUP, sets `wantMaster` and emits `want-master`, and a
 * coordinator (sync-group.ts) answers with `sync-master` once every member wants MASTER, as
 * keepalived's vrrp_sync_can_goto_master / vrrp_sync_master do. `sync-backup` is keepalived's
 * vrrp_sync_backup: a member that is MASTER leaves because another member did.
 */
import { addrLength, familyOf, writeIp } from './addr.js';
import { masterDownIntervalUs, skewTimeUs, US_PER_CS } from './timing.js';

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';
export type TimerName = 'adver' | 'master_down';

export interface InstanceParams {
  name: string;
  version: 2 | 3;
  vrid: number;
  /** Base priority 1..255 (255 = address owner). */
  priority: number;
  /** Configured advert interval in centiseconds. */
  advertIntervalCs: number;
  preempt: boolean;
  /** 0 = none. */
  preemptDelayUs: number;
  /** Default 3. */
  downTimerAdverts: number;
  /** This node's advert source address (tie-break). */
  primaryIp: string;
  /** Member of a vrrp_sync_group: MASTER only when the group coordinator says so. Default false. */
  syncGroup?: boolean;
}

export type InstanceEvent =
  | { type: 'start' }
  | { type: 'advert'; src: string; priority: number; intervalCs: number }
  | { type: 'timer'; timer: TimerName }
  | { type: 'weights'; delta: number }
  | { type: 'fault'; active: boolean; reason: string }
  | { type: 'shutdown' }
  /**
   * Sync group: every member wants MASTER, go now. `reason` is for the member whose own wish
   * completed the group (its want-master reason); the others default to 'sync-group'.
   */
  | { type: 'sync-master'; reason?: TransitionReason }
  /** Sync group: another member left MASTER for BACKUP; a MASTER follows it. */
  | { type: 'sync-backup' }
  /**
   * A config reload changed only what can change without a restart (priority, preempt,
   * preempt_delay, down_timer_adverts): keep the state, as keepalived keeps it across a reload.
   */
  | { type: 'retune'; params: InstanceParams };

export type TransitionReason =
  | 'startup'
  | 'priority-owner'
  | 'master-down-timer'
  | 'priority-zero-received'
  | 'preempted-by-higher-priority'
  | 'higher-priority-advert'
  | 'equal-priority-higher-ip'
  | 'fault'
  | 'fault-cleared'
  | 'shutdown'
  | 'sync-group';

export type Effect =
  | { type: 'send-advert'; priority: number; intervalCs: number }
  | { type: 'set-timer'; timer: TimerName; at: number }
  | { type: 'clear-timer'; timer: TimerName }
  | {
      type: 'transition';
      from: VrrpState;
      to: VrrpState;
      reason: TransitionReason;
      effectivePriority: number;
      masterAdverIntervalCs: number;
      skewUs: number;
      masterDownUs: number;
      peer?: string;
    }
  | { type: 'priority-changed'; from: number; to: number }
  /**
   * Sync group member held in BACKUP although it would go MASTER for `reason`; its master_down
   * timer was re-armed (keepalived's wantstate MASTER). Cleared by an accepted advert.
   */
  | { type: 'want-master'; reason: TransitionReason };

/** Why a BACKUP would become MASTER if master_down fired now (keepalived's next_master_reason). */
export type MasterReason = 'master-down-timer' | 'priority-zero-received' | 'preempted-by-higher-priority';

export interface InstanceState {
  readonly params: InstanceParams;
  readonly state: VrrpState;
  /**
   * params.priority, except that an address owner which meets another owner drops itself to 254
   * as keepalived does (vrrp_state_master_rx, "CONFIGURATION ERROR ... both configured as address
   * owner"). Reset to params.priority on `start`.
   */
  readonly basePriority: number;
  /** Σ tracker weights as last reported. */
  readonly weightsDelta: number;
  readonly effectivePriority: number;
  readonly faultActive: boolean;
  readonly faultReason: string | null;
  /** Master_Adver_Interval: ours in MASTER/INIT/FAULT, the master's (v3) in BACKUP. */
  readonly masterAdverIntervalCs: number;
  /**
   * keepalived's ms_down_timer: the interval the armed master_down deadline was computed from
   * (full Master_Down, Skew after a priority-0 advert, or what was left when an advert was
   * ignored). A priority change in BACKUP moves the deadline by the difference between the new
   * Master_Down and this value (vrrp_set_effective_priority).
   */
  readonly msDownTimerUs: number;
  readonly adverAt: number | null;
  readonly masterDownAt: number | null;
  /** keepalived's preempt_time: when a running preempt_delay allows preemption; null = not running. */
  readonly preemptAt: number | null;
  readonly nextMasterReason: MasterReason;
  /** Source of the last advert from the current master, as far as we know. */
  readonly masterIp: string | null;
  /**
   * Sync group member in BACKUP whose own rules say MASTER, held back until every member wants it
   * (keepalived's wantstate == MASTER while state == BACKUP). Always false outside a sync group.
   */
  readonly wantMaster: boolean;
}

export interface StepResult {
  state: InstanceState;
  effects: Effect[];
}

const PRIO_OWNER = 255;
const PRIO_STOP = 0;

export function createInstance(params: InstanceParams): InstanceState {
  validateParams(params);
  const p: InstanceParams = Object.freeze({ ...params });
  return freeze({
    params: p,
    state: 'INIT',
    basePriority: p.priority,
    weightsDelta: 0,
    effectivePriority: p.priority,
    faultActive: false,
    faultReason: null,
    masterAdverIntervalCs: p.advertIntervalCs,
    msDownTimerUs: masterDownIntervalUs(p.version, p.priority, p.advertIntervalCs, p.downTimerAdverts),
    adverAt: null,
    masterDownAt: null,
    preemptAt: null,
    nextMasterReason: 'master-down-timer',
    masterIp: null,
    wantMaster: false,
  });
}

export function effectivePriority(s: InstanceState): number {
  return s.effectivePriority;
}

export function nextDeadline(s: InstanceState): { timer: TimerName; at: number } | null {
  if (s.adverAt !== null && (s.masterDownAt === null || s.adverAt <= s.masterDownAt)) {
    return { timer: 'adver', at: s.adverAt };
  }
  if (s.masterDownAt !== null) return { timer: 'master_down', at: s.masterDownAt };
  return null;
}

export function step(s: InstanceState, e: InstanceEvent, nowUs: number): StepResult {
  switch (e.type) {
    case 'start':
      return onStart(s, nowUs);
    case 'advert':
      if (s.state === 'BACKUP') return onBackupAdvert(s, e, nowUs);
      if (s.state === 'MASTER') return onMasterAdvert(s, e, nowUs);
      // vrrp_dispatcher_read: adverts are dropped in FAULT and INIT.
      return noop(s);
    case 'timer':
      return onTimer(s, e.timer, nowUs);
    case 'weights':
      return onWeights(s, e.delta, nowUs);
    case 'fault':
      return e.active ? onFault(s, e.reason) : onFaultCleared(s, nowUs);
    case 'shutdown':
      return onShutdown(s);
    case 'sync-master':
      return onSyncMaster(s, e.reason ?? 'sync-group', nowUs);
    case 'sync-backup':
      return onSyncBackup(s, nowUs);
    case 'retune':
      return onRetune(s, e.params, nowUs);
  }
}

/** What a retune may not change: these need a new instance (a restart). */
const FIXED_PARAMS = ['name', 'version', 'vrid', 'advertIntervalCs', 'primaryIp', 'syncGroup'] as const;

/**
 * A reload that changes the priority of a running instance: the next advert carries the new
 * priority (a lower one lets a preempting backup take over, as after a keepalived reload) and a
 * BACKUP's master-down deadline moves by the change of Master_Down, as for a tracker weight.
 */
function onRetune(s: InstanceState, params: InstanceParams, now: number): StepResult {
  validateParams(params);
  for (const k of FIXED_PARAMS) {
    if (params[k] !== s.params[k]) {
      throw new Error(
        `VRRP instance ${JSON.stringify(s.params.name)}: ${k} cannot change without restarting the instance`,
      );
    }
  }
  const p = Object.freeze({ ...params });
  // An owner demoted to 254 after meeting another owner stays demoted while it is still configured 255.
  const base =
    s.basePriority !== s.params.priority && p.priority === s.params.priority ? s.basePriority : p.priority;
  const eff = computeEffective(base, p.priority, s.weightsDelta);
  const effects: Effect[] =
    eff === s.effectivePriority ? [] : [{ type: 'priority-changed', from: s.effectivePriority, to: eff }];
  const next = freeze({ ...s, params: p, basePriority: base, effectivePriority: eff });
  const msDown = fullMasterDown(next);
  if (s.state === 'BACKUP' && s.masterDownAt !== null && msDown !== s.msDownTimerUs) {
    const at = Math.max(now, s.masterDownAt + (msDown - s.msDownTimerUs));
    effects.push({ type: 'set-timer', timer: 'master_down', at });
    return { state: update(next, { msDownTimerUs: msDown, masterDownAt: at }), effects };
  }
  return { state: update(next, { msDownTimerUs: msDown }), effects };
}

// ---------------------------------------------------------------------------------------------
// Event handlers

/**
 * vrrp_init_state (vrrp_scheduler.c): an address owner becomes master at once (keepalived does it
 * via BACKUP with a 1 µs ms_down_timer; the visible result is the same advert-then-master), every
 * other instance enters BACKUP with the full Master_Down timer, or FAULT if it is not up.
 */
function onStart(s: InstanceState, now: number): StepResult {
  if (s.state !== 'INIT') return noop(s);
  const effects: Effect[] = [];
  const basePriority = s.params.priority;
  const eff = computeEffective(basePriority, s.params.priority, s.weightsDelta);
  if (eff !== s.effectivePriority)
    effects.push({ type: 'priority-changed', from: s.effectivePriority, to: eff });
  const fresh = update(s, {
    basePriority,
    effectivePriority: eff,
    masterAdverIntervalCs: s.params.advertIntervalCs,
    preemptAt: null,
    nextMasterReason: 'master-down-timer',
    masterIp: null,
  });
  if (fresh.faultActive) {
    const next = update(fresh, { state: 'FAULT', msDownTimerUs: fullMasterDown(fresh) });
    effects.push(transition(fresh, next, 'fault'));
    return { state: next, effects };
  }
  if (basePriority === PRIO_OWNER && s.params.syncGroup) return ownerWaitsForGroup(fresh, now, effects);
  if (basePriority === PRIO_OWNER) return becomeMaster(fresh, now, 'priority-owner', effects);
  return enterBackup(fresh, now, 'startup', effects);
}

/**
 * vrrp_init_state for an owner whose sync group is not MASTER: it starts in BACKUP wanting MASTER
 * and gives a possible other master one advert interval (+ the minimal skew) to show up.
 */
function ownerWaitsForGroup(s: InstanceState, now: number, effects: Effect[]): StepResult {
  const withInterval = update(s, { masterAdverIntervalCs: s.params.advertIntervalCs });
  const msDown =
    s.params.advertIntervalCs * US_PER_CS +
    skewTimeUs(s.params.version, PRIO_OWNER, s.params.advertIntervalCs);
  const next = update(withInterval, {
    state: 'BACKUP',
    msDownTimerUs: msDown,
    masterDownAt: now + msDown,
    adverAt: null,
    preemptAt: null,
    wantMaster: true,
  });
  effects.push({ type: 'set-timer', timer: 'master_down', at: now + msDown });
  effects.push(transition(s, next, 'startup'));
  effects.push({ type: 'want-master', reason: 'priority-owner' });
  return { state: next, effects };
}

/** vrrp_state_backup (vrrp.c). */
function onBackupAdvert(
  s: InstanceState,
  e: Extract<InstanceEvent, { type: 'advert' }>,
  now: number,
): StepResult {
  if (e.priority === PRIO_STOP) {
    // The master is leaving: take over after Skew_Time alone.
    const msDown = skewTimeUs(s.params.version, s.effectivePriority, s.masterAdverIntervalCs);
    const next = update(s, {
      msDownTimerUs: msDown,
      masterDownAt: now + msDown,
      nextMasterReason: 'priority-zero-received',
    });
    return { state: next, effects: [{ type: 'set-timer', timer: 'master_down', at: now + msDown }] };
  }

  // keepalived resets preempt_delay when nopreempt is set (vrrp_complete_instance).
  const preemptDelay = s.params.preempt ? s.params.preemptDelayUs : 0;
  const accept =
    !s.params.preempt ||
    e.priority >= s.effectivePriority ||
    (preemptDelay > 0 && (s.preemptAt === null || s.preemptAt > now));

  if (!accept) {
    // Lower priority and free to preempt: discard it and let master_down run out. keepalived
    // shrinks ms_down_timer to what is left so a later priority change shifts from there.
    const left = s.masterDownAt === null ? 0 : Math.max(0, s.masterDownAt - now);
    return {
      state: update(s, {
        msDownTimerUs: left,
        nextMasterReason: 'preempted-by-higher-priority',
        masterIp: e.src,
      }),
      effects: [],
    };
  }

  // RFC 5798 §6.4.2: a v3 backup adopts the master's interval before computing Master_Down.
  const masterAdverIntervalCs = s.params.version === 3 ? e.intervalCs : s.masterAdverIntervalCs;
  const msDown = masterDownIntervalUs(
    s.params.version,
    s.effectivePriority,
    masterAdverIntervalCs,
    s.params.downTimerAdverts,
  );
  let preemptAt = s.preemptAt;
  if (preemptDelay > 0) {
    // A lower-priority master is tolerated for preempt_delay from its first advert; a master at
    // least as good as us cancels the countdown.
    if (e.priority >= s.effectivePriority) preemptAt = null;
    else if (preemptAt === null) preemptAt = now + preemptDelay;
  }
  const next = update(s, {
    masterAdverIntervalCs,
    msDownTimerUs: msDown,
    masterDownAt: now + msDown,
    preemptAt,
    nextMasterReason: 'master-down-timer',
    masterIp: e.src,
    // vrrp_state_backup: a master we accept means we no longer want MASTER (sync groups).
    wantMaster: false,
  });
  return { state: next, effects: [{ type: 'set-timer', timer: 'master_down', at: now + msDown }] };
}

/**
 * vrrp_state_master_rx (vrrp.c) plus vrrp_dispatcher_read, which re-arms the advert timer after
 * every advert a MASTER receives (keepalived's default lower_prio_no_advert = false).
 * higher_prio_send_advert is off by default, so a higher-priority advert gets no reply.
 */
function onMasterAdvert(
  s: InstanceState,
  e: Extract<InstanceEvent, { type: 'advert' }>,
  now: number,
): StepResult {
  const effects: Effect[] = [];
  if (e.priority === PRIO_STOP) {
    // Another router thinks it was master and is leaving: reassert at once.
    return resendAndRearm(s, now, effects);
  }

  const addrCmp = compareTieBreakIp(e.src, s.params.primaryIp);
  let cur = s;
  if (e.priority === cur.effectivePriority && addrCmp !== 0 && cur.effectivePriority === PRIO_OWNER) {
    // Two address owners: keepalived reports a configuration error and steps itself down to 254,
    // which makes the other owner's advert a higher-priority one below.
    effects.push({ type: 'priority-changed', from: PRIO_OWNER, to: PRIO_OWNER - 1 });
    cur = update(cur, { basePriority: PRIO_OWNER - 1, effectivePriority: PRIO_OWNER - 1 });
  }
  const eff = cur.effectivePriority;

  if (e.priority < eff || (e.priority === eff && addrCmp < 0)) {
    // A lower-priority router thinks it is master: answer at once so it backs off.
    return resendAndRearm(cur, now, effects);
  }

  if (e.priority > eff || (e.priority === eff && addrCmp > 0)) {
    const masterAdverIntervalCs = cur.params.version === 3 ? e.intervalCs : cur.masterAdverIntervalCs;
    const withInterval = update(cur, { masterAdverIntervalCs });
    const msDown = fullMasterDown(withInterval);
    // vrrp_state_leave_master: preempt_time is cleared on entering BACKUP.
    const next = update(withInterval, {
      state: 'BACKUP',
      adverAt: null,
      msDownTimerUs: msDown,
      masterDownAt: now + msDown,
      preemptAt: null,
      nextMasterReason: 'master-down-timer',
      masterIp: e.src,
    });
    effects.push({ type: 'clear-timer', timer: 'adver' });
    effects.push({ type: 'set-timer', timer: 'master_down', at: now + msDown });
    effects.push(
      transition(s, next, e.priority > eff ? 'higher-priority-advert' : 'equal-priority-higher-ip', e.src),
    );
    return { state: next, effects };
  }

  // Equal priority from an address equal to ours (or not comparable): keepalived only logs a
  // warning, but the dispatcher still re-arms the advert timer.
  const at = now + adverIntervalUs(cur);
  effects.push({ type: 'set-timer', timer: 'adver', at });
  return { state: update(cur, { adverAt: at }), effects };
}

/** vrrp_dispatcher_read_timeout (vrrp_scheduler.c). */
function onTimer(s: InstanceState, timer: TimerName, now: number): StepResult {
  const armedAt = timer === 'adver' ? s.adverAt : s.masterDownAt;
  if (armedAt === null || now < armedAt) return noop(s);
  if (timer === 'adver' && s.state === 'MASTER') {
    // vrrp_state_master_tx: the advert carries the effective priority as of now.
    return resendAndRearm(s, now, []);
  }
  if (timer === 'master_down' && s.state === 'BACKUP') {
    if (s.params.syncGroup) return holdForGroup(s, now, s.nextMasterReason);
    return becomeMaster(update(s, { masterDownAt: null }), now, s.nextMasterReason, []);
  }
  return noop(s);
}

/**
 * vrrp_set_effective_priority (vrrp_track.c): clamp to 1..254, owners never change. In BACKUP
 * keepalived moves the armed deadline by the change in Master_Down at once; in MASTER the new
 * priority only shows in the next advert (a peer with preempt then takes over by itself).
 */
function onWeights(s: InstanceState, delta: number, now: number): StepResult {
  if (delta === s.weightsDelta) return noop(s);
  const eff = computeEffective(s.basePriority, s.params.priority, delta);
  if (eff === s.effectivePriority) return { state: update(s, { weightsDelta: delta }), effects: [] };

  const effects: Effect[] = [{ type: 'priority-changed', from: s.effectivePriority, to: eff }];
  const withPrio = update(s, { weightsDelta: delta, effectivePriority: eff });
  const msDown = fullMasterDown(withPrio);
  if (s.state === 'BACKUP' && s.masterDownAt !== null) {
    // A deadline pushed into the past fires at once in keepalived; say "now" to the driver.
    const at = Math.max(now, s.masterDownAt + (msDown - s.msDownTimerUs));
    effects.push({ type: 'set-timer', timer: 'master_down', at });
    return { state: update(withPrio, { msDownTimerUs: msDown, masterDownAt: at }), effects };
  }
  return { state: update(withPrio, { msDownTimerUs: msDown }), effects };
}

/**
 * down_instance (vrrp_track.c). From MASTER keepalived sends VRRP_PRIO_STOP twice: once in
 * vrrp_state_leave_master for wantstate FAULT and again from vrrp_restore_interface(advF=true).
 * Before `start` the fault is only remembered (vrrp_init_state then starts in FAULT).
 */
function onFault(s: InstanceState, reason: string): StepResult {
  if (s.faultActive) return { state: update(s, { faultReason: reason }), effects: [] };
  const flagged = update(s, { faultActive: true, faultReason: reason });
  if (s.state === 'INIT' || s.state === 'FAULT') return { state: flagged, effects: [] };

  const effects: Effect[] = [];
  if (s.state === 'MASTER') {
    effects.push({ type: 'clear-timer', timer: 'adver' });
    effects.push(stopAdvert(s), stopAdvert(s));
  } else {
    effects.push({ type: 'clear-timer', timer: 'master_down' });
  }
  const intervalReset = update(flagged, { masterAdverIntervalCs: s.params.advertIntervalCs });
  const next = update(intervalReset, {
    state: 'FAULT',
    adverAt: null,
    masterDownAt: null,
    msDownTimerUs: fullMasterDown(intervalReset),
    wantMaster: false,
  });
  effects.push(transition(s, next, 'fault'));
  return { state: next, effects };
}

/**
 * try_up_instance (vrrp_scheduler.c) → vrrp_state_leave_fault (vrrp.c): always BACKUP with our
 * own interval and a full Master_Down, even for an address owner (down_instance has replaced its
 * MASTER wantstate with FAULT by then).
 */
function onFaultCleared(s: InstanceState, now: number): StepResult {
  if (!s.faultActive) return noop(s);
  const cleared = update(s, { faultActive: false, faultReason: null });
  if (s.state !== 'FAULT') return { state: cleared, effects: [] };
  return enterBackup(cleared, now, 'fault-cleared', []);
}

/** restore_vrrp_interfaces (vrrp.c): only a MASTER tells the others, with one priority-0 advert. */
function onShutdown(s: InstanceState): StepResult {
  if (s.state === 'INIT') return noop(s);
  const effects: Effect[] = [];
  if (s.state === 'MASTER') {
    effects.push({ type: 'clear-timer', timer: 'adver' });
    effects.push(stopAdvert(s));
  } else if (s.state === 'BACKUP') {
    effects.push({ type: 'clear-timer', timer: 'master_down' });
  }
  const next = update(s, {
    state: 'INIT',
    adverAt: null,
    masterDownAt: null,
    preemptAt: null,
    masterAdverIntervalCs: s.params.advertIntervalCs,
    wantMaster: false,
  });
  effects.push(transition(s, next, 'shutdown'));
  return { state: next, effects };
}

/**
 * vrrp_sync_can_goto_master (vrrp_sync.c) answering "not yet": stay BACKUP wanting MASTER and give
 * the other members a full Master_Down (with the current Master_Adver_Interval) to get there.
 */
function holdForGroup(s: InstanceState, now: number, reason: TransitionReason): StepResult {
  const msDown = fullMasterDown(s);
  const next = update(s, { wantMaster: true, msDownTimerUs: msDown, masterDownAt: now + msDown });
  return {
    state: next,
    effects: [
      { type: 'set-timer', timer: 'master_down', at: now + msDown },
      { type: 'want-master', reason },
    ],
  };
}

/**
 * vrrp_sync_master (vrrp_sync.c) → vrrp_state_goto_master for a member: a normal MASTER entry
 * (advert first, then the adver timer) from BACKUP. A member in FAULT or INIT cannot be forced.
 */
function onSyncMaster(s: InstanceState, reason: TransitionReason, now: number): StepResult {
  if (s.state !== 'BACKUP') return noop(s);
  const effects: Effect[] = [];
  if (s.masterDownAt !== null) effects.push({ type: 'clear-timer', timer: 'master_down' });
  return becomeMaster(update(s, { masterDownAt: null }), now, reason, effects);
}

/**
 * vrrp_sync_backup (vrrp_sync.c) → vrrp_state_leave_master with wantstate BACKUP: no priority-0
 * advert (the peer's members take over when their Master_Down runs out), preempt_time cleared,
 * master_down from a full Master_Down.
 */
function onSyncBackup(s: InstanceState, now: number): StepResult {
  if (s.state !== 'MASTER') return noop(s);
  const msDown = fullMasterDown(s);
  const next = update(s, {
    state: 'BACKUP',
    adverAt: null,
    msDownTimerUs: msDown,
    masterDownAt: now + msDown,
    preemptAt: null,
    nextMasterReason: 'master-down-timer',
    wantMaster: false,
  });
  return {
    state: next,
    effects: [
      { type: 'clear-timer', timer: 'adver' },
      { type: 'set-timer', timer: 'master_down', at: now + msDown },
      transition(s, next, 'sync-group'),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Shared transitions

/**
 * vrrp_state_goto_master → vrrp_state_master_tx (vrrp.c): send the advert first, then take the
 * addresses; the advert timer runs from now with our configured interval.
 */
function becomeMaster(
  s: InstanceState,
  now: number,
  reason: TransitionReason,
  effects: Effect[],
): StepResult {
  const at = now + s.params.advertIntervalCs * US_PER_CS;
  const next = update(s, {
    state: 'MASTER',
    masterAdverIntervalCs: s.params.advertIntervalCs,
    adverAt: at,
    masterDownAt: null,
    preemptAt: null,
    wantMaster: false,
  });
  effects.push({
    type: 'send-advert',
    priority: next.effectivePriority,
    intervalCs: s.params.advertIntervalCs,
  });
  effects.push({ type: 'set-timer', timer: 'adver', at });
  effects.push(transition(s, next, reason));
  return { state: next, effects };
}

/** BACKUP with our own interval and a full Master_Down (start-up and leaving FAULT). */
function enterBackup(s: InstanceState, now: number, reason: TransitionReason, effects: Effect[]): StepResult {
  const withInterval = update(s, { masterAdverIntervalCs: s.params.advertIntervalCs });
  const msDown = fullMasterDown(withInterval);
  const next = update(withInterval, {
    state: 'BACKUP',
    msDownTimerUs: msDown,
    masterDownAt: now + msDown,
    adverAt: null,
    preemptAt: null,
    nextMasterReason: 'master-down-timer',
    wantMaster: false,
  });
  effects.push({ type: 'set-timer', timer: 'master_down', at: now + msDown });
  effects.push(transition(s, next, reason));
  return { state: next, effects };
}

function resendAndRearm(s: InstanceState, now: number, effects: Effect[]): StepResult {
  const at = now + adverIntervalUs(s);
  effects.push({ type: 'send-advert', priority: s.effectivePriority, intervalCs: s.params.advertIntervalCs });
  effects.push({ type: 'set-timer', timer: 'adver', at });
  return { state: update(s, { adverAt: at }), effects };
}

// ---------------------------------------------------------------------------------------------
// Helpers

function computeEffective(basePriority: number, configured: number, delta: number): number {
  if (basePriority === PRIO_OWNER) return PRIO_OWNER;
  // keepalived sums weights onto the configured priority (total_priority), even for a demoted owner.
  return Math.min(PRIO_OWNER - 1, Math.max(1, configured + delta));
}

function fullMasterDown(s: InstanceState): number {
  return masterDownIntervalUs(
    s.params.version,
    s.effectivePriority,
    s.masterAdverIntervalCs,
    s.params.downTimerAdverts,
  );
}

function adverIntervalUs(s: InstanceState): number {
  return s.params.advertIntervalCs * US_PER_CS;
}

function stopAdvert(s: InstanceState): Effect {
  return { type: 'send-advert', priority: PRIO_STOP, intervalCs: s.params.advertIntervalCs };
}

function transition(from: InstanceState, to: InstanceState, reason: TransitionReason, peer?: string): Effect {
  const { version, downTimerAdverts } = to.params;
  const effect: Effect = {
    type: 'transition',
    from: from.state,
    to: to.state,
    reason,
    effectivePriority: to.effectivePriority,
    masterAdverIntervalCs: to.masterAdverIntervalCs,
    skewUs: skewTimeUs(version, to.effectivePriority, to.masterAdverIntervalCs),
    masterDownUs: masterDownIntervalUs(
      version,
      to.effectivePriority,
      to.masterAdverIntervalCs,
      downTimerAdverts,
    ),
  };
  if (peer !== undefined) effect.peer = peer;
  return effect;
}

function noop(s: InstanceState): StepResult {
  return { state: s, effects: [] };
}

function update(s: InstanceState, patch: Partial<Omit<InstanceState, 'params'>>): InstanceState {
  return freeze({ ...s, ...patch });
}

function freeze(s: InstanceState): InstanceState {
  return Object.freeze(s);
}

/**
 * The equal-priority tie-break, like keepalived's vrrp_saddr_cmp → inet_inaddrcmp: 1 if `a` is the
 * larger address as a number, -1 if smaller. Different families or text that is not an address
 * give 0, as vrrp_saddr_cmp does for a family mismatch ("same address": no tie-break). Unlike
 * addr.ts's compareIp this never throws and never orders across families.
 */
export function compareTieBreakIp(a: string, b: string): -1 | 0 | 1 {
  const x = addressBytes(a);
  const y = addressBytes(b);
  if (x === null || y === null || x.length !== y.length) return 0;
  const d = Buffer.compare(x, y);
  return d > 0 ? 1 : d < 0 ? -1 : 0;
}

function addressBytes(ip: string): Buffer | null {
  const family = familyOf(ip.split('%')[0] ?? '');
  if (family === null) return null;
  const out = Buffer.alloc(addrLength(family));
  return writeIp(ip, family, out, 0) ? out : null;
}

function validateParams(p: InstanceParams): void {
  const where = `VRRP instance ${JSON.stringify(p.name)}`;
  const intIn = (v: number, lo: number, hi: number): boolean => Number.isInteger(v) && v >= lo && v <= hi;
  if (p.version !== 2 && p.version !== 3) {
    throw new Error(`${where}: version ${String(p.version)} is not supported; set version 2 or 3`);
  }
  if (!intIn(p.vrid, 1, 255))
    throw new Error(`${where}: vrid ${p.vrid} is outside 1..255; pick a vrid in 1..255`);
  if (!intIn(p.priority, 1, 255)) {
    throw new Error(`${where}: priority ${p.priority} is outside 1..255; set a priority in 1..255`);
  }
  if (!intIn(p.advertIntervalCs, 1, 4095)) {
    throw new Error(
      `${where}: advert interval ${p.advertIntervalCs} cs is outside 1..4095 cs (0.01..40.95 s); fix advert_int`,
    );
  }
  if (!intIn(p.downTimerAdverts, 1, 100)) {
    throw new Error(
      `${where}: down_timer_adverts ${p.downTimerAdverts} is outside 1..100; set 1..100 (default 3)`,
    );
  }
  if (!Number.isInteger(p.preemptDelayUs) || p.preemptDelayUs < 0) {
    throw new Error(
      `${where}: preempt delay ${p.preemptDelayUs} µs must be a non-negative integer; fix preempt_delay`,
    );
  }
  if (addressBytes(p.primaryIp) === null) {
    throw new Error(
      `${where}: primary IP ${JSON.stringify(p.primaryIp)} is not an IPv4/IPv6 address; set unicast_src_ip or an interface address`,
    );
  }
}
