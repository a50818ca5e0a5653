/**
 * The sync group coordinator driven the way the daemon drives it: real member reducers, every
 * member step fed to the coordinator, its commands injected in order in the same tick.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createInstance,
  nextDeadline,
  step,
  type Effect,
  type InstanceEvent,
  type InstanceParams,
  type InstanceState,
} from '../../src/vrrp/instance.js';
import {
  createSyncGroup,
  deriveGroupState,
  memberFaults,
  memberStepped,
  type GroupTransition,
  type SyncCommand,
  type SyncGroupState,
  type SyncResult,
} from '../../src/vrrp/sync-group.js';

const S = 1_000_000;
const PEER = '10.99.0.1';
const MASTER_DOWN = 3_609_375; // v2, prio 100, 1 s

/** Members of one group on one node, with a log of what went on the wire and what changed. */
class Node {
  g: SyncGroupState;
  readonly members = new Map<string, InstanceState>();
  /** "VI_1 advert 100", "VI_2 BACKUP>MASTER:sync-group", ... in execution order. */
  readonly log: string[] = [];
  readonly groupTransitions: string[] = [];
  private readonly queue: SyncCommand[] = [];

  constructor(names: string[], over: Partial<InstanceParams> = {}) {
    this.g = createSyncGroup('G', names);
    names.forEach((name, i) => {
      this.members.set(
        name,
        createInstance({
          name,
          version: 2,
          vrid: 51 + i,
          priority: 100,
          advertIntervalCs: 100,
          preempt: true,
          preemptDelayUs: 0,
          downTimerAdverts: 3,
          primaryIp: '10.99.0.2',
          syncGroup: true,
          ...over,
        }),
      );
    });
  }

  state(m: string): InstanceState {
    return this.members.get(m) ?? assert.fail(`no member ${m}`);
  }

  states(): string {
    return [...this.members.values()].map((s) => s.state).join(',');
  }

  event(member: string, e: InstanceEvent, now: number): void {
    this.queue.push({ member, event: e });
    this.drain(now);
  }

  faults(member: string, faults: string[], now: number): void {
    this.take(memberFaults(this.g, member, faults));
    this.drain(now);
  }

  /** Fire whichever timer is due on `member`. */
  fire(member: string): number {
    const d = nextDeadline(this.state(member)) ?? assert.fail(`${member} has no timer`);
    this.event(member, { type: 'timer', timer: d.timer }, d.at);
    return d.at;
  }

  private take(r: SyncResult): void {
    this.g = r.state;
    if (r.transition) this.groupTransitions.push(`${r.transition.from}>${r.transition.to}`);
    this.queue.push(...r.commands);
  }

  private drain(now: number): void {
    for (let cmd = this.queue.shift(); cmd; cmd = this.queue.shift()) {
      const r = step(this.state(cmd.member), cmd.event, now);
      this.members.set(cmd.member, r.state);
      for (const fx of r.effects) this.record(cmd.member, fx);
      this.take(memberStepped(this.g, cmd.member, r.state, r.effects));
    }
  }

  private record(m: string, fx: Effect): void {
    if (fx.type === 'send-advert') this.log.push(`${m} advert ${fx.priority}`);
    else if (fx.type === 'transition') this.log.push(`${m} ${fx.from}>${fx.to}:${fx.reason}`);
    else if (fx.type === 'want-master') this.log.push(`${m} want-master`);
  }
}

function started(names: string[], over: Partial<InstanceParams> = {}): Node {
  const n = new Node(names, over);
  for (const m of names) n.event(m, { type: 'start' }, 0);
  return n;
}

function allMaster(names: string[]): Node {
  const n = started(names);
  for (const m of names) n.fire(m);
  assert.equal(n.states(), names.map(() => 'MASTER').join(','));
  n.log.length = 0;
  n.groupTransitions.length = 0;
  return n;
}

const advert = (priority: number): InstanceEvent => ({
  type: 'advert',
  src: PEER,
  priority,
  intervalCs: 100,
});

void test('sync group: members start one by one; the group is BACKUP once all are up, told once', () => {
  const n = new Node(['VI_1', 'VI_2']);
  n.event('VI_1', { type: 'start' }, 0);
  assert.equal(n.g.state, 'INIT');
  n.event('VI_2', { type: 'start' }, 0);
  assert.equal(n.g.state, 'BACKUP');
  assert.deepEqual(n.groupTransitions, ['INIT>BACKUP']);
});

