/**
 * The keepalived classic, unchanged: `vrrp_script chk_haproxy { script "killall -0 haproxy"
 * interval 2 weight -30 fall 3 rise 2 }`, a process named haproxy on each node, and a client that
 * must follow the VIP. Each node runs in its own PID namespace so that `killall -0 haproxy` sees
 * only that node's haproxy, as on two real machines.
 *
 * And the notify stage under a flapping tracker: the notify script's log shows the transitions in
 * order, and its last line is the node's final VRRP state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, floatipArgv, requireNetns, type Lab, type LabNode, type LabProcess } from './harness.js';
import { neighbourMac, startProber, startVipService } from './vip-client.js';

const VIP = '10.99.0.100';

function classicConfig(me: LabNode, peer: LabNode, priority: number, extra: string): string {
  return `vrrp_script chk_haproxy {
  script "killall -0 haproxy"
  interval 2
  weight -30
  fall 3
  rise 2
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 81
  priority ${priority}
  advert_int 1
  unicast_src_ip ${me.addr4}
  unicast_peer {
    ${peer.addr4}
  }
  virtual_ipaddress {
    ${VIP}/16
  }
  track_script {
    chk_haproxy
  }
  ${extra}
}
`;
}

/** floatip as PID 1's child in a fresh PID namespace (with its own /proc). */
function startIsolated(lab: Lab, node: LabNode, conf: string): LabProcess {
  return lab.spawn(
    node.ns,
    [
      'unshare',
      '--pid',
      '--fork',
      '--mount-proc',
      '--kill-child=SIGTERM',
      ...floatipArgv('run', '-f', conf, '--no-pretty'),
    ],
    { label: `floatip-${node.name}` },
  );
}

