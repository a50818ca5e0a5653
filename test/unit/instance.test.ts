import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ME, params, run } from './instance-fixtures.js';
import {
  compareTieBreakIp,
  createInstance,
  effectivePriority,
  nextDeadline,
  step,
  type InstanceEvent,
  type InstanceParams,
  type InstanceState,
  type TimerName,
} from '../../src/vrrp/instance.js';

const S = 1_000_000; // µs per second

const HIGHER_IP = '10.99.0.3';
const LOWER_IP = '10.99.0.1';

type Timed = [number, InstanceEvent];

const start: InstanceEvent = { type: 'start' };
const advert = (src: string, priority: number, intervalCs = 100): InstanceEvent => ({
  type: 'advert',
  src,
  priority,
  intervalCs,
});
const fire = (timer: TimerName): InstanceEvent => ({ type: 'timer', timer });
const weights = (delta: number): InstanceEvent => ({ type: 'weights', delta });
const fault = (active: boolean): InstanceEvent => ({
  type: 'fault',
  active,
  reason: 'track_script chk down',
});

/** A v2 1 s prio-100 instance made MASTER at t = 0 by its master_down timer. */
function masterAt(p: InstanceParams): InstanceState {
  const started = run(p, [[0, start]]).s;
  const at = nextDeadline(started)?.at ?? assert.fail('no deadline after start');
  const { s } = run(started, [[at, fire('master_down')]]);
  assert.equal(s.state, 'MASTER');
  return s;
}

// --- start ------------------------------------------------------------------------------------

void test('start: a non-owner goes INIT → BACKUP with the full Master_Down timer', () => {
  const { s, fx } = run(params(), [[1 * S, start]]);
  assert.equal(s.state, 'BACKUP');
  assert.deepEqual(fx, [
    { type: 'set-timer', timer: 'master_down', at: 1 * S + 3_609_375 },
    {
      type: 'transition',
      from: 'INIT',
      to: 'BACKUP',
      reason: 'startup',
      effectivePriority: 100,
      masterAdverIntervalCs: 100,
      skewUs: 609_375,
      masterDownUs: 3_609_375,
    },
  ]);
});

void test('start: priority 255 goes straight to MASTER, sends an advert at once and arms adver', () => {
  const { s, fx } = run(params({ priority: 255 }), [[2 * S, start]]);
  assert.equal(s.state, 'MASTER');
  assert.deepEqual(fx, [
    { type: 'send-advert', priority: 255, intervalCs: 100 },
    { type: 'set-timer', timer: 'adver', at: 3 * S },
    {
      type: 'transition',
      from: 'INIT',
      to: 'MASTER',
      reason: 'priority-owner',
      effectivePriority: 255,
      masterAdverIntervalCs: 100,
      skewUs: 3_906,
      masterDownUs: 3_003_906,
    },
  ]);
});

void test('start: a fault reported before start makes the instance start in FAULT', () => {
  const before = run(params(), [[0, fault(true)]]);
  assert.equal(before.s.state, 'INIT');
  assert.deepEqual(before.fx, []);
  const { s, fx } = run(before.s, [[1, start]]);
  assert.equal(s.state, 'FAULT');
  assert.equal(nextDeadline(s), null);
  assert.equal(fx.length, 1);
  assert.deepEqual(fx[0], {
    type: 'transition',
    from: 'INIT',
    to: 'FAULT',
    reason: 'fault',
    effectivePriority: 100,
    masterAdverIntervalCs: 100,
    skewUs: 609_375,
    masterDownUs: 3_609_375,
  });
});

// --- BACKUP -----------------------------------------------------------------------------------

void test('backup: master_down fires → MASTER 3.609375 s after the last advert (capture cap_fail)', () => {
  const { s: waiting, fx: armed } = run(params(), [
    [0, start],
    [10 * S, advert(LOWER_IP, 150)],
  ]);
  assert.deepEqual(armed, [{ type: 'set-timer', timer: 'master_down', at: 13_609_375 }]);
  const { s, fx } = run(waiting, [[13_609_375, fire('master_down')]]);
  assert.equal(s.state, 'MASTER');
  assert.deepEqual(fx, [
    { type: 'send-advert', priority: 100, intervalCs: 100 },
    { type: 'set-timer', timer: 'adver', at: 14_609_375 },
    {
      type: 'transition',
      from: 'BACKUP',
      to: 'MASTER',
      reason: 'master-down-timer',
      effectivePriority: 100,
      masterAdverIntervalCs: 100,
      skewUs: 609_375,
      masterDownUs: 3_609_375,
    },
  ]);
});

