/**
 * The VRRP reducer as a vrrp_sync_group member (params.syncGroup): it never promotes itself, it
 * says `want-master` and waits for the coordinator's `sync-master` (keepalived 2.2.7
 * vrrp_sync_can_goto_master / vrrp_sync_master / vrrp_sync_backup).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { params as base, run } from './instance-fixtures.js';
import {
  createInstance,
  nextDeadline,
  step,
  type Effect,
  type InstanceEvent,
  type InstanceParams,
  type InstanceState,
} from '../../src/vrrp/instance.js';

const S = 1_000_000;
const PEER = '10.99.0.1';
/** v2, priority 100, 1 s: Skew 609_375 µs, Master_Down 3_609_375 µs. */
const MASTER_DOWN = 3_609_375;

/** A sync group member unless `over` says otherwise. */
const params = (over: Partial<InstanceParams> = {}): InstanceParams => base({ syncGroup: true, ...over });

const start: InstanceEvent = { type: 'start' };
const fireDown: InstanceEvent = { type: 'timer', timer: 'master_down' };
const advert = (priority: number, intervalCs = 100): InstanceEvent => ({
  type: 'advert',
  src: PEER,
  priority,
  intervalCs,
});

/** A member held in BACKUP at t = MASTER_DOWN with wantMaster set. */
function held(over: Partial<InstanceParams> = {}): InstanceState {
  const s = run(params(over), [
    [0, start],
    [MASTER_DOWN, fireDown],
  ]).s;
  assert.equal(s.state, 'BACKUP');
  assert.equal(s.wantMaster, true);
  return s;
}

function transitionOf(fx: Effect[]): string | null {
  const tr = fx.find((f) => f.type === 'transition');
  return tr?.type === 'transition' ? `${tr.from}>${tr.to}:${tr.reason}` : null;
}

void test('sync member: master_down firing holds it in BACKUP, wanting MASTER, re-armed by a full Master_Down', () => {
  const { s, fx } = run(params(), [
    [0, start],
    [MASTER_DOWN, fireDown],
  ]);
  assert.equal(s.state, 'BACKUP');
  assert.equal(s.wantMaster, true);
  assert.deepEqual(fx, [
    { type: 'set-timer', timer: 'master_down', at: 2 * MASTER_DOWN },
    { type: 'want-master', reason: 'master-down-timer' },
  ]);
  assert.equal(s.msDownTimerUs, MASTER_DOWN);
  assert.deepEqual(nextDeadline(s), { timer: 'master_down', at: 2 * MASTER_DOWN });
});

void test('sync member: the re-arm uses the Master_Adver_Interval learnt from a v3 master', () => {
  // v3, prio 100, master interval 50 cs: 3 × 0.5 s + floor(156 × 50 × 625 / 16) = 1_804_687 µs.
  const waiting = run(params({ version: 3 }), [
    [0, start],
    [1 * S, advert(150, 50)],
    [2 * S, advert(50, 50)], // lower priority, preempt: discarded, deadline kept
  ]).s;
  const at = nextDeadline(waiting)?.at ?? assert.fail('no deadline');
  assert.equal(at, 1 * S + 1_804_687);
  const { s, fx } = run(waiting, [[at, fireDown]]);
  assert.deepEqual(fx, [
    { type: 'set-timer', timer: 'master_down', at: at + 1_804_687 },
    { type: 'want-master', reason: 'preempted-by-higher-priority' },
  ]);
  assert.equal(s.wantMaster, true);
});

void test('sync member: firing again while still held re-arms again and says want-master again', () => {
  const { s, fx } = run(held(), [[2 * MASTER_DOWN, fireDown]]);
  assert.equal(s.state, 'BACKUP');
  assert.deepEqual(fx, [
    { type: 'set-timer', timer: 'master_down', at: 3 * MASTER_DOWN },
    { type: 'want-master', reason: 'master-down-timer' },
  ]);
});

void test('sync member: a priority-0 advert gives Skew_Time, and the wish that follows says why', () => {
  const waiting = run(params(), [
    [0, start],
    [1 * S, advert(150)],
    [2 * S, advert(0)],
  ]).s;
  const { s, fx } = run(waiting, [[2 * S + 609_375, fireDown]]);
  assert.equal(s.state, 'BACKUP');
  assert.deepEqual(fx.at(-1), { type: 'want-master', reason: 'priority-zero-received' });
});

void test('sync member: an accepted advert clears wantMaster (the master is back); priority 0 and discarded ones do not', () => {
  const h = held();
  assert.equal(run(h, [[8 * S, advert(150)]]).s.wantMaster, false, 'higher priority');
  assert.equal(run(h, [[8 * S, advert(100)]]).s.wantMaster, false, 'equal priority');
  assert.equal(run(h, [[8 * S, advert(50)]]).s.wantMaster, true, 'lower priority, discarded under preempt');
  assert.equal(run(h, [[8 * S, advert(0)]]).s.wantMaster, true, 'priority 0');
  assert.equal(
    run(held({ preempt: false }), [[8 * S, advert(50)]]).s.wantMaster,
    false,
    'nopreempt accepts any',
  );
});

