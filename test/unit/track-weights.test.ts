import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binaryContribution, fileContribution, RiseFall } from '../../src/track/weights.js';
import { parseTrackValue } from '../../src/track/file.js';
import { matches, paramsMatch, type ProcessMatcher } from '../../src/track/process.js';
import { resolveLinks } from '../../src/track/links.js';
import { trackConfig, instance } from './track-fixtures.js';

test('binary trackers: positive weight added while up, negative while down, reverse flips the sign', () => {
  const cases: [boolean, number, boolean, number][] = [
    [true, 10, false, 10],
    [false, 10, false, 0],
    [true, -10, false, 0],
    [false, -10, false, -10],
    [true, 10, true, -10],
    [false, 10, true, 0],
    [true, -10, true, 0],
    [false, -10, true, 10],
  ];
  for (const [up, w, rev, delta] of cases) {
    assert.deepEqual(
      binaryContribution(up, w, rev),
      { delta, fault: false },
      `up=${up} weight=${w} reverse=${rev}`,
    );
  }
});

test('binary trackers: weight 0 is FAULT while down, or while up with reverse', () => {
  assert.deepEqual(binaryContribution(false, 0, false), { delta: 0, fault: true });
  assert.deepEqual(binaryContribution(true, 0, false), { delta: 0, fault: false });
  assert.deepEqual(binaryContribution(true, 0, true), { delta: 0, fault: true });
  assert.deepEqual(binaryContribution(false, 0, true), { delta: 0, fault: false });
});

test('file tracker: value x weight, clamped at 253, FAULT at or below -254; weight 0 faults on non-zero', () => {
  assert.deepEqual(fileContribution(3, 5, false), { delta: 15, fault: false });
  assert.deepEqual(fileContribution(3, 5, true), { delta: -15, fault: false });
  assert.deepEqual(fileContribution(-3, 5, false), { delta: -15, fault: false });
  assert.deepEqual(fileContribution(100, 10, false), { delta: 253, fault: false });
  assert.deepEqual(fileContribution(-253, 1, false), { delta: -253, fault: false });
  assert.deepEqual(fileContribution(-254, 1, false), { delta: 0, fault: true });
  assert.deepEqual(fileContribution(-100, 10, false), { delta: 0, fault: true });
  assert.deepEqual(fileContribution(0, 0, false), { delta: 0, fault: false });
  assert.deepEqual(fileContribution(7, 0, false), { delta: 0, fault: true });
  assert.deepEqual(fileContribution(0, 0, true), { delta: 0, fault: true });
  assert.deepEqual(fileContribution(7, 0, true), { delta: 0, fault: false });
});

function feed(rf: RiseFall, results: string): (boolean | null)[] {
  return [...results].map((c) => {
    rf.record(c === '1');
    return rf.up;
  });
}

test('rise/fall: one success is enough at start, then fall failures down and rise successes up', () => {
  const rf = new RiseFall(3, 2, false);
  assert.equal(rf.up, null);
  assert.deepEqual(feed(rf, '1'), [true]);
  // a single failure is absorbed, a success resets the streak, two in a row take it down
  assert.deepEqual(feed(rf, '0100'), [true, true, true, false]);
  // two successes are not enough, a failure restarts the count, three in a row bring it up
  assert.deepEqual(feed(rf, '110111'), [false, false, false, false, false, true]);
});

test('rise/fall: the first failure takes an unknown script down at once', () => {
  const rf = new RiseFall(2, 5, false);
  assert.equal(rf.record(false), false);
  assert.equal(rf.up, false);
  assert.deepEqual(feed(rf, '11'), [false, true]);
});

test('rise/fall: init_fail starts down and needs rise successes', () => {
  const rf = new RiseFall(2, 1, true);
  assert.equal(rf.up, false);
  assert.deepEqual(feed(rf, '101'), [false, false, false]);
  assert.deepEqual(feed(rf, '1'), [true]);
  assert.deepEqual(feed(rf, '0'), [false]);
});