void test('backup: priority-0 advert arms master_down at Skew_Time (0.609375 s, capture cap_fail)', () => {
  const { s: waiting, fx } = run(params(), [
    [0, start],
    [5 * S, advert(LOWER_IP, 150)],
    [6 * S, advert(LOWER_IP, 0)],
  ]);
  assert.deepEqual(fx, [{ type: 'set-timer', timer: 'master_down', at: 6_609_375 }]);
  const { s, fx: took } = run(waiting, [[6_609_375, fire('master_down')]]);
  assert.equal(s.state, 'MASTER');
  assert.deepEqual(took.slice(0, 2), [
    { type: 'send-advert', priority: 100, intervalCs: 100 },
    { type: 'set-timer', timer: 'adver', at: 7_609_375 },
  ]);
  const tr = took[2];
  assert.equal(tr?.type === 'transition' ? tr.reason : null, 'priority-zero-received');
});

const resetCases: { rule: string; p: Partial<InstanceParams>; prio: number }[] = [
  { rule: 'higher priority', p: {}, prio: 150 },
  { rule: 'equal priority', p: {}, prio: 100 },
  { rule: 'lower priority without preempt', p: { preempt: false }, prio: 50 },
];

void test('backup: advert with priority ≥ ours, or any advert without preempt, resets master_down', () => {
  for (const c of resetCases) {
    const { s, fx } = run(params(c.p), [
      [0, start],
      [7 * S, advert(LOWER_IP, c.prio)],
    ]);
    assert.equal(s.state, 'BACKUP', c.rule);
    assert.deepEqual(fx, [{ type: 'set-timer', timer: 'master_down', at: 7 * S + 3_609_375 }], c.rule);
    assert.equal(s.masterIp, LOWER_IP, c.rule);
  }
});

void test('backup: lower-priority advert with preempt is ignored and master_down runs out (preempted)', () => {
  const { s: waiting, fx } = run(params(), [
    [0, start],
    [1 * S, advert(LOWER_IP, 50)],
  ]);
  assert.deepEqual(fx, []);
  assert.deepEqual(nextDeadline(waiting), { timer: 'master_down', at: 3_609_375 });
  const { s, fx: took } = run(waiting, [[3_609_375, fire('master_down')]]);
  assert.equal(s.state, 'MASTER');
  const tr = took.find((f) => f.type === 'transition');
  assert.equal(tr?.type === 'transition' ? tr.reason : null, 'preempted-by-higher-priority');
});

void test('backup v3: adopts the advertised interval as Master_Adver_Interval before arming master_down', () => {
  const p = params({ version: 3, advertIntervalCs: 100 });
  const { s, fx } = run(p, [
    [0, start],
    [1 * S, advert(LOWER_IP, 150, 50)],
  ]);
  // 3 × 0.5 s + (156 × 50 × 625) / 16 µs
  assert.deepEqual(fx, [{ type: 'set-timer', timer: 'master_down', at: 1 * S + 1_804_687 }]);
  assert.equal(s.masterAdverIntervalCs, 50);
  // Becoming MASTER, it advertises and times with its own interval again.
  const { s: m, fx: took } = run(s, [[1 * S + 1_804_687, fire('master_down')]]);
  assert.equal(m.masterAdverIntervalCs, 100);
  assert.deepEqual(took.slice(0, 2), [
    { type: 'send-advert', priority: 100, intervalCs: 100 },
    { type: 'set-timer', timer: 'adver', at: 1 * S + 1_804_687 + 1 * S },
  ]);
});

void test('backup v2: keeps its own interval whatever the advert carries', () => {
  const { s, fx } = run(params({ version: 2 }), [
    [0, start],
    [1 * S, advert(LOWER_IP, 150, 300)],
  ]);
  assert.equal(s.masterAdverIntervalCs, 100);
  assert.deepEqual(fx, [{ type: 'set-timer', timer: 'master_down', at: 1 * S + 3_609_375 }]);
});

