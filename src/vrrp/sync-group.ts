/**
 * A vrrp_sync_group as a pure coordinator over its members' reducers (keepalived 2.2.7
 * vrrp_sync.c, try_up_instance / down_instance): members move together.
 *
 *  - A member whose own rules say MASTER emits `want-master` and stays BACKUP. When every other
 *    member is MASTER or wants MASTER too, the coordinator answers with `sync-master` for that
 *    member first (keeping its own reason), then for the others, so their adverts go out right
 *    after its one (vrrp_sync_master).
 *  - A member leaving MASTER for BACKUP on its own (a better master) takes the members that are
 *    MASTER with it: `sync-backup` (vrrp_sync_backup).
 *  - FAULT is shared: a member is faulty when it or any other member has a fault of its own, so
 *    one faulty member puts all of them in FAULT and they leave it together once none is faulty
 *    (num_member_fault). The driver reports each member's own faults with `memberFaults`.
 *
 * The group state is derived from the members: FAULT if any member is in FAULT, MASTER when all
 * are MASTER, INIT when all are INIT (stopped), else BACKUP. It changes at the same steps as
 * keepalived's explicit sgroup->state, and the driver runs the group's notify commands on each
 * change. No clocks, no sockets: the driver feeds every member step in and injects the returned
 * commands, in order, into the named members.
 */
import type { Effect, InstanceEvent, VrrpState } from './instance.js';

export type GroupState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';

type WantMaster = Extract<Effect, { type: 'want-master' }>;
type Transition = Extract<Effect, { type: 'transition' }>;

/** What the coordinator needs to know about a member after each of its steps. */
export interface MemberView {
  readonly state: VrrpState;
  readonly wantMaster: boolean;
}

interface Member extends MemberView {
  /** The member's own faults (its trackers), as last reported. */
  readonly ownFaults: readonly string[];
  /** The fault event last commanded, so only changes are sent. */
  readonly sentFault: { active: boolean; reason: string } | null;
}

export interface SyncGroupState {
  readonly name: string;
  /** In configured order: forced members follow it. */
  readonly members: readonly string[];
  readonly state: GroupState;
  readonly views: Readonly<Record<string, Member>>;
}

export interface SyncCommand {
  member: string;
  event: InstanceEvent;
}

export interface GroupTransition {
  group: string;
  from: GroupState;
  to: GroupState;
}

export interface SyncResult {
  state: SyncGroupState;
  /** Events to inject into members, in this order, synchronously. */
  commands: SyncCommand[];
  transition: GroupTransition | null;
}

export function createSyncGroup(name: string, members: readonly string[]): SyncGroupState {
  if (members.length === 0) throw new Error(`sync group ${name}: no members; list instances in its group`);
  if (new Set(members).size !== members.length) {
    throw new Error(`sync group ${name}: an instance is listed twice; list each member once`);
  }
  const views: Record<string, Member> = {};
  for (const m of members) views[m] = { state: 'INIT', wantMaster: false, ownFaults: [], sentFault: null };
  return Object.freeze({ name, members: Object.freeze([...members]), state: 'INIT', views });
}

/**
 * A member's reducer step happened (its own event or one this coordinator injected): its view
 * after the step and the step's effects.
 */
export function memberStepped(
  g: SyncGroupState,
  member: string,
  view: MemberView,
  effects: readonly Effect[],
): SyncResult {
  const before = memberOf(g, member);
  const next = withMember(g, member, { ...before, state: view.state, wantMaster: view.wantMaster });
  const commands: SyncCommand[] = [];

  const wish = effects.find((f): f is WantMaster => f.type === 'want-master');
  if (wish && view.state === 'BACKUP' && allOthersWantMaster(next, member)) {
    // vrrp_sync_can_goto_master said yes for the last one: it goes first, the rest follow.
    commands.push({ member, event: { type: 'sync-master', reason: wish.reason } });
    for (const m of next.members) {
      if (m !== member && next.views[m]?.state !== 'MASTER') {
        commands.push({ member: m, event: { type: 'sync-master' } });
      }
    }
  }

  const tr = effects.find((f): f is Transition => f.type === 'transition');
  if (tr && tr.from === 'MASTER' && tr.to === 'BACKUP' && tr.reason !== 'sync-group') {
    for (const m of next.members) {
      if (m !== member && next.views[m]?.state === 'MASTER') {
        commands.push({ member: m, event: { type: 'sync-backup' } });
      }
    }
  }

  return settle(next, g.state, commands);
}

/**
 * A member's own faults (its trackers, and the group's trackers it follows) changed. Returns the
 * fault events that make every member faulty while any member has a fault of its own: the member
 * that changed first, then the others in group order. Call it before `start` too, so no member
 * starts outside FAULT while another is faulty.
 */
export function memberFaults(g: SyncGroupState, member: string, faults: readonly string[]): SyncResult {
  const before = memberOf(g, member);
  let next = withMember(g, member, { ...before, ownFaults: [...faults] });
  const commands: SyncCommand[] = [];
  for (const m of [member, ...next.members.filter((x) => x !== member)]) {
    const want = groupFaultFor(next, m);
    const cur = memberOf(next, m);
    if (cur.sentFault && cur.sentFault.active === want.active && cur.sentFault.reason === want.reason)
      continue;
    // A member that was never told and is not faulty needs no event: the reducer starts clear.
    if (!cur.sentFault && !want.active) continue;
    next = withMember(next, m, { ...cur, sentFault: want });
    commands.push({ member: m, event: { type: 'fault', ...want } });
  }
  return settle(next, g.state, commands);
}

/** The group state as the members make it. */
export function deriveGroupState(g: SyncGroupState): GroupState {
  const states = g.members.map((m) => memberOf(g, m).state);
  if (states.includes('FAULT')) return 'FAULT';
  if (states.every((s) => s === 'INIT')) return 'INIT';
  // Members stopping or starting one by one: the group keeps its state until all are through.
  if (states.includes('INIT')) return g.state;
  if (states.every((s) => s === 'MASTER')) return 'MASTER';
  return 'BACKUP';
}

function settle(g: SyncGroupState, from: GroupState, commands: SyncCommand[]): SyncResult {
  const to = deriveGroupState(g);
  const state = to === g.state ? g : Object.freeze({ ...g, state: to });
  return { state, commands, transition: to === from ? null : { group: g.name, from, to } };
}

function allOthersWantMaster(g: SyncGroupState, member: string): boolean {
  return g.members.every((m) => {
    if (m === member) return true;
    const v = memberOf(g, m);
    return v.state === 'MASTER' || (v.state === 'BACKUP' && v.wantMaster);
  });
}

function groupFaultFor(g: SyncGroupState, member: string): { active: boolean; reason: string } {
  const own = memberOf(g, member).ownFaults;
  const others = g.members.filter((m) => m !== member && memberOf(g, m).ownFaults.length > 0);
  const parts = [...own, ...others.map((m) => `sync group ${g.name}: member ${m} is in fault`)];
  return { active: parts.length > 0, reason: parts.join('; ') };
}

function memberOf(g: SyncGroupState, member: string): Member {
  const v = g.views[member];
  if (!v) {
    throw new Error(
      `sync group ${g.name}: ${member} is not a member (members: ${g.members.join(', ')}); this is a floatip bug`,
    );
  }
  return v;
}

function withMember(g: SyncGroupState, member: string, v: Member): SyncGroupState {
  return Object.freeze({ ...g, views: Object.freeze({ ...g.views, [member]: Object.freeze(v) }) });
}
