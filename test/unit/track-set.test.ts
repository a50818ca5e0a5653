import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrackerSet } from '../../src/track/index.js';
import type { ChangeCause, TrackInputs } from '../../src/track/index.js';
import type { ScriptOutcome, ScriptRun } from '../../src/track/script-exec.js';
import type { ProcEntry } from '../../src/track/process.js';
import type { LinkState } from '../../src/track/interface.js';
import {
  eventually,
  FakeTimers,
  instance,
  memoryLog,
  settle,
  silentLog,
  trackConfig,
} from './track-fixtures.js';

/** A script runner whose exit codes the test sets; records every argv it ran. */
function fakeRunner(): {
  run: (r: ScriptRun) => Promise<ScriptOutcome>;
  codes: Map<string, number>;
  runs: string[][];
} {
  const codes = new Map<string, number>();
  const runs: string[][] = [];
  return {
    codes,
    runs,
    run: (r) => {
      runs.push(r.argv);
      return Promise.resolve({ type: 'exit', code: codes.get(r.argv[0] ?? '') ?? 0 });
    },
  };
}

function record(set: TrackerSet): { instance: string; inputs: TrackInputs; cause: ChangeCause }[] {
  const out: { instance: string; inputs: TrackInputs; cause: ChangeCause }[] = [];
  set.onChange((instance, inputs, cause) => out.push({ instance, inputs, cause }));
  return out;
}

const upLinks = (): LinkState => 'up';