void test('sync member: sync-master from a held BACKUP is a normal MASTER entry with the given reason', () => {
  const at = 8 * S;
  const { s, fx } = run(held(), [[at, { type: 'sync-master', reason: 'master-down-timer' }]]);
  assert.equal(s.state, 'MASTER');
  assert.equal(s.wantMaster, false);
  assert.equal(s.masterDownAt, null);
  assert.deepEqual(fx.slice(0, 3), [
    { type: 'clear-timer', timer: 'master_down' },
    { type: 'send-advert', priority: 100, intervalCs: 100 },
    { type: 'set-timer', timer: 'adver', at: at + 1 * S },
  ]);
  assert.equal(transitionOf(fx), 'BACKUP>MASTER:master-down-timer');
});

void test('sync member: sync-master without a reason says sync-group, and works on a BACKUP that did not ask', () => {
  const backup = run(params(), [[0, start]]).s;
  const { s, fx } = run(backup, [[1 * S, { type: 'sync-master' }]]);
  assert.equal(s.state, 'MASTER');
  assert.equal(transitionOf(fx), 'BACKUP>MASTER:sync-group');
  assert.equal(fx[0]?.type, 'clear-timer');
});

void test('sync member: sync-master is ignored in MASTER, FAULT and INIT', () => {
  const master = run(held(), [[8 * S, { type: 'sync-master' }]]).s;
  const faulty = run(params(), [
    [0, { type: 'fault', active: true, reason: 'x' }],
    [1, start],
  ]).s;
  const init = createInstance(params());
  for (const s of [master, faulty, init]) {
    const r = step(s, { type: 'sync-master' }, 9 * S);
    assert.equal(r.state, s, s.state);
    assert.deepEqual(r.effects, [], s.state);
  }
});

void test('sync member: sync-backup takes a MASTER to BACKUP without a priority-0 advert, full Master_Down armed', () => {
  const master = run(held(), [[8 * S, { type: 'sync-master' }]]).s;
  const at = 8 * S + 500_000;
  const { s, fx } = run(master, [[at, { type: 'sync-backup' }]]);
  assert.equal(s.state, 'BACKUP');
  assert.equal(s.adverAt, null);
  assert.equal(s.wantMaster, false);
  assert.equal(s.nextMasterReason, 'master-down-timer');
  assert.deepEqual(fx, [
    { type: 'clear-timer', timer: 'adver' },
    { type: 'set-timer', timer: 'master_down', at: at + MASTER_DOWN },
    {
      type: 'transition',
      from: 'MASTER',
      to: 'BACKUP',
      reason: 'sync-group',
      effectivePriority: 100,
      masterAdverIntervalCs: 100,
      skewUs: 609_375,
      masterDownUs: MASTER_DOWN,
    },
  ]);
  assert.ok(!fx.some((f) => f.type === 'send-advert'));
});

void test('sync member: sync-backup leaves BACKUP, FAULT and INIT alone', () => {
  for (const s of [held(), createInstance(params())]) {
    const r = step(s, { type: 'sync-backup' }, 9 * S);
    assert.equal(r.state, s);
    assert.deepEqual(r.effects, []);
  }
});

void test('sync member: an address owner starts in BACKUP wanting MASTER, one interval + minimal skew', () => {
  const { s, fx } = run(params({ priority: 255 }), [[2 * S, start]]);
  assert.equal(s.state, 'BACKUP');
  assert.equal(s.wantMaster, true);
  // v2: skew with (256 - 255) = floor(1e6 / 256) = 3_906 µs.
  assert.deepEqual(fx[0], { type: 'set-timer', timer: 'master_down', at: 3 * S + 3_906 });
  assert.equal(transitionOf(fx), 'INIT>BACKUP:startup');
  assert.deepEqual(fx.at(-1), { type: 'want-master', reason: 'priority-owner' });
  assert.ok(!fx.some((f) => f.type === 'send-advert'));
});

void test('sync member: FAULT and shutdown forget the wish', () => {
  const h = held();
  assert.equal(run(h, [[8 * S, { type: 'fault', active: true, reason: 'x' }]]).s.wantMaster, false);
  assert.equal(run(h, [[8 * S, { type: 'shutdown' }]]).s.wantMaster, false);
});

void test('not a sync member (the default): master_down still goes MASTER by itself', () => {
  const { s } = run(params({ syncGroup: false }), [
    [0, start],
    [MASTER_DOWN, fireDown],
  ]);
  assert.equal(s.state, 'MASTER');
  assert.equal(s.wantMaster, false);
  const def = { ...params() };
  delete def.syncGroup;
  assert.equal(
    run(def, [
      [0, start],
      [MASTER_DOWN, fireDown],
    ]).s.state,
    'MASTER',
    'default is off',
  );
});