void test('backup: preempt_delay tolerates a lower-priority master until the delay from its first advert', () => {
  const p = params({ preemptDelayUs: 5 * S });
  let s = run(p, [[0, start]]).s;
  // Adverts at 1..5 s; the countdown starts at the first (1 s) and ends at 6 s.
  for (let t = 1; t <= 5; t++) {
    const r = run(s, [[t * S, advert(LOWER_IP, 50)]]);
    assert.deepEqual(r.fx, [{ type: 'set-timer', timer: 'master_down', at: t * S + 3_609_375 }], `t=${t}`);
    s = r.s;
  }
  assert.equal(s.preemptAt, 6 * S);
  // From 6 s on (keepalived: preempt_time no longer > now) lower adverts are discarded.
  const ignored = run(s, [[6 * S, advert(LOWER_IP, 50)]]);
  assert.deepEqual(ignored.fx, []);
  const { s: m, fx } = run(ignored.s, [[5 * S + 3_609_375, fire('master_down')]]);
  assert.equal(m.state, 'MASTER');
  const tr = fx.find((f) => f.type === 'transition');
  assert.equal(tr?.type === 'transition' ? tr.reason : null, 'preempted-by-higher-priority');
});

void test('backup: an advert at least as good as ours cancels a running preempt_delay', () => {
  const p = params({ preemptDelayUs: 5 * S });
  const { s } = run(p, [
    [0, start],
    [1 * S, advert(LOWER_IP, 50)], // countdown to 6 s
    [2 * S, advert(HIGHER_IP, 150)], // cancelled
    [3 * S, advert(LOWER_IP, 50)], // new countdown to 8 s
  ]);
  assert.equal(s.preemptAt, 8 * S);
  assert.deepEqual(run(s, [[7_999_999, advert(LOWER_IP, 50)]]).fx, [
    { type: 'set-timer', timer: 'master_down', at: 7_999_999 + 3_609_375 },
  ]);
  assert.deepEqual(run(s, [[8 * S, advert(LOWER_IP, 50)]]).fx, []);
});

// --- MASTER -----------------------------------------------------------------------------------

void test('master: adver fires → advert with the effective priority, timer rearmed', () => {
  const m = masterAt(params());
  const at = m.adverAt ?? assert.fail('adver not armed');
  const { s, fx } = run(m, [[at + 250, fire('adver')]]);
  assert.equal(s.state, 'MASTER');
  assert.deepEqual(fx, [
    { type: 'send-advert', priority: 100, intervalCs: 100 },
    { type: 'set-timer', timer: 'adver', at: at + 250 + 1 * S },
  ]);
});

void test('master: priority-0 advert → advert at once, adver rearmed, stays MASTER', () => {
  const m = masterAt(params());
  const { s, fx } = run(m, [[4 * S, advert(HIGHER_IP, 0)]]);
  assert.equal(s.state, 'MASTER');
  assert.deepEqual(fx, [
    { type: 'send-advert', priority: 100, intervalCs: 100 },
    { type: 'set-timer', timer: 'adver', at: 5 * S },
  ]);
});

void test('master: lower priority, or equal priority from a lower IP → advert at once, stays MASTER', () => {
  for (const [src, prio] of [
    [HIGHER_IP, 99],
    [LOWER_IP, 100],
  ] as const) {
    const { s, fx } = run(masterAt(params()), [[4 * S, advert(src, prio)]]);
    assert.equal(s.state, 'MASTER', `${src} ${prio}`);
    assert.deepEqual(
      fx,
      [
        { type: 'send-advert', priority: 100, intervalCs: 100 },
        { type: 'set-timer', timer: 'adver', at: 5 * S },
      ],
      `${src} ${prio}`,
    );
  }
});

