import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createHolderPolicy,
  stepHolderPolicy,
  type HolderPolicyState,
  type PolicyAction,
  type PolicyEvent,
} from '../../src/notify/holder-policy.js';

const S = 1_000_000;
const params = { reconcileIntervalUs: 10 * S, holdOffUs: 60 * S };

/** Feed events at given seconds; return the final state and every action in order. */
function run(events: Array<[number, PolicyEvent]>, start: HolderPolicyState = createHolderPolicy(params)) {
  let s = start;
  const actions: Array<[number, PolicyAction]> = [];
  for (const [t, e] of events) {
    const r = stepHolderPolicy(s, e, t * S);
    s = r.state;
    for (const a of r.actions) actions.push([t, a]);
  }
  return {
    state: s,
    actions,
    kinds: actions.map(([t, a]) => `${t}:${a.type}${'reason' in a ? `(${a.reason})` : ''}`),
  };
}

const read = (holder: string | null, alive: boolean | null = true): PolicyEvent => ({
  type: 'holder-read',
  holder,
  self: 'me',
  alive,
});

test('rule 1: becoming master acquires, then reads back and reconciles every interval', () => {
  const r = run([
    [0, { type: 'became-master' }],
    [1, { type: 'acquire-done', ok: true }],
    [1, read('me')],
    [11, { type: 'tick' }],
  ]);
  assert.deepEqual(r.kinds, ['0:acquire(became-master)', '1:read-holder', '1:schedule', '11:read-holder']);
  assert.equal(r.state.phase, 'holding');
});

test('rule 2a: another holder long after our own move is drift, repaired at once', () => {
  const r = run([
    [0, { type: 'became-master' }],
    [1, { type: 'acquire-done', ok: true }],
    [1, read('me')],
    [100, { type: 'tick' }],
    [100, read('operator-box')],
  ]);
  assert.equal(r.kinds.at(-1), '100:acquire(drift)');
});

test('rule 2b: another holder within the hold-off of our own move fences us (split brain)', () => {
  const r = run([
    [0, { type: 'became-master' }],
    [1, { type: 'acquire-done', ok: true }],
    [1, read('me')],
    [11, { type: 'tick' }],
    [11, read('peer')],
  ]);
  assert.deepEqual(r.kinds.slice(-2), ['11:fenced', '11:schedule']);
  assert.equal(r.state.phase, 'fenced');
  assert.equal(r.state.fencedBy, 'peer');
});

function fenced(): HolderPolicyState {
  return run([
    [0, { type: 'became-master' }],
    [1, { type: 'acquire-done', ok: true }],
    [1, read('me')],
    [11, { type: 'tick' }],
    [11, read('peer')],
  ]).state;
}

test('rule 3: a fenced master facing a live holder moves at most once per hold-off window', () => {
  const events: Array<[number, PolicyEvent]> = [];
  for (let t = 21; t < 60; t += 10) events.push([t, { type: 'tick' }], [t, read('peer', true)]);
  const r = run(events, fenced());
  assert.equal(r.actions.filter(([, a]) => a.type === 'acquire').length, 0, 'no move within H of fencing');
  const later = run(
    [
      [71, { type: 'tick' }],
      [71, read('peer', true)],
    ],
    r.state,
  );
  assert.equal(later.kinds.at(-1), '71:acquire(hold-off-expired)');
});

test('rule 4: a dead holder found while holding is taken over on that read, not one fence later', () => {
  const r = run([
    [0, { type: 'became-master' }],
    [1, { type: 'acquire-done', ok: true }],
    [1, read('me')],
    [11, { type: 'tick' }],
    [11, read('peer', false)],
  ]);
  assert.equal(r.kinds.at(-1), '11:acquire(holder-dead)');
});

test('election duel: the loser kept the address as a silent backup; the fenced winner takes it after H', () => {
  // The winner moved at 1, the loser's call landed at 2; the loser is BACKUP and never speaks.
  const events: Array<[number, PolicyEvent]> = [
    [0, { type: 'became-master' }],
    [1, { type: 'acquire-done', ok: true }],
    [1, read('loser')],
  ];
  for (let t = 11; t <= 71; t += 10) events.push([t, { type: 'tick' }], [t, read('loser', true)]);
  const r = run(events);
  assert.deepEqual(
    r.kinds.filter((k) => k.includes('acquire')),
    ['0:acquire(became-master)', '61:acquire(hold-off-expired)'],
  );
});

test('rule 3: a fenced master takes over at once when the platform says the holder died', () => {
  const r = run(
    [
      [21, { type: 'tick' }],
      [21, read('peer', false)],
    ],
    fenced(),
  );
  assert.equal(r.kinds.at(-1), '21:acquire(holder-dead)');
});

test('rule 3: a fenced master takes the free address at once', () => {
  const r = run(
    [
      [21, { type: 'tick' }],
      [21, read(null)],
    ],
    fenced(),
  );
  assert.equal(r.kinds.at(-1), '21:acquire(address-free)');
});