test('script rise/fall drives the weight in and out, with the cause reported', async () => {
  const timers = new FakeTimers();
  const r = fakeRunner();
  const cfg = trackConfig({
    scripts: [{ name: 'chk', script: '/chk', weight: 20, rise: 2, fall: 3 }],
    instances: [instance('VI', { trackScripts: [{ name: 'chk' }] })],
  });
  const set = new TrackerSet(cfg, { log: silentLog, timers, runScript: r.run, readLink: upLinks });
  const changes = record(set);
  assert.deepEqual(set.inputs('VI'), { delta: 0, faults: [] });
  set.start();
  await settle();
  // First success: up at once (one success is enough from the initial state).
  assert.deepEqual(set.inputs('VI'), { delta: 20, faults: [] });
  assert.equal(changes.length, 1);
  assert.equal(changes[0]?.cause.tracker, 'chk');
  assert.equal(changes[0]?.cause.from, 'unknown');
  assert.equal(changes[0]?.cause.to, 'up');
  assert.equal(changes[0]?.cause.weight, 20);
  r.codes.set('/chk', 1);
  await timers.advance(2000); // two failures: still up
  assert.equal(set.inputs('VI').delta, 20);
  await timers.advance(1000); // third failure: down
  assert.equal(set.inputs('VI').delta, 0);
  assert.equal(changes.length, 2);
  assert.match(changes[1]?.cause.text ?? '', /script chk up -> down \(weight 20; exit status 1/);
  r.codes.set('/chk', 0);
  await timers.advance(1000);
  assert.equal(set.inputs('VI').delta, 0);
  await timers.advance(1000);
  assert.equal(set.inputs('VI').delta, 20);
  assert.equal(r.runs.length, 6);
  assert.deepEqual(r.runs[0], ['/chk']);
  await set.stop();
  assert.equal(timers.pending, 0);
});

test('negative weight applies while failing; reverse flips both signs', async () => {
  const timers = new FakeTimers();
  const r = fakeRunner();
  r.codes.set('/bad', 1);
  const cfg = trackConfig({
    scripts: [
      { name: 'neg', script: '/bad', weight: -30 },
      { name: 'rev', script: '/ok', weight: 10, weightReverse: true },
      { name: 'negrev', script: '/bad', weight: -5, weightReverse: true },
    ],
    instances: [instance('VI', { trackScripts: [{ name: 'neg' }, { name: 'rev' }, { name: 'negrev' }] })],
  });
  const set = new TrackerSet(cfg, { log: silentLog, timers, runScript: r.run, readLink: upLinks });
  set.start();
  await settle();
  assert.deepEqual(set.inputs('VI'), { delta: -30 - 10 + 5, faults: [] });
  await set.stop();
});

test('weight 0: a failing script puts the instance in FAULT and recovery clears it', async () => {
  const timers = new FakeTimers();
  const r = fakeRunner();
  r.codes.set('/chk', 1);
  const cfg = trackConfig({
    scripts: [{ name: 'chk', script: '/chk' }],
    instances: [instance('VI', { trackScripts: [{ name: 'chk' }] })],
  });
  const set = new TrackerSet(cfg, { log: silentLog, timers, runScript: r.run, readLink: upLinks });
  const changes = record(set);
  set.start();
  await settle();
  assert.deepEqual(set.inputs('VI'), { delta: 0, faults: ['script chk down'] });
  r.codes.set('/chk', 0);
  await timers.advance(1000);
  assert.deepEqual(set.inputs('VI'), { delta: 0, faults: [] });
  assert.deepEqual(
    changes.map((c) => c.inputs.faults),
    [['script chk down'], []],
  );
  await set.stop();
});

test('init_fail: the instance starts with the script counted as failed, before any run', async () => {
  const timers = new FakeTimers();
  const r = fakeRunner();
  const cfg = trackConfig({
    scripts: [
      { name: 'f0', script: '/a', initFail: true },
      { name: 'fneg', script: '/a', initFail: true, weight: -15, rise: 2 },
    ],
    instances: [instance('VI', { trackScripts: [{ name: 'f0' }, { name: 'fneg' }] })],
  });
  const set = new TrackerSet(cfg, { log: silentLog, timers, runScript: r.run, readLink: upLinks });
  assert.deepEqual(set.inputs('VI'), { delta: -15, faults: ['script f0 down'] });
  set.start();
  await settle();
  // f0 has rise 1: one success clears it; fneg needs two.
  assert.deepEqual(set.inputs('VI'), { delta: -15, faults: [] });
  await timers.advance(1000);
  assert.deepEqual(set.inputs('VI'), { delta: 0, faults: [] });
  await set.stop();
});

test('TrackRef overrides: two instances follow one script with different weights; it runs once', async () => {
  const timers = new FakeTimers();
  const r = fakeRunner();
  const cfg = trackConfig({
    scripts: [{ name: 'chk', script: '/chk', weight: 10 }],
    instances: [
      instance('A', { trackScripts: [{ name: 'chk' }] }),
      instance('B', { trackScripts: [{ name: 'chk', weight: 50, reverse: true }] }),
      instance('C', { trackScripts: [{ name: 'chk', weight: 0 }] }),
    ],
  });
  const set = new TrackerSet(cfg, { log: silentLog, timers, runScript: r.run, readLink: upLinks });
  const changes = record(set);
  set.start();
  await settle();
  assert.equal(r.runs.length, 1);
  assert.equal(set.inputs('A').delta, 10);
  assert.equal(set.inputs('B').delta, -50);
  assert.deepEqual(set.inputs('C'), { delta: 0, faults: [] });
  // C's inputs did not change on the first success (no weight, no fault), so it gets no event.
  assert.deepEqual(
    changes.map((c) => c.instance),
    ['A', 'B'],
  );
  await set.stop();
});

test('a script still running at the next interval is not started twice', async () => {
  const timers = new FakeTimers();
  let running = 0;
  let maxRunning = 0;
  let release: (() => void) | null = null;
  const run = (): Promise<ScriptOutcome> => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    return new Promise((resolve) => {
      release = () => {
        running--;
        resolve({ type: 'exit', code: 0 });
      };
    });
  };
  const { log, lines } = memoryLog();
  const cfg = trackConfig({
    scripts: [{ name: 'slow', script: '/slow', timeoutMs: 10_000 }],
    instances: [instance('VI', { trackScripts: [{ name: 'slow' }] })],
  });
  const set = new TrackerSet(cfg, { log, timers, runScript: run, readLink: upLinks });
  set.start();
  await timers.advance(3000);
  assert.equal(maxRunning, 1);
  assert.equal(lines.filter((l) => l.msg.includes('skipping this run')).length, 3);
  (release as unknown as () => void)();
  await set.stop();
});

test('script users: refused with a clear error when floatip is not root', () => {
  const cfg = trackConfig({
    scripts: [{ name: 'chk', script: '/chk', user: 'nobody' }],
    instances: [instance('VI', { trackScripts: [{ name: 'chk' }] })],
  });
  assert.throws(
    () => new TrackerSet(cfg, { log: silentLog, euid: 1000, readLink: upLinks }),
    /vrrp_script chk: must run as user "nobody" \(uid 65534\) but floatip runs as uid 1000 and cannot switch users; run floatip as root/,
  );
  const missing = trackConfig({
    scripts: [{ name: 'chk', script: '/chk', user: 'no-such-user-floatip' }],
    instances: [instance('VI', { trackScripts: [{ name: 'chk' }] })],
  });
  assert.throws(
    () => new TrackerSet(missing, { log: silentLog, euid: 0, readLink: upLinks }),
    /user "no-such-user-floatip" does not exist/,
  );
});