void test('master: higher-priority advert → BACKUP with master_down armed from that advert', () => {
  const { s, fx } = run(masterAt(params()), [[4 * S, advert(LOWER_IP, 150)]]);
  assert.equal(s.state, 'BACKUP');
  assert.deepEqual(fx, [
    { type: 'clear-timer', timer: 'adver' },
    { type: 'set-timer', timer: 'master_down', at: 4 * S + 3_609_375 },
    {
      type: 'transition',
      from: 'MASTER',
      to: 'BACKUP',
      reason: 'higher-priority-advert',
      effectivePriority: 100,
      masterAdverIntervalCs: 100,
      skewUs: 609_375,
      masterDownUs: 3_609_375,
      peer: LOWER_IP,
    },
  ]);
});

void test('master: equal priority from a higher IP → BACKUP (addresses compared as numbers)', () => {
  // "10.99.0.10" sorts before "10.99.0.9" as text but is the larger address.
  const p = params({ primaryIp: '10.99.0.9' });
  const { s, fx } = run(masterAt(p), [[4 * S, advert('10.99.0.10', 100)]]);
  assert.equal(s.state, 'BACKUP');
  const tr = fx.find((f) => f.type === 'transition');
  assert.equal(tr?.type === 'transition' ? tr.reason : null, 'equal-priority-higher-ip');
  assert.equal(tr?.type === 'transition' ? tr.peer : null, '10.99.0.10');
});

void test('master v3: a higher-priority advert’s interval becomes Master_Adver_Interval', () => {
  const { s, fx } = run(masterAt(params({ version: 3 })), [[4 * S, advert(LOWER_IP, 150, 50)]]);
  assert.equal(s.state, 'BACKUP');
  assert.equal(s.masterAdverIntervalCs, 50);
  assert.deepEqual(fx[1], { type: 'set-timer', timer: 'master_down', at: 4 * S + 1_804_687 });
});

void test('master: equal priority from our own address only rearms the adver timer', () => {
  const { s, fx } = run(masterAt(params()), [[4 * S, advert(ME, 100)]]);
  assert.equal(s.state, 'MASTER');
  assert.deepEqual(fx, [{ type: 'set-timer', timer: 'adver', at: 5 * S }]);
});

void test('master: an owner hearing another owner drops itself to 254 and becomes BACKUP (keepalived)', () => {
  const owner = run(params({ priority: 255 }), [[0, start]]).s;
  const { s, fx } = run(owner, [[1 * S, advert(LOWER_IP, 255)]]);
  assert.equal(s.state, 'BACKUP');
  assert.equal(effectivePriority(s), 254);
  assert.deepEqual(fx[0], { type: 'priority-changed', from: 255, to: 254 });
  const tr = fx.find((f) => f.type === 'transition');
  assert.equal(tr?.type === 'transition' ? tr.reason : null, 'higher-priority-advert');
  // A restart restores the configured owner priority.
  const restarted = run(s, [
    [2 * S, { type: 'shutdown' }],
    [3 * S, start],
  ]).s;
  assert.equal(restarted.state, 'MASTER');
  assert.equal(effectivePriority(restarted), 255);
});

// --- effective priority -----------------------------------------------------------------------

void test('priority: effective = clamp(base + Σweights, 1, 254) and each change emits priority-changed', () => {
  const cases: [base: number, delta: number, eff: number][] = [
    [100, 20, 120],
    [100, -20, 80],
    [100, -150, 1],
    [100, 200, 254],
    [254, 1, 254],
    [1, -5, 1],
    [200, 54, 254],
  ];
  for (const [base, delta, eff] of cases) {
    const { s, fx } = run(params({ priority: base }), [[0, weights(delta)]]);
    assert.equal(effectivePriority(s), eff, `${base}+${delta}`);
    assert.deepEqual(
      fx,
      eff === base ? [] : [{ type: 'priority-changed', from: base, to: eff }],
      `${base}+${delta}`,
    );
  }
});

void test('priority: base 255 never changes with weights', () => {
  const { s, fx } = run(params({ priority: 255 }), [
    [0, start],
    [1, weights(-100)],
  ]);
  assert.equal(effectivePriority(s), 255);
  assert.deepEqual(fx, []);
});

void test('priority: a weights event replaces the previous delta rather than adding to it', () => {
  const { s, fx } = run(params(), [
    [0, weights(-10)],
    [1, weights(-30)],
  ]);
  assert.equal(effectivePriority(s), 70);
  assert.deepEqual(fx, [{ type: 'priority-changed', from: 90, to: 70 }]);
});

