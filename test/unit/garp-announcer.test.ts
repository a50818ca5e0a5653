/** The burst / delay / refresh schedule of providers/garp/announcer.ts on a virtual clock. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Announcer,
  type AnnouncePlan,
  type BurstReason,
  type Timers,
} from '../../providers/garp/announcer.js';

class FakeTimers implements Timers {
  now = 0;
  private next = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  get count(): number {
    return this.pending.size;
  }

  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let first: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.pending) if (e[1].at <= end && (!first || e[1].at < first[1].at)) first = e;
      if (!first) break;
      this.pending.delete(first[0]);
      this.now = first[1].at;
      first[1].fn();
    }
    this.now = end;
  }
}

function setup(plan: AnnouncePlan): {
  a: Announcer;
  timers: FakeTimers;
  log: Array<[number, number, BurstReason]>;
} {
  const timers = new FakeTimers();
  const log: Array<[number, number, BurstReason]> = [];
  const a = new Announcer(plan, (rounds, reason) => log.push([timers.now, rounds, reason]), timers);
  return { a, timers, log };
}

test('keepalived defaults: 5 rounds now, 5 more after 5 s, no refresh', () => {
  const { a, timers, log } = setup({ repeat: 5, delayMs: 5000, refreshMs: 0, refreshRepeat: 1 });
  a.start();
  assert.deepEqual(log, [[0, 5, 'acquire']], 'first burst before start() returns');
  assert.ok(a.active);
  timers.advance(4999);
  assert.equal(log.length, 1);
  timers.advance(1);
  assert.deepEqual(log[1], [5000, 5, 'delay']);
  assert.equal(a.active, false);
  timers.advance(60_000);
  assert.equal(log.length, 2);
});

test('delay 0 means no second burst (keepalived: garp_delay unset)', () => {
  const { a, timers, log } = setup({ repeat: 2, delayMs: 0, refreshMs: 0, refreshRepeat: 1 });
  a.start();
  assert.equal(a.active, false);
  timers.advance(10_000);
  assert.deepEqual(log, [[0, 2, 'acquire']]);
});

test('refresh repeats refreshRepeat rounds every refreshMs until stopped', () => {
  const { a, timers, log } = setup({ repeat: 1, delayMs: 1000, refreshMs: 3000, refreshRepeat: 2 });
  a.start();
  timers.advance(9500);
  assert.deepEqual(log, [
    [0, 1, 'acquire'],
    [1000, 1, 'delay'],
    [3000, 2, 'refresh'],
    [6000, 2, 'refresh'],
    [9000, 2, 'refresh'],
  ]);
  a.stop();
  assert.equal(a.active, false);
  assert.equal(timers.count, 0, 'no timer left behind');
  timers.advance(30_000);
  assert.equal(log.length, 5);
});

test('stop() before the delayed burst cancels it', () => {
  const { a, timers, log } = setup({ repeat: 3, delayMs: 2000, refreshMs: 0, refreshRepeat: 1 });
  a.start();
  timers.advance(1999);
  a.stop();
  timers.advance(10_000);
  assert.deepEqual(log, [[0, 3, 'acquire']]);
});

test('start() again replaces the schedule: one delayed burst, counted from the new start', () => {
  const { a, timers, log } = setup({ repeat: 1, delayMs: 1000, refreshMs: 0, refreshRepeat: 1 });
  a.start();
  timers.advance(600);
  a.start();
  timers.advance(5000);
  assert.deepEqual(log, [
    [0, 1, 'acquire'],
    [600, 1, 'acquire'],
    [1600, 1, 'delay'],
  ]);
});

test('a burst that stops the announcer (release from a callback) ends the refresh chain', () => {
  const timers = new FakeTimers();
  let n = 0;
  const a: Announcer = new Announcer(
    { repeat: 1, delayMs: 0, refreshMs: 100, refreshRepeat: 1 },
    () => {
      if (++n === 3) a.stop();
    },
    timers,
  );
  a.start();
  timers.advance(1000);
  assert.equal(n, 3);
  assert.equal(timers.count, 0);
});