test('script users: the uid and gid reach the runner, the global script_user is the default', async () => {
  const timers = new FakeTimers();
  const seen: ScriptRun[] = [];
  const run = (r: ScriptRun): Promise<ScriptOutcome> => {
    seen.push(r);
    return Promise.resolve({ type: 'exit', code: 0 });
  };
  const cfg = trackConfig({
    scriptUser: 'nobody',
    scripts: [
      { name: 'a', script: '/a' },
      { name: 'b', script: "'/b c' 'x y' z", user: 'root', group: 'nogroup' },
    ],
    instances: [instance('VI', { trackScripts: [{ name: 'a' }, { name: 'b' }] })],
  });
  const set = new TrackerSet(cfg, { log: silentLog, timers, runScript: run, euid: 0, readLink: upLinks });
  set.start();
  await settle();
  await set.stop();
  const a = seen.find((s) => s.argv[0] === '/a');
  const b = seen.find((s) => s.argv[0] === '/b c');
  assert.deepEqual([a?.uid, a?.gid], [65534, 65534]);
  assert.deepEqual([b?.uid, b?.gid, b?.argv], [0, 65534, ['/b c', 'x y', 'z']]);
});

test('interface: the own interface down is FAULT; a weighted tracked interface subtracts only while down', async () => {
  const timers = new FakeTimers();
  const links = new Map<string, LinkState>([
    ['eth0', 'up'],
    ['eth1', 'up'],
    ['eth2', 'up'],
  ]);
  const cfg = trackConfig({
    instances: [
      instance('VI', {
        trackInterfaces: [
          { name: 'eth1', weight: -40 },
          { name: 'eth2', weight: 25 },
        ],
      }),
    ],
  });
  const set = new TrackerSet(cfg, { log: silentLog, timers, readLink: (n) => links.get(n) ?? 'absent' });
  const changes = record(set);
  set.start();
  assert.deepEqual(set.inputs('VI'), { delta: 25, faults: [] });
  links.set('eth1', 'down');
  await timers.advance(1000);
  assert.deepEqual(set.inputs('VI'), { delta: -15, faults: [] });
  links.delete('eth2');
  links.set('eth0', 'down');
  await timers.advance(1000);
  assert.deepEqual(set.inputs('VI'), {
    delta: -40,
    faults: ['interface eth0 (the instance interface) down'],
  });
  assert.deepEqual(
    set.status().map((s) => `${s.name}:${s.up}:${s.detail}`),
    ['eth0:false:down', 'eth1:false:down', 'eth2:false:does not exist'],
  );
  assert.equal(changes.length, 3);
  await set.stop();
});

test('process: quorum and quorum_max, debounced by the delay; a blip shorter than the delay is not reported', async () => {
  const timers = new FakeTimers();
  let procs: ProcEntry[] = [];
  const nginx = (): ProcEntry => ({ comm: 'nginx', cmdline: ['nginx: worker'] });
  const cfg = trackConfig({
    processes: [{ name: 'web', process: 'nginx', quorum: 2, quorumMax: 3, delayMs: 3000, weight: 0 }],
    instances: [instance('VI', { trackProcesses: [{ name: 'web' }] })],
  });
  const set = new TrackerSet(cfg, {
    log: silentLog,
    timers,
    readLink: upLinks,
    scanProcesses: () => Promise.resolve(procs),
  });
  const changes = record(set);
  procs = [nginx(), nginx()];
  set.start();
  await set.firstResults();
  assert.deepEqual(set.inputs('VI'), { delta: 0, faults: [] });
  procs = [nginx()];
  await timers.advance(2000); // lost for 1 s only
  procs = [nginx(), nginx()];
  await timers.advance(3000);
  assert.equal(changes.length, 0);
  procs = [nginx(), nginx(), nginx(), nginx()]; // above quorum_max
  await timers.advance(2000);
  assert.deepEqual(set.inputs('VI').faults, []);
  await timers.advance(2000);
  assert.deepEqual(set.inputs('VI').faults, ['process web down']);
  assert.match(set.status()[1]?.detail ?? '', /4 running, quorum 2\.\.3/);
  procs = [nginx(), nginx(), nginx()];
  await timers.advance(5000);
  assert.deepEqual(set.inputs('VI').faults, []);
  assert.equal(changes.length, 2);
  await set.stop();
});