void test('priority in BACKUP: the armed master_down moves by the change in Master_Down at once', () => {
  const { s, fx } = run(params(), [
    [0, start],
    [1 * S, advert(LOWER_IP, 150)], // deadline 1 s + 3.609375 s
    [2 * S, weights(-50)], // prio 50: Master_Down 3 s + 206/256 s = 3.804687 s
  ]);
  assert.deepEqual(fx, [
    { type: 'priority-changed', from: 100, to: 50 },
    { type: 'set-timer', timer: 'master_down', at: 1 * S + 3_804_687 },
  ]);
  assert.deepEqual(nextDeadline(s), { timer: 'master_down', at: 1 * S + 3_804_687 });
});

void test('priority in BACKUP after a priority-0 advert: keepalived shifts from Skew to the full Master_Down', () => {
  // vrrp_set_effective_priority compares against ms_down_timer, which is only Skew_Time here.
  const { fx } = run(params(), [
    [0, start],
    [1 * S, advert(LOWER_IP, 0)], // deadline 1 s + 0.609375 s
    [1 * S + 100, weights(10)], // prio 110: Master_Down 3 s + 146/256 s = 3.570312 s
  ]);
  assert.deepEqual(fx, [
    { type: 'priority-changed', from: 100, to: 110 },
    { type: 'set-timer', timer: 'master_down', at: 1 * S + 609_375 + (3_570_312 - 609_375) },
  ]);
});

void test('priority in MASTER: nothing immediate; the next advert carries the new priority', () => {
  const m = masterAt(params());
  const { s, fx } = run(m, [[4 * S, weights(-60)]]);
  assert.equal(s.state, 'MASTER');
  assert.deepEqual(fx, [{ type: 'priority-changed', from: 100, to: 40 }]);
  const at = s.adverAt ?? assert.fail('adver not armed');
  assert.deepEqual(run(s, [[at, fire('adver')]]).fx[0], {
    type: 'send-advert',
    priority: 40,
    intervalCs: 100,
  });
});

// --- FAULT ------------------------------------------------------------------------------------

void test('fault: MASTER → FAULT sends priority 0 twice, as keepalived does, and clears adver', () => {
  const { s, fx } = run(masterAt(params()), [[4 * S, fault(true)]]);
  assert.equal(s.state, 'FAULT');
  assert.equal(nextDeadline(s), null);
  assert.deepEqual(fx.slice(0, 3), [
    { type: 'clear-timer', timer: 'adver' },
    { type: 'send-advert', priority: 0, intervalCs: 100 },
    { type: 'send-advert', priority: 0, intervalCs: 100 },
  ]);
  const tr = fx[3];
  assert.equal(tr?.type === 'transition' && `${tr.from}>${tr.to}:${tr.reason}`, 'MASTER>FAULT:fault');
});

void test('fault: BACKUP → FAULT clears master_down and sends nothing', () => {
  const { s, fx } = run(params(), [
    [0, start],
    [1 * S, fault(true)],
  ]);
  assert.equal(s.state, 'FAULT');
  assert.deepEqual(fx[0], { type: 'clear-timer', timer: 'master_down' });
  assert.equal(fx.length, 2);
  assert.equal(s.faultReason, 'track_script chk down');
});

void test('fault: adverts are ignored in FAULT', () => {
  const { s: f } = run(params(), [
    [0, start],
    [1 * S, fault(true)],
  ]);
  for (const prio of [0, 50, 100, 255]) {
    const r = step(f, advert(LOWER_IP, prio), 2 * S);
    assert.equal(r.state, f, `prio ${prio}`);
    assert.deepEqual(r.effects, []);
  }
});

void test('fault cleared: FAULT → BACKUP with a full master_down timer, our own interval, even for an owner', () => {
  // Non-owner: was BACKUP behind a v3 master advertising 0.5 s; owner: was MASTER.
  const cases: [prio: number, before: Timed[], masterDownUs: number][] = [
    [100, [[1 * S, advert(LOWER_IP, 255, 50)]], 3_609_375],
    [255, [], 3_003_906],
  ];
  for (const [prio, before, md] of cases) {
    const p = params({ priority: prio, version: 3 });
    const { s, fx } = run(p, [[0, start], ...before, [2 * S, fault(true)], [5 * S, fault(false)]]);
    assert.equal(s.state, 'BACKUP', `prio ${prio}`);
    assert.equal(s.masterAdverIntervalCs, 100);
    assert.deepEqual(fx[0], { type: 'set-timer', timer: 'master_down', at: 5 * S + md }, `prio ${prio}`);
    const tr = fx[1];
    assert.equal(
      tr?.type === 'transition' && `${tr.from}>${tr.to}:${tr.reason}`,
      'FAULT>BACKUP:fault-cleared',
    );
  }
});