test('rise/fall: record() returns the new state only on a change', () => {
  const rf = new RiseFall(1, 1, false);
  assert.equal(rf.record(true), true);
  assert.equal(rf.record(true), undefined);
  assert.equal(rf.record(false), false);
  assert.equal(rf.record(false), undefined);
});

test('track file values are read like strtol(..., 0)', () => {
  assert.equal(parseTrackValue('42\n'), 42);
  assert.equal(parseTrackValue('  -7 apples'), -7);
  assert.equal(parseTrackValue('0x1F'), 31);
  assert.equal(parseTrackValue('010'), 8);
  assert.equal(parseTrackValue('+5'), 5);
  assert.equal(parseTrackValue(''), 0);
  assert.equal(parseTrackValue('abc'), 0);
  assert.equal(parseTrackValue('99999999999'), null);
  assert.equal(parseTrackValue('2147483648'), 2147483648);
});

test('process params: exact, partial and initial as keepalived compares them', () => {
  const m = (params: string[] | null, paramMatch: ProcessMatcher['paramMatch']): ProcessMatcher => ({
    process: '/usr/sbin/haproxy',
    params,
    paramMatch,
  });
  const args = ['-f', '/etc/haproxy.cfg'];
  assert.equal(paramsMatch(m(['-f', '/etc/haproxy.cfg'], 'exact'), args), true);
  assert.equal(paramsMatch(m(['-f'], 'exact'), args), false);
  assert.equal(paramsMatch(m(['-f'], 'partial'), args), true);
  assert.equal(paramsMatch(m(['-f', '/etc/hap'], 'partial'), args), false);
  assert.equal(paramsMatch(m(['-f', '/etc/hap'], 'initial'), args), true);
  assert.equal(paramsMatch(m([], 'exact'), []), true);
  assert.equal(paramsMatch(m([], 'exact'), ['-d']), false);
  assert.equal(matches(m(null, 'exact'), { comm: '/usr/sbin/haproxy', cmdline: [] }), true);
  assert.equal(matches(m(null, 'exact'), { comm: 'haproxy', cmdline: ['/usr/sbin/haproxy'] }), false);
  assert.equal(
    matches(m(['-f', '/etc/haproxy.cfg'], 'exact'), {
      comm: 'haproxy',
      cmdline: ['/usr/sbin/haproxy', ...args],
    }),
    true,
  );
});

test('links: TrackRef weight and reverse override the tracker, an unset reverse keeps the tracker one', () => {
  const cfg = trackConfig({
    scripts: [{ name: 'chk', weight: 5, weightReverse: true }],
    instances: [
      instance('A', { trackScripts: [{ name: 'chk' }] }),
      instance('B', { trackScripts: [{ name: 'chk', weight: -20 }] }),
      instance('C', { trackScripts: [{ name: 'chk', weight: 7, reverse: false }] }),
    ],
  });
  const { links } = resolveLinks(cfg, {});
  const chk = (i: string) => links.get(i)?.find((l) => l.name === 'chk');
  assert.deepEqual([chk('A')?.weight, chk('A')?.reverse], [5, true]);
  assert.deepEqual([chk('B')?.weight, chk('B')?.reverse], [-20, true]);
  assert.deepEqual([chk('C')?.weight, chk('C')?.reverse], [7, false]);
});

test('links: the own interface is tracked unweighted unless dont_track_primary', () => {
  const cfg = trackConfig({
    instances: [
      instance('A', { interface: 'eth1', trackInterfaces: [{ name: 'eth1', weight: 10 }] }),
      instance('B', { interface: 'eth1', extra: { dont_track_primary: [] } }),
    ],
  });
  const { links } = resolveLinks(cfg, {});
  assert.deepEqual(links.get('A'), [
    { kind: 'interface', name: 'eth1', weight: 0, reverse: false, own: true },
  ]);
  assert.deepEqual(links.get('B'), []);
});