void test('sync group of 2: the first member to want MASTER waits; the second completes the group and goes first', () => {
  const n = started(['VI_1', 'VI_2']);
  n.fire('VI_1');
  assert.equal(n.states(), 'BACKUP,BACKUP');
  assert.equal(n.state('VI_1').wantMaster, true);
  assert.deepEqual(n.groupTransitions, ['INIT>BACKUP']);
  n.log.length = 0;
  n.fire('VI_2');
  assert.equal(n.states(), 'MASTER,MASTER');
  assert.deepEqual(n.log, [
    'VI_2 want-master',
    'VI_2 advert 100',
    'VI_2 BACKUP>MASTER:master-down-timer',
    'VI_1 advert 100',
    'VI_1 BACKUP>MASTER:sync-group',
  ]);
  assert.deepEqual(n.groupTransitions, ['INIT>BACKUP', 'BACKUP>MASTER']);
  // The held member's re-armed master_down is gone: only adver timers now.
  assert.equal(nextDeadline(n.state('VI_1'))?.timer, 'adver');
});

void test('sync group of 3: MASTER only when all three want it; an advert heard by one cancels its wish', () => {
  const n = started(['VI_1', 'VI_2', 'VI_3']);
  n.fire('VI_1');
  n.fire('VI_2');
  assert.equal(n.states(), 'BACKUP,BACKUP,BACKUP');
  // VI_2's master is back: it no longer wants MASTER, so VI_3's wish is not enough.
  n.event('VI_2', advert(150), 4 * S);
  assert.equal(n.state('VI_2').wantMaster, false);
  n.fire('VI_3');
  assert.equal(n.states(), 'BACKUP,BACKUP,BACKUP');
  assert.equal(n.g.state, 'BACKUP');
  // VI_2's master goes quiet: its Master_Down runs out and the group goes MASTER together.
  const at = n.fire('VI_2');
  assert.equal(at, 4 * S + MASTER_DOWN);
  assert.equal(n.states(), 'MASTER,MASTER,MASTER');
  assert.deepEqual(
    n.log.filter((l) => l.includes('>MASTER')),
    [
      'VI_2 BACKUP>MASTER:master-down-timer',
      'VI_1 BACKUP>MASTER:sync-group',
      'VI_3 BACKUP>MASTER:sync-group',
    ],
  );
  assert.equal(n.g.state, 'MASTER');
});

void test('sync group: a member that leaves MASTER for a better master takes the others to BACKUP, no priority 0', () => {
  for (const names of [
    ['VI_1', 'VI_2'],
    ['VI_1', 'VI_2', 'VI_3'],
  ]) {
    const n = allMaster(names);
    n.event('VI_1', advert(150), 20 * S);
    assert.equal(n.states(), names.map(() => 'BACKUP').join(','));
    assert.deepEqual(n.log, [
      'VI_1 MASTER>BACKUP:higher-priority-advert',
      ...names.slice(1).map((m) => `${m} MASTER>BACKUP:sync-group`),
    ]);
    assert.deepEqual(n.groupTransitions, ['MASTER>BACKUP']);
    for (const m of names.slice(1)) {
      assert.deepEqual(nextDeadline(n.state(m)), { timer: 'master_down', at: 20 * S + MASTER_DOWN }, m);
    }
  }
});

void test('sync group: the forced members do not come back alone while the member that lost hears its master', () => {
  const n = allMaster(['VI_1', 'VI_2']);
  n.event('VI_1', advert(150), 20 * S);
  n.fire('VI_2'); // its peer never shows up on VI_2's VRID
  assert.equal(n.states(), 'BACKUP,BACKUP');
  assert.equal(n.state('VI_2').wantMaster, true);
  assert.equal(n.g.state, 'BACKUP');
});

void test('sync group: one faulty member puts every member in FAULT, itself first', () => {
  const n = allMaster(['VI_1', 'VI_2', 'VI_3']);
  n.faults('VI_2', ['file chk_vi2 value 1'], 30 * S);
  assert.equal(n.states(), 'FAULT,FAULT,FAULT');
  assert.deepEqual(
    n.log.filter((l) => l.includes('>')),
    ['VI_2 MASTER>FAULT:fault', 'VI_1 MASTER>FAULT:fault', 'VI_3 MASTER>FAULT:fault'],
  );
  assert.deepEqual(n.groupTransitions, ['MASTER>FAULT']);
  assert.equal(n.state('VI_2').faultReason, 'file chk_vi2 value 1');
  assert.equal(n.state('VI_1').faultReason, 'sync group G: member VI_2 is in fault');
});

void test('sync group: FAULT ends only when no member is faulty, then all members go BACKUP together', () => {
  const n = started(['VI_1', 'VI_2']);
  n.faults('VI_2', ['interface eth1 down'], 1 * S);
  n.faults('VI_1', ['script chk down'], 2 * S);
  assert.equal(n.states(), 'FAULT,FAULT');
  n.faults('VI_2', [], 3 * S);
  assert.equal(n.states(), 'FAULT,FAULT', 'VI_1 is still faulty');
  assert.equal(n.state('VI_2').faultReason, 'sync group G: member VI_1 is in fault');
  n.log.length = 0;
  n.faults('VI_1', [], 4 * S);
  assert.equal(n.states(), 'BACKUP,BACKUP');
  assert.deepEqual(n.log, ['VI_1 FAULT>BACKUP:fault-cleared', 'VI_2 FAULT>BACKUP:fault-cleared']);
  assert.deepEqual(n.groupTransitions, ['INIT>BACKUP', 'BACKUP>FAULT', 'FAULT>BACKUP']);
});