test('process: weighted and reversed like scripts', async () => {
  const timers = new FakeTimers();
  const cfg = trackConfig({
    processes: [
      { name: 'p1', process: 'a', weight: 10 },
      { name: 'p2', process: 'b', weight: -10, weightReverse: true },
    ],
    instances: [instance('VI', { trackProcesses: [{ name: 'p1' }, { name: 'p2' }] })],
  });
  const set = new TrackerSet(cfg, {
    log: silentLog,
    timers,
    readLink: upLinks,
    scanProcesses: () => Promise.resolve([{ comm: 'a', cmdline: [] }]),
  });
  set.start();
  await set.firstResults();
  // p1 up: +10; p2 down with weight -10 reversed: +10.
  assert.deepEqual(set.inputs('VI'), { delta: 20, faults: [] });
  await set.stop();
});

test('file: value x weight, changes picked up on the next poll, init_file creates the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'floatip-track-'));
  try {
    const timers = new FakeTimers();
    const path = join(dir, 'prio');
    const cfg = trackConfig({
      files: [
        { name: 'f', file: path, weight: 5, initFile: { value: 2, overwrite: false } },
        { name: 'gate', file: join(dir, 'gate'), weight: 0 },
      ],
      instances: [instance('VI', { trackFiles: [{ name: 'f' }, { name: 'gate' }] })],
    });
    const set = new TrackerSet(cfg, { log: silentLog, timers, readLink: upLinks });
    set.start();
    await set.firstResults();
    assert.equal(readFileSync(path, 'utf8'), '2\n');
    assert.deepEqual(set.inputs('VI'), { delta: 10, faults: [] });
    writeFileSync(path, '-60\n');
    writeFileSync(join(dir, 'gate'), '1');
    await timers.advance(1000);
    await eventually(() =>
      assert.deepEqual(set.inputs('VI'), {
        delta: 0,
        faults: ['file f value -60 x weight 5 is at or below -254', 'file gate value 1'],
      }),
    );
    writeFileSync(path, 'garbage-is-zero');
    writeFileSync(join(dir, 'gate'), '0');
    await eventually(() => assert.equal(timers.pending, 3)); // both files re-armed, plus the own interface
    await timers.advance(1000);
    await eventually(() => assert.deepEqual(set.inputs('VI'), { delta: 0, faults: [] }));
    await set.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file: init_file does not overwrite an existing file unless told to', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'floatip-track-'));
  try {
    const keep = join(dir, 'keep');
    const over = join(dir, 'over');
    writeFileSync(keep, '7\n');
    writeFileSync(over, '7\n');
    const cfg = trackConfig({
      files: [
        { name: 'keep', file: keep, initFile: { value: 1, overwrite: false } },
        { name: 'over', file: over, initFile: { value: 1, overwrite: true } },
      ],
      instances: [instance('VI', { trackFiles: [{ name: 'keep' }, { name: 'over' }] })],
    });
    const set = new TrackerSet(cfg, { log: silentLog, timers: new FakeTimers(), readLink: upLinks });
    set.start();
    await set.firstResults();
    assert.equal(readFileSync(keep, 'utf8'), '7\n');
    assert.equal(readFileSync(over, 'utf8'), '1\n');
    assert.equal(set.inputs('VI').delta, 8);
    await set.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sync group members get the group trackers; unused scripts are not run', async () => {
  const timers = new FakeTimers();
  const r = fakeRunner();
  r.codes.set('/g', 1);
  const cfg = trackConfig({
    scripts: [
      { name: 'g', script: '/g' },
      { name: 'unused', script: '/unused' },
    ],
    instances: [instance('A'), instance('B')],
    syncGroups: [{ name: 'G', members: ['A', 'B'], trackScripts: [{ name: 'g' }] }],
  });
  const set = new TrackerSet(cfg, { log: silentLog, timers, runScript: r.run, readLink: upLinks });
  set.start();
  await settle();
  assert.deepEqual(set.inputs('A').faults, ['script g down']);
  assert.deepEqual(set.inputs('B').faults, ['script g down']);
  assert.deepEqual(r.runs, [['/g']]);
  await set.stop();
});

test('process: a failing /proc scan is logged and does not block firstResults()', async () => {
  const { log, lines } = memoryLog();
  const cfg = trackConfig({
    processes: [{ name: 'p', process: 'x' }],
    instances: [instance('VI', { trackProcesses: [{ name: 'p' }] })],
  });
  const set = new TrackerSet(cfg, {
    log,
    timers: new FakeTimers(),
    readLink: upLinks,
    scanProcesses: () => Promise.reject(new Error('cannot list /proc: EACCES')),
  });
  set.start();
  await set.firstResults();
  assert.deepEqual(set.inputs('VI'), { delta: 0, faults: [] });
  assert.match(
    set.status().find((s) => s.kind === 'process')?.detail ?? '',
    /scan failed: cannot list \/proc/,
  );
  assert.ok(lines.some((l) => l.msg.includes('process tracking: cannot list /proc')));
  await set.stop();
});