test('rule 3: hearing a VRRP peer while fenced moves only once the hold-off since our own move has passed', () => {
  const early = run(
    [
      [15, { type: 'peer-advert' }],
      [21, { type: 'tick' }],
      [21, read('peer')],
    ],
    fenced(),
  );
  assert.ok(!early.kinds.some((k) => k.includes('acquire')), 'within H of our own move: stay');
  const later = run(
    [
      [61, { type: 'tick' }],
      [61, read('peer')],
    ],
    early.state,
  );
  assert.equal(later.kinds.at(-1), '61:acquire(vrrp-peer-heard)');
});

test('rule 3 backstop: liveness unknown, fenced for the whole hold-off → one move', () => {
  const r = run(
    [
      [21, { type: 'tick' }],
      [21, read('peer', null)],
      [71, { type: 'tick' }],
      [71, read('peer', null)],
    ],
    fenced(),
  );
  assert.deepEqual(
    r.kinds.filter((k) => k.includes('acquire')),
    ['71:acquire(hold-off-expired)'],
  );
});

test('reading ourselves back ends a fence', () => {
  const r = run(
    [
      [21, { type: 'tick' }],
      [21, read('me')],
    ],
    fenced(),
  );
  assert.equal(r.state.phase, 'holding');
  assert.ok(r.kinds.some((k) => k.startsWith('21:unfenced')));
});

test('leaving master stops reconciling; a fresh tenure within H still counts the earlier move', () => {
  const r = run(
    [
      [30, { type: 'left-master' }],
      [31, { type: 'tick' }],
      [40, { type: 'became-master' }],
      [41, { type: 'acquire-done', ok: true }],
      [41, read('me')],
      [51, { type: 'tick' }],
      [51, read('peer')],
    ],
    fenced(),
  );
  assert.ok(!r.kinds.includes('31:read-holder'), 'no reads while not master');
  assert.equal(r.state.phase, 'fenced', 'moved at 41, competitor took it at 51: contention');
});

test('ticks do not pile up reads while one is outstanding, and a failed read retries next interval', () => {
  const r = run([
    [0, { type: 'became-master' }],
    [1, { type: 'acquire-done', ok: true }],
    [2, { type: 'tick' }],
    [3, { type: 'holder-read-failed' }],
    [4, { type: 'tick' }],
    [13, { type: 'tick' }],
  ]);
  assert.deepEqual(r.kinds, ['0:acquire(became-master)', '1:read-holder', '3:schedule', '13:read-holder']);
});

test('a failed acquire keeps the node master and retries through the next reconcile', () => {
  const r = run([
    [0, { type: 'became-master' }],
    [5, { type: 'acquire-done', ok: false }],
    [15, { type: 'tick' }],
    [15, read('old-master')],
  ]);
  assert.deepEqual(r.kinds, [
    '0:acquire(became-master)',
    '5:schedule',
    '15:read-holder',
    '15:acquire(drift)',
  ]);
});

/**
 * Two policies A and B over one simulated holder with instant calls: an acquire lands at once and
 * a read sees the holder as it is. Returns `feed` to drive either node, plus what happened.
 */
function twoPolicies() {
  const w = {
    holder: 'A' as string | null,
    nodes: { A: createHolderPolicy(params), B: createHolderPolicy(params) },
    moves: { A: [] as number[], B: [] as number[] },
    /** Backstop waits (s) announced when each node got fenced. */
    waits: { A: [] as number[], B: [] as number[] },
    feed: (n: 'A' | 'B', e: PolicyEvent, t: number): void => {
      const r = stepHolderPolicy(w.nodes[n], e, t * S);
      w.nodes[n] = r.state;
      for (const a of r.actions) {
        if (a.type === 'acquire') {
          w.holder = n;
          w.moves[n].push(t);
          w.feed(n, { type: 'acquire-done', ok: true }, t);
        } else if (a.type === 'read-holder') {
          w.feed(n, { type: 'holder-read', holder: w.holder, self: n, alive: true }, t);
        } else if (a.type === 'fenced') {
          w.waits[n].push(a.backstopWaitUs / S);
        }
      }
    },
  };
  return w;
}

/**
 * Two masters (protocol 112 cut both ways), one shared address, both alive: whatever the timing,
 * each node moves at most once per hold-off window (the budget that bounds a lasting split).
 */
test('split brain between two policies over one simulated holder keeps the move budget', () => {
  for (let offset = 0; offset <= 200; offset += 7) {
    const { feed, moves } = twoPolicies();
    feed('A', { type: 'became-master' }, 0);
    feed('B', { type: 'became-master' }, offset); // B stops hearing A at `offset`
    for (let t = 1; t <= 1200; t++) {
      feed('A', { type: 'tick' }, t);
      feed('B', { type: 'tick' }, t + 0.5);
    }
    for (const n of ['A', 'B'] as const) {
      const ms = moves[n];
      for (let i = 2; i < ms.length; i++) {
        assert.ok(ms[i]! - ms[i - 1]! >= 60 - 1e-9, `offset ${offset}: ${n} moved at ${ms.join(', ')}`);
      }
      assert.ok(ms.length <= 2 + 1200 / 60, `offset ${offset}: ${n} moved ${ms.length} times`);
    }
  }
});