/** The host PID of the process unshare forked (floatip), found through /proc. */
async function childPid(p: LabProcess): Promise<number> {
  for (let i = 0; i < 100; i++) {
    try {
      const kids = readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, 'utf8').trim();
      if (kids) return Number(kids.split(/\s+/)[0]);
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${p.label}: unshare never forked its child`);
}

/** Start a process named "haproxy" inside floatip's PID namespace. */
function startHaproxy(lab: Lab, node: LabNode, floatipPid: number, bin: string): LabProcess {
  return lab.spawn(node.ns, ['nsenter', '-t', String(floatipPid), '-p', '-m', '--', bin, '100000'], {
    label: `haproxy-${node.name}`,
  });
}

async function killHaproxy(lab: Lab, node: LabNode, floatipPid: number): Promise<void> {
  await lab.exec(node.ns, ['nsenter', '-t', String(floatipPid), '-p', '-m', '--', 'killall', 'haproxy']);
}

function lastState(p: LabProcess): string | undefined {
  let state: string | undefined;
  for (const l of p.lines()) {
    if (!l.startsWith('{')) continue;
    try {
      const o = JSON.parse(l) as { event?: string; to?: string };
      if (o.event === 'transition') state = o.to;
    } catch {
      // a line that only looks like JSON (a script's output, say)
    }
  }
  return state;
}

/** Polls: a predicate over every past line for every new line would be quadratic in a chatty log. */
async function waitState(p: LabProcess, to: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (lastState(p) !== to) {
    if (Date.now() > deadline) {
      throw new Error(
        `${p.label} did not reach ${to} within ${timeoutMs} ms (last: ${lastState(p)}); output:\n${p.lines().slice(-8).join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function classic(t: import('node:test').TestContext, nopreemptOnA: boolean): Promise<void> {
  const lab = await createLab(['a', 'b', 'c'], { ipv6: false });
  const dir = mkdtempSync(join(tmpdir(), 'floatip-classic-'));
  t.after(async () => {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const [A, B, C] = [lab.nodes.a!, lab.nodes.b!, lab.nodes.c!];
  // A copy of sleep named haproxy: its comm is "haproxy", which is what killall matches.
  const bin = join(dir, 'haproxy');
  copyFileSync('/bin/sleep', bin);
  chmodSync(bin, 0o755);
  await startVipService(lab, A, VIP);
  await startVipService(lab, B, VIP);
  writeFileSync(join(dir, 'a.conf'), classicConfig(A, B, 150, nopreemptOnA ? 'nopreempt' : ''));
  writeFileSync(join(dir, 'b.conf'), classicConfig(B, A, 140, ''));
  // a first: with nopreempt on a, whoever is master first keeps it, so the start order decides.
  const a = startIsolated(lab, A, join(dir, 'a.conf'));
  const pa = await childPid(a);
  startHaproxy(lab, A, pa, bin);
  await waitState(a, 'MASTER', 20_000);
  const b = startIsolated(lab, B, join(dir, 'b.conf'));
  const pb = await childPid(b);
  startHaproxy(lab, B, pb, bin);
  await waitState(b, 'BACKUP', 20_000);
  const probe = startProber(lab, C, VIP);

  await probe.firstAnswer('a', Date.now() - 1000, 10_000);

  // haproxy dies on the master: 3 failed checks 2 s apart, a drops to 120 < 140, b preempts.
  const killed = Date.now();
  await killHaproxy(lab, A, pa);
  await waitState(b, 'MASTER', 20_000);
  await waitState(a, 'BACKUP', 5000);
  await probe.firstAnswer('b', killed, 10_000);
  assert.equal(await neighbourMac(lab, C, VIP), B.mac);
  const movedAfter = Date.now() - killed;

  // haproxy is back: 2 good checks, a is 150 again.
  const restarted = Date.now();
  startHaproxy(lab, A, pa, bin);
  if (!nopreemptOnA) {
    await waitState(a, 'MASTER', 20_000);
    await probe.firstAnswer('a', restarted, 10_000);
    assert.equal(await neighbourMac(lab, C, VIP), A.mac);
    console.log(
      `classic (preempt): moved to b ${movedAfter} ms after haproxy died; back to a ${Date.now() - restarted} ms after it returned`,
    );
  } else {
    // Two rise checks plus margin: a is healthy again but must not take the VIP back.
    await new Promise((r) => setTimeout(r, 8000));
    assert.equal(lastState(a), 'BACKUP', 'nopreempt: a must stay backup');
    assert.equal(lastState(b), 'MASTER');
    const who = await probe.firstAnswer('b', Date.now(), 5000);
    assert.ok(who > 0);
    console.log(`classic (nopreempt on a): moved to b ${movedAfter} ms after haproxy died; stayed on b`);
  }
}

test('classic chk_haproxy: kill haproxy on the master → the VIP moves; restart it → it moves back (preempt)', async (t) => {
  if (!requireNetns(t)) return;
  await classic(t, false);
});

test('classic chk_haproxy with nopreempt on the old master: the VIP stays where it went', async (t) => {
  if (!requireNetns(t)) return;
  await classic(t, true);
});

test(
  'notify scripts under a flapping tracker run in order and end on the final VRRP state',
  { timeout: 120_000 },
  async (t) => {
    if (!requireNetns(t)) return;
    const lab = await createLab(['a', 'b'], { ipv6: false });
    const dir = mkdtempSync(join(tmpdir(), 'floatip-flap-'));
    t.after(async () => {
      await lab.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });
    const [A, B] = [lab.nodes.a!, lab.nodes.b!];
    // While the "flap" file exists the check fails for 5 runs, passes for 5, and so on: each phase
  // outlasts Master_Down (~3.5 s), so every phase change moves the master.
    const check = join(dir, 'check.sh');
    writeFileSync(
      check,
      `#!/bin/sh
[ -e ${dir}/flap ] || exit 0
n=$(cat ${dir}/count 2>/dev/null || echo 0)
echo $((n + 1)) > ${dir}/count
exit $(( (n / 5) % 2 ))
`,
    );
    const notify = join(dir, 'notify.sh');
    writeFileSync(notify, `#!/bin/sh\necho "$3" >> ${dir}/notify-$NODE.log\n`);
    chmodSync(check, 0o755);
    chmodSync(notify, 0o755);
    writeFileSync(join(dir, 'flap'), '');
    const conf = (me: LabNode, peer: LabNode, prio: number, tracked: boolean) => `vrrp_script chk {
  script "${check}"
  interval 1
  weight -60
  fall 1
  rise 1
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 82
  priority ${prio}
  advert_int 1
  version 3
  unicast_src_ip ${me.addr4}
  unicast_peer {
    ${peer.addr4}
  }
  virtual_ipaddress {
    10.99.0.110/16
  }
  ${tracked ? 'track_script {\n    chk\n  }' : ''}
  notify "/usr/bin/env NODE=${me.name} ${notify}"
}
`;
    writeFileSync(join(dir, 'a.conf'), conf(A, B, 150, true));
    writeFileSync(join(dir, 'b.conf'), conf(B, A, 100, false));
    const b = lab.spawn(B.ns, floatipArgv('run', '-f', join(dir, 'b.conf'), '--no-pretty'), { label: 'b' });
    const a = lab.spawn(A.ns, floatipArgv('run', '-f', join(dir, 'a.conf'), '--no-pretty'), { label: 'a' });
    // Let a flap between 150 and 90 for a while: it preempts, is preempted, preempts…
    await new Promise((r) => setTimeout(r, 25_000));
    rmSync(join(dir, 'flap'));
    // Settle: the check passes from now on; a (150) ends MASTER, b BACKUP.
    await waitState(a, 'MASTER', 20_000);
    await waitState(b, 'BACKUP', 20_000);
    await new Promise((r) => setTimeout(r, 3000));
    await a.stop();
    await b.stop();

    for (const [name, p] of [
      ['a', a],
      ['b', b],
    ] as const) {
      const logged = readFileSync(join(dir, `notify-${name}.log`), 'utf8')
        .trim()
        .split('\n');
      const transitions = p
        .lines()
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { event?: string; to?: string })
        .filter((o) => o.event === 'transition')
        .map((o) => (o.to === 'INIT' ? 'STOP' : o.to));
      assert.ok(
        transitions.length >= 4,
        `${name}: the tracker should have caused flapping (${transitions.join(' ')})`,
      );
      // Every transition produced its notify, in order (a superseded one may be cut short, never reordered).
      assert.deepEqual(logged, transitions, `${name}: notify log vs VRRP transitions`);
      console.log(`${name}: ${transitions.length} transitions, notify log in the same order`);
    }
  },
);