// --- shutdown ---------------------------------------------------------------------------------

void test('shutdown: MASTER sends one priority-0 advert and goes INIT with timers cleared', () => {
  const { s, fx } = run(masterAt(params()), [[9 * S, { type: 'shutdown' }]]);
  assert.equal(s.state, 'INIT');
  assert.equal(nextDeadline(s), null);
  assert.deepEqual(fx.slice(0, 2), [
    { type: 'clear-timer', timer: 'adver' },
    { type: 'send-advert', priority: 0, intervalCs: 100 },
  ]);
  const tr = fx[2];
  assert.equal(tr?.type === 'transition' && `${tr.from}>${tr.to}:${tr.reason}`, 'MASTER>INIT:shutdown');
  assert.equal(fx.length, 3);
});

void test('shutdown: BACKUP and FAULT go INIT without sending anything', () => {
  const backup = run(params(), [
    [0, start],
    [1, { type: 'shutdown' }],
  ]);
  assert.equal(backup.s.state, 'INIT');
  assert.deepEqual(backup.fx[0], { type: 'clear-timer', timer: 'master_down' });
  assert.equal(backup.fx.length, 2);
  const faulted = run(params(), [
    [0, start],
    [1, fault(true)],
    [2, { type: 'shutdown' }],
  ]);
  assert.equal(faulted.s.state, 'INIT');
  assert.equal(faulted.fx.length, 1);
  assert.ok(faulted.fx.every((f) => f.type !== 'send-advert'));
});

// --- timers and no-ops ------------------------------------------------------------------------

void test('timer: events for an unarmed timer or before the deadline are ignored', () => {
  const b = run(params(), [[0, start]]).s;
  for (const [now, t] of [
    [3_609_374, 'master_down'],
    [5 * S, 'adver'],
  ] as const) {
    const r = step(b, fire(t), now);
    assert.equal(r.state, b, `${t}@${now}`);
    assert.deepEqual(r.effects, []);
  }
  const init = createInstance(params());
  assert.deepEqual(step(init, fire('master_down'), 10 * S).effects, []);
});

void test('same-state no-op events produce no effects', () => {
  const init = createInstance(params());
  const backup = run(params(), [[0, start]]).s;
  const faulted = run(params(), [
    [0, start],
    [1, fault(true)],
  ]).s;
  const cases: [string, InstanceState, InstanceEvent][] = [
    ['advert in INIT', init, advert(LOWER_IP, 200)],
    ['shutdown in INIT', init, { type: 'shutdown' }],
    ['fault cleared when not faulted', backup, fault(false)],
    ['start when running', backup, start],
    ['fault again in FAULT', faulted, { type: 'fault', active: true, reason: 'another' }],
    ['same weights delta', backup, weights(0)],
  ];
  for (const [name, s, e] of cases) {
    const r = step(s, e, 2 * S);
    assert.deepEqual(r.effects, [], name);
    assert.equal(r.state.state, s.state, name);
  }
});

void test('state is an immutable value: step never changes its input', () => {
  const s0 = run(params({ preemptDelayUs: S }), [[0, start]]).s;
  const snapshot = structuredClone(s0);
  const events: Timed[] = [
    [S, advert(LOWER_IP, 50)],
    [2 * S, weights(20)],
    [3 * S, advert(LOWER_IP, 0)],
    [4 * S, fire('master_down')],
    [5 * S, fault(true)],
  ];
  let s = s0;
  for (const [now, e] of events) {
    const before = structuredClone(s);
    const r = step(s, e, now);
    assert.deepEqual(s, before);
    assert.ok(Object.isFrozen(r.state));
    s = r.state;
  }
  assert.deepEqual(s0, snapshot);
});

