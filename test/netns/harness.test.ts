import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createLab, floatipArgv, requireNetns, sweepStaleLabs } from './harness.js';

function nsList(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

void test('lab: nodes share one L2 segment over IPv4 and IPv6, and cleanup removes everything', async (t) => {
  if (!requireNetns(t)) return;
  const lab = await createLab(['a', 'b', 'c']);
  try {
    const { a, b, c } = lab.nodes;
    assert.ok(a && b && c);
    assert.equal(a.addr4, '10.99.0.1');
    assert.equal(c.addr4, '10.99.0.3');
    assert.equal(b.addr6, 'fd99::2');
    assert.equal(a.ifname, 'eth0');
    assert.match(lab.id, /^fip[0-9a-f]{6}$/);

    const addrs = await lab.exec(a.ns, ['ip', '-o', 'addr', 'show', 'dev', 'eth0']);
    assert.match(addrs.stdout, /inet 10\.99\.0\.1\/16/);
    assert.match(addrs.stdout, /inet6 fd99::1\/64/);
    assert.match(addrs.stdout, /inet6 fe80::/);
    assert.doesNotMatch(addrs.stdout, /tentative/);
    const link = await lab.exec(a.ns, ['ip', '-o', 'link', 'show', 'dev', 'eth0']);
    assert.ok(link.stdout.includes(a.mac), `eth0 should carry ${a.mac}: ${link.stdout}`);
    const lo = await lab.exec(a.ns, ['ip', '-o', 'link', 'show', 'dev', 'lo']);
    assert.match(lo.stdout, /UP/);

    await lab.exec(a.ns, ['ping', '-c', '1', '-W', '2', b.addr4]);
    await lab.exec(c.ns, ['ping', '-c', '1', '-W', '2', a.addr4]);
    await lab.exec(b.ns, ['ping', '-6', '-c', '1', '-W', '2', c.addr6]);
    // Multicast to the VRRP group reaches the segment (bridge snooping is off): a ping to the
    // all-nodes group gets an answer from the other nodes.
    await lab.exec(a.ns, ['ping', '-6', '-c', '1', '-W', '2', 'ff02::1%eth0']);

    // Nothing of the lab in the root namespace.
    const root = spawnSync('ip', ['-o', 'addr'], { encoding: 'utf8' });
    assert.doesNotMatch(root.stdout, /10\.99\.0\./);
    assert.ok(nsList().filter((n) => n.includes(lab.id)).length === 4, 'switch + 3 node namespaces');
  } finally {
    await lab.cleanup();
  }
  assert.deepEqual(
    nsList().filter((n) => n.includes(lab.id)),
    [],
  );
  await lab.cleanup(); // idempotent
});

void test('lab.exec rejects on a non-zero exit unless allowFail, and honours env and timeout', async (t) => {
  if (!requireNetns(t)) return;
  const lab = await createLab(['a'], { ipv6: false });
  try {
    const ns = lab.nodes.a!.ns;
    await assert.rejects(lab.exec(ns, ['sh', '-c', 'echo boom >&2; exit 3']), /exit 3.*boom/);
    const r = await lab.exec(ns, ['sh', '-c', 'echo "$X"; exit 4'], { allowFail: true, env: { X: 'hello' } });
    assert.equal(r.code, 4);
    assert.equal(r.stdout.trim(), 'hello');
    await assert.rejects(lab.exec(ns, ['sleep', '5'], { timeoutMs: 200 }), /timed out/);
    assert.equal(lab.nodes.a!.addr6, '');
    const v6 = await lab.exec(ns, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0']);
    assert.equal(v6.stdout.trim(), '');
    await assert.rejects(lab.exec('not-a-lab-ns', ['true']), /not part of this lab/);
  } finally {
    await lab.cleanup();
  }
});

void test('lab.spawn: lines, waitForLine (past and future), signals, and cleanup of frozen processes', async (t) => {
  if (!requireNetns(t)) return;
  const lab = await createLab(['a']);
  try {
    const ns = lab.nodes.a!.ns;
    const p = lab.spawn(ns, ['sh', '-c', 'echo first; echo err >&2; sleep 0.3; echo second; exec sleep 60'], {
      label: 'sh',
    });
    assert.equal(p.label, 'sh');
    assert.equal(await p.waitForLine(/second/, 3000), 'second');
    assert.equal(await p.waitForLine((l) => l === 'first', 100), 'first'); // already seen
    assert.ok(p.lines().includes('err'));
    await assert.rejects(p.waitForLine(/never/, 100), /no line matched.*second/s);

    // The PID is the command's own (ip netns exec execs in place), so it is in the namespace.
    const pids = await lab
      .exec(ns, ['true'])
      .then(() => spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout);
    assert.ok(pids.split(/\s+/).includes(String(p.pid)), `pid ${p.pid} should be in ${ns}: ${pids}`);

    const short = lab.spawn(ns, ['sh', '-c', 'echo bye; exit 7']);
    assert.equal(await short.exited, 7);
    await assert.rejects(short.waitForLine(/nope/, 1000), /exited with 7.*bye/s);

    // A frozen process must still be cleaned up (SIGCONT before SIGTERM).
    const frozen = lab.spawn(ns, ['sleep', '60'], { label: 'frozen' });
    frozen.signal('SIGSTOP');
    await lab.cleanup();
    assert.notEqual(await frozen.exited, 0);
    assert.equal(await p.exited, null); // killed by signal
  } finally {
    await lab.cleanup();
  }
});

void test('floatipArgv runs the CLI from source with tsx', (t) => {
  if (!requireNetns(t)) return;
  const argv = floatipArgv('run', '-f', 'x.conf');
  assert.equal(argv[0], process.execPath);
  assert.equal(argv[1], '--import');
  assert.match(argv[3]!, /src\/cli\/main\.ts$/);
  assert.deepEqual(argv.slice(4), ['run', '-f', 'x.conf']);
});

void test("stale-lab sweep deletes only this suite's namespaces whose creator is gone", async (t) => {
  if (!requireNetns(t)) return;
  // A PID that surely exited: a child we waited for.
  const dead = spawnSync('true').pid;
  assert.ok(dead);
  const stale = `fiplab-${dead}-fipdead0-a`;
  const live = `fiplab-${process.pid}-fiplive0-a`;
  const other = `fipother-${dead}-a`;
  for (const n of [stale, live, other]) spawnSync('ip', ['netns', 'add', n]);
  try {
    const removed = await sweepStaleLabs();
    assert.ok(removed.includes(stale));
    const after = nsList();
    assert.ok(!after.includes(stale));
    assert.ok(after.includes(live));
    assert.ok(after.includes(other));
  } finally {
    for (const n of [stale, live, other]) spawnSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
  }
});