test('links: sync group members lose weights; the address owner drops weighted trackers', () => {
  const cfg = trackConfig({
    scripts: [
      { name: 'chk', weight: 5 },
      { name: 'must', weight: 0 },
    ],
    files: [
      { name: 'f1', weight: 1 },
      { name: 'f2', weight: 3 },
    ],
    instances: [
      instance('S', {
        trackScripts: [{ name: 'chk' }, { name: 'must' }],
        trackInterfaces: [{ name: 'eth9', weight: 10 }],
        trackFiles: [{ name: 'f1' }, { name: 'f2' }],
      }),
      instance('O', {
        priority: 255,
        trackScripts: [{ name: 'chk' }],
        trackInterfaces: [{ name: 'eth9', weight: 10 }],
      }),
    ],
    syncGroups: [{ name: 'G', members: ['S'] }],
  });
  const { links, warnings } = resolveLinks(cfg, {});
  const names = (i: string) => (links.get(i) ?? []).map((l) => `${l.kind}:${l.name}:${l.weight}`);
  assert.deepEqual(names('S'), ['interface:eth0:0', 'script:must:0', 'interface:eth9:0', 'file:f1:0']);
  assert.deepEqual(names('O'), ['interface:eth0:0']);
  assert.ok(warnings.some((w) => w.includes('weighted script chk ignored because it is in a sync group')));
  const kept = resolveLinks(cfg, {}, { syncGroupTrackingWeight: new Set(['G']) }).links;
  assert.deepEqual(
    (kept.get('S') ?? []).map((l) => `${l.name}:${l.weight}`),
    ['eth0:0', 'chk:5', 'must:0', 'eth9:10', 'f1:1', 'f2:3'],
  );
});

test('links: a sync group entry replaces a weighted instance entry, not an unweighted one', () => {
  const cfg = trackConfig({
    scripts: [
      { name: 'a', weight: 5 },
      { name: 'b', weight: 0 },
    ],
    instances: [instance('S', { trackScripts: [{ name: 'a' }, { name: 'b' }] })],
    syncGroups: [
      {
        name: 'G',
        members: ['S'],
        trackScripts: [
          { name: 'a', weight: 9 },
          { name: 'b', weight: 9 },
        ],
      },
    ],
  });
  const { links } = resolveLinks(cfg, {}, { syncGroupTrackingWeight: new Set(['G']) });
  assert.deepEqual(
    (links.get('S') ?? []).filter((l) => l.kind === 'script').map((l) => `${l.name}:${l.weight}`),
    ['a:9', 'b:0'],
  );
});

test('links: unknown names are warned about and ignored; http/tcp share the script name space', () => {
  const cfg = trackConfig({
    instances: [
      instance('A', { trackScripts: [{ name: 'nope' }, { name: 'web' }], trackProcesses: [{ name: 'p' }] }),
    ],
  });
  const { links, warnings } = resolveLinks(cfg, {
    http: [
      {
        name: 'web',
        url: 'http://127.0.0.1/',
        intervalMs: 1000,
        weight: 3,
        weightReverse: false,
        rise: 1,
        fall: 1,
      },
    ],
  });
  assert.deepEqual(
    (links.get('A') ?? []).map((l) => `${l.kind}:${l.name}:${l.weight}`),
    ['interface:eth0:0', 'http:web:3'],
  );
  assert.equal(warnings.length, 2);
  assert.throws(
    () =>
      resolveLinks(trackConfig({ scripts: [{ name: 'web' }] }), {
        tcp: [
          {
            name: 'web',
            host: '127.0.0.1',
            port: 1,
            intervalMs: 1000,
            weight: 0,
            weightReverse: false,
            rise: 1,
            fall: 1,
          },
        ],
      }),
    /"web" is used by a script check and a tcp check/,
  );
});