void test('createInstance: rejects parameters the state machine cannot run, naming the field', () => {
  const bad: [Partial<InstanceParams>, RegExp][] = [
    [{ priority: 0 }, /priority 0 is outside 1\.\.255/],
    [{ priority: 256 }, /priority 256/],
    [{ vrid: 0 }, /vrid 0/],
    [{ advertIntervalCs: 0 }, /advert interval 0 cs/],
    [{ downTimerAdverts: 0 }, /down_timer_adverts 0/],
    [{ preemptDelayUs: -1 }, /preempt delay -1/],
    [{ primaryIp: 'eth0' }, /primary IP "eth0"/],
  ];
  for (const [over, re] of bad) {
    assert.throws(() => createInstance(params(over)), re, JSON.stringify(over));
  }
  assert.equal(createInstance(params()).state, 'INIT');
});

void test('compareTieBreakIp: numeric comparison like keepalived’s inet_inaddrcmp; other families do not compare', () => {
  const cases: [string, string, -1 | 0 | 1][] = [
    ['10.99.0.10', '10.99.0.9', 1],
    ['10.99.0.1', '10.99.0.2', -1],
    ['10.99.0.1', '10.99.0.1', 0],
    ['fd00::10', 'fd00::9', 1],
    ['fd00::1:0', 'fd00::ffff', 1],
    ['fe80::1%vA', 'fe80::2', -1],
    ['::ffff:10.99.0.2', '::ffff:10.99.0.1', 1],
    ['10.99.0.1', 'fd00::1', 0],
    ['bogus', '10.99.0.1', 0],
  ];
  for (const [a, b, want] of cases) assert.equal(compareTieBreakIp(a, b), want, `${a} vs ${b}`);
});

// --- property ---------------------------------------------------------------------------------

const STATES = new Set(['INIT', 'BACKUP', 'MASTER', 'FAULT']);
const PEERS = [LOWER_IP, ME, HIGHER_IP, '10.99.0.200'];

type Cmd =
  | { k: 'event'; dt: number; e: InstanceEvent }
  // Advance to the armed deadline (plus a little) and fire it, as a driver would.
  | { k: 'fire-next'; late: number };

const eventArb: fc.Arbitrary<InstanceEvent> = fc.oneof(
  fc.constant<InstanceEvent>({ type: 'start' }),
  fc.record({
    type: fc.constant('advert' as const),
    src: fc.constantFrom(...PEERS),
    priority: fc.oneof(fc.constantFrom(0, 99, 100, 101, 255), fc.integer({ min: 0, max: 255 })),
    intervalCs: fc.integer({ min: 1, max: 4095 }),
  }),
  fc.record({
    type: fc.constant('timer' as const),
    timer: fc.constantFrom<TimerName>('adver', 'master_down'),
  }),
  fc.record({ type: fc.constant('weights' as const), delta: fc.integer({ min: -300, max: 300 }) }),
  fc.record({ type: fc.constant('fault' as const), active: fc.boolean(), reason: fc.constant('prop') }),
  fc.constant<InstanceEvent>({ type: 'shutdown' }),
);

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('event' as const), dt: fc.nat(5 * S), e: eventArb }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('fire-next' as const), late: fc.nat(1000) }) },
);

const paramsArb: fc.Arbitrary<InstanceParams> = fc.record({
  name: fc.constant('prop'),
  version: fc.constantFrom<2 | 3>(2, 3),
  vrid: fc.integer({ min: 1, max: 255 }),
  priority: fc.oneof(fc.constantFrom(1, 100, 254, 255), fc.integer({ min: 1, max: 255 })),
  advertIntervalCs: fc.oneof(fc.constantFrom(100, 50), fc.integer({ min: 1, max: 4095 })),
  preempt: fc.boolean(),
  preemptDelayUs: fc.oneof(fc.constant(0), fc.nat(10 * S)),
  downTimerAdverts: fc.integer({ min: 1, max: 10 }),
  primaryIp: fc.constantFrom(ME, LOWER_IP),
});