void test('sync group: a fault known before start makes every member start in FAULT', () => {
  const n = new Node(['VI_1', 'VI_2']);
  n.faults('VI_1', ['script chk down'], 0);
  assert.deepEqual(n.log, [], 'no transition before start');
  n.event('VI_1', { type: 'start' }, 0);
  n.event('VI_2', { type: 'start' }, 0);
  assert.equal(n.states(), 'FAULT,FAULT');
  assert.deepEqual(n.groupTransitions, ['INIT>FAULT']);
});

void test('sync group: a member without faults before start gets no fault event at all', () => {
  const g = createSyncGroup('G', ['VI_1', 'VI_2']);
  const r = memberFaults(g, 'VI_1', []);
  assert.deepEqual(r.commands, []);
  assert.equal(r.transition, null);
});

void test('sync group: address owners start waiting and go MASTER together once the last one starts', () => {
  const n = new Node(['VI_1', 'VI_2'], { priority: 255 });
  n.event('VI_1', { type: 'start' }, 0);
  assert.equal(n.state('VI_1').state, 'BACKUP');
  n.event('VI_2', { type: 'start' }, 0);
  assert.equal(n.states(), 'MASTER,MASTER');
  assert.deepEqual(
    n.log.filter((l) => l.includes('>MASTER')),
    ['VI_2 BACKUP>MASTER:priority-owner', 'VI_1 BACKUP>MASTER:sync-group'],
  );
});

void test('sync group: stopping all members ends in INIT (notify STOP); one member stopping first changes nothing', () => {
  const n = allMaster(['VI_1', 'VI_2']);
  n.event('VI_1', { type: 'shutdown' }, 40 * S);
  assert.equal(n.g.state, 'MASTER');
  assert.equal(n.state('VI_2').state, 'MASTER', 'shutdown is not a reason to sync BACKUP');
  n.event('VI_2', { type: 'shutdown' }, 40 * S);
  assert.deepEqual(n.groupTransitions, ['MASTER>INIT']);
});

void test('coordinator: a wish while another member is in FAULT or not wanting gives no command', () => {
  const wish: Effect[] = [{ type: 'want-master', reason: 'master-down-timer' }];
  let g = createSyncGroup('G', ['A', 'B']);
  g = memberStepped(g, 'B', { state: 'FAULT', wantMaster: false }, []).state;
  assert.deepEqual(memberStepped(g, 'A', { state: 'BACKUP', wantMaster: true }, wish).commands, []);
  g = memberStepped(g, 'B', { state: 'BACKUP', wantMaster: false }, []).state;
  assert.deepEqual(memberStepped(g, 'A', { state: 'BACKUP', wantMaster: true }, wish).commands, []);
  g = memberStepped(g, 'B', { state: 'BACKUP', wantMaster: true }, []).state;
  const cmds = memberStepped(g, 'A', { state: 'BACKUP', wantMaster: true }, wish).commands;
  assert.deepEqual(cmds, [
    { member: 'A', event: { type: 'sync-master', reason: 'master-down-timer' } },
    { member: 'B', event: { type: 'sync-master' } },
  ]);
});

void test('coordinator: group state follows the members', () => {
  let g = createSyncGroup('G', ['A', 'B']);
  const set = (m: string, state: InstanceState['state']): GroupTransition | null => {
    const r = memberStepped(g, m, { state, wantMaster: false }, []);
    g = r.state;
    return r.transition;
  };
  assert.equal(set('A', 'BACKUP'), null, 'B still starting');
  assert.deepEqual(set('B', 'BACKUP'), { group: 'G', from: 'INIT', to: 'BACKUP' });
  assert.equal(set('A', 'MASTER'), null);
  assert.deepEqual(set('B', 'MASTER'), { group: 'G', from: 'BACKUP', to: 'MASTER' });
  assert.deepEqual(set('A', 'FAULT'), { group: 'G', from: 'MASTER', to: 'FAULT' });
  assert.equal(deriveGroupState(g), 'FAULT');
});

void test('coordinator: rejects unknown members and empty or duplicate member lists', () => {
  assert.throws(() => createSyncGroup('G', []), /no members/);
  assert.throws(() => createSyncGroup('G', ['A', 'A']), /listed twice/);
  const g = createSyncGroup('G', ['A', 'B']);
  assert.throws(() => memberStepped(g, 'C', { state: 'BACKUP', wantMaster: false }, []), /not a member/);
});