/**
 * One-way cut: A hears B's adverts and stays master (better priority), B hears nothing and stays
 * master too. A repairs every backstop move of B as drift; rule 5 makes B back off (H, 2H, 4H, 4H…)
 * instead of moving every H for as long as the cut lasts.
 */
test('rule 5: a deaf master whose backstop moves are undone backs off to at most one move per 4·H', () => {
  const w = twoPolicies();
  const { feed, moves } = w;
  const waits = w.waits.B;
  feed('A', { type: 'became-master' }, 0);
  feed('B', { type: 'became-master' }, 5);
  for (let t = 1; t <= 1500; t++) {
    feed('A', { type: 'tick' }, t);
    feed('A', { type: 'peer-advert' }, t); // A hears B; it changes nothing while A holds
    feed('B', { type: 'tick' }, t + 0.5);
  }
  // Without rule 5 B would move ~25 times in 1500 s (once per H) and A would undo each. B's first
  // move after A's takes the address more than H after B's own, as drift; A undoes it at once.
  assert.deepEqual(waits.slice(0, 3), [120, 240, 240], `B fenced with waits ${waits.join(', ')}`);
  assert.ok(waits.every((w) => w <= 240));
  const gaps = moves.B.slice(1).map((t, i) => t - moves.B[i]!);
  assert.ok(
    gaps.every((g, i) => i === 0 || g >= gaps[i - 1]! - 10),
    `B moved at ${moves.B.join(', ')}`,
  );
  assert.ok(moves.B.length <= 8, `B moved ${moves.B.length} times: ${moves.B.join(', ')}`);
  // A's own first move, then one repair per move of B.
  assert.equal(moves.A.length, moves.B.length + 1, `A moved at ${moves.A.join(', ')}`);
  assert.equal(w.holder, 'A');
});

test('rule 5: the doubled wait returns to H once a move of ours stands for a whole H', () => {
  // Fenced by X after our became-master move; backstop after H; X undoes it within H → wait 2H.
  const r = run([
    [0, { type: 'became-master' }],
    [0, { type: 'acquire-done', ok: true }],
    [1, read('X')],
    [70, { type: 'tick' }],
    [70, read('X')], // backstop
    [70, { type: 'acquire-done', ok: true }],
    [71, read('X')], // undone at once: fenced, wait doubles
  ]);
  const fences = r.actions.filter(([, a]) => a.type === 'fenced').map(([, a]) => a);
  assert.deepEqual(
    fences.map((a) => (a.type === 'fenced' ? a.backstopWaitUs / S : 0)),
    [60, 120],
  );
  // Not before 2·H of fencing, even though our own move is older than H.
  const early = run(
    [
      [140, { type: 'tick' }],
      [140, read('X')],
    ],
    r.state,
  );
  assert.ok(!early.kinds.some((k) => k.includes('acquire')), early.kinds.join(' '));
  const later = run(
    [
      [192, { type: 'tick' }],
      [192, read('X')], // fenced 121 s ≥ 2·H: backstop
      [192, { type: 'acquire-done', ok: true }],
      [193, read('me')],
      [260, { type: 'tick' }],
      [260, read('me')], // stood for a whole H: back to H
    ],
    early.state,
  );
  assert.ok(later.kinds.includes('192:acquire(hold-off-expired)'), later.kinds.join(' '));
  assert.equal(later.state.backstopDoublings, 0);
});

test('a fresh fence looks again after 1 s (a preempted master is releasing), then every interval', () => {
  const r = run([
    [0, { type: 'became-master' }],
    [0, { type: 'acquire-done', ok: true }],
    [0.2, read('old-master')],
  ]);
  assert.equal(r.state.phase, 'fenced');
  assert.deepEqual(r.actions.at(-1), [0.2, { type: 'schedule', at: 1.2 * S }]);
  const freed = run(
    [
      [1.2, { type: 'tick' }],
      [1.3, read(null)],
    ],
    r.state,
  );
  assert.ok(freed.kinds.includes('1.3:acquire(address-free)'), freed.kinds.join(' '));
});

test('a fenced master that hears a VRRP peer reads at once when a move would be allowed', () => {
  const fenced = run([
    [0, { type: 'became-master' }],
    [0, { type: 'acquire-done', ok: true }],
    [1, read('X')],
  ]).state;
  // Within H of our own move: only remembered.
  const early = run([[30, { type: 'peer-advert' }]], fenced);
  assert.deepEqual(early.kinds, []);
  const late = run([[61, { type: 'peer-advert' }]], early.state);
  assert.deepEqual(late.kinds, ['61:read-holder']);
  const moved = run([[61.5, read('X')]], late.state);
  assert.ok(moved.kinds.includes('61.5:acquire(vrrp-peer-heard)'), moved.kinds.join(' '));
});