void test('property: for random event sequences the reducer never throws and keeps its timer invariants', () => {
  fc.assert(
    fc.property(paramsArb, fc.array(cmdArb, { maxLength: 80 }), (p, cmds) => {
      let s = createInstance(p);
      let now = 0;
      // What a driver that executes the effects believes is armed.
      const driver = new Map<TimerName, number>();
      for (const c of cmds) {
        let e: InstanceEvent;
        if (c.k === 'fire-next') {
          const d = nextDeadline(s);
          if (!d) continue;
          now = Math.max(now, d.at) + c.late;
          e = { type: 'timer', timer: d.timer };
        } else {
          now += c.dt;
          e = c.e;
        }
        const { state, effects } = step(s, e, now);
        if (e.type === 'timer' && state !== s) driver.delete(e.timer);
        for (const fx of effects) {
          if (fx.type === 'set-timer') {
            assert.ok(Number.isSafeInteger(fx.at) && fx.at >= now, `deadline ${fx.at} before now ${now}`);
            driver.set(fx.timer, fx.at);
          } else if (fx.type === 'clear-timer') {
            driver.delete(fx.timer);
          } else if (fx.type === 'send-advert') {
            assert.ok(fx.priority === 0 || fx.priority === state.effectivePriority);
          }
        }
        s = state;
        assert.ok(STATES.has(s.state), s.state);
        assert.ok(s.effectivePriority >= 1 && s.effectivePriority <= 255);
        if (s.state === 'MASTER')
          assert.ok(s.adverAt !== null && s.masterDownAt === null, 'MASTER without adver');
        else if (s.state === 'BACKUP')
          assert.ok(s.masterDownAt !== null && s.adverAt === null, 'BACKUP without master_down');
        else assert.equal(nextDeadline(s), null, `${s.state} with a timer armed`);
        const armed = new Map<TimerName, number>();
        if (s.adverAt !== null) armed.set('adver', s.adverAt);
        if (s.masterDownAt !== null) armed.set('master_down', s.masterDownAt);
        assert.deepEqual(driver, armed, 'effects and state disagree on armed timers');
      }
    }),
    { numRuns: 300 },
  );
});

void test('retune (reload): a MASTER keeps its state and advertises the new priority; weights still add', () => {
  const master = run(params({ priority: 150 }), [
    [0, start],
    [0, weights(-20)],
    [4 * S, fire('master_down')],
  ]).s;
  assert.equal(master.state, 'MASTER');
  assert.equal(master.effectivePriority, 130);
  const { s, fx } = run(master, [
    [5 * S, { type: 'retune', params: params({ priority: 90, preempt: false }) }],
  ]);
  assert.equal(s.state, 'MASTER');
  assert.equal(s.effectivePriority, 70);
  assert.equal(s.params.preempt, false);
  assert.deepEqual(fx, [{ type: 'priority-changed', from: 130, to: 70 }]);
  const next = run(s, [[s.adverAt!, fire('adver')]]);
  assert.ok(next.fx.some((e) => e.type === 'send-advert' && e.priority === 70));
});

void test('retune (reload): a BACKUP moves its master-down deadline by the change of Master_Down', () => {
  const backup = run(params({ priority: 100 }), [
    [0, start],
    [1 * S, advert(HIGHER_IP, 200)],
  ]).s;
  const before = backup.masterDownAt!;
  const { s, fx } = run(backup, [[1.5 * S, { type: 'retune', params: params({ priority: 200 }) }]]);
  // Skew = (256 - prio) / 256 s: 0.609375 s at 100, 0.21875 s at 200.
  assert.equal(s.masterDownAt, before - (609_375 - 218_750));
  assert.deepEqual(fx, [
    { type: 'priority-changed', from: 100, to: 200 },
    { type: 'set-timer', timer: 'master_down', at: s.masterDownAt },
  ]);
  assert.equal(s.state, 'BACKUP');
});

void test('retune (reload) refuses what needs a restart: vrid, version, interval, source address', () => {
  const s = run(params(), [[0, start]]).s;
  for (const over of [
    { vrid: 52 },
    { version: 3 as const },
    { advertIntervalCs: 200 },
    { primaryIp: HIGHER_IP },
  ]) {
    assert.throws(
      () => step(s, { type: 'retune', params: params(over) }, S),
      /cannot change without restarting the instance/,
    );
  }
});
