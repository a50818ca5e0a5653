/**
 * AWS Elastic IP failover end to end: two floatip nodes (a, b) in network namespaces speak VRRPv3
 * unicast; the EC2 emulator and one IMDSv2 emulator per node run in a third namespace (e). Each
 * node finds its instance and ENI through its IMDS (by its eth0 MAC) and signs EC2 calls with the
 * instance-role credentials from there, as on EC2. Every assertion reads the emulator's committed
 * state and call log over its test-only control socket.
 *
 *   a. start: the EIP ends on the master's ENI with exactly one AssociateAddress.
 *   b. freeze the master: the EIP moves to b with one AssociateAddress; thaw: a preempts, one more.
 *   c. protocol 112 cut between the nodes, both masters: at most one move per node per hold-off
 *      window (no ping-pong); heal: one master, the EIP on its ENI.
 *   d. 112 cut, a holding the EIP and b fenced; a's instance stops and its floatip dies: b takes
 *      over at the next read-back (holderAlive says a is dead), long before the hold-off ends.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { CallRecord } from '../emulators/ec2/call-log.js';
import { createLab, floatipArgv, requireNetns, type Lab, type LabProcess } from './harness.js';
import {
  floatipCloudConfig,
  floatipCloudEnv,
  isHolderConfirmed,
  isTransition,
  logRecords,
  startEc2Lab,
  waitForRecord,
  type CloudNode,
  type Ec2Lab,
} from './ec2-lab.js';

const HOLD_OFF_MS = 4000;
const RECONCILE_MS = 500;
const TIMINGS = {
  vrid: 61,
  advertInterval: '100ms',
  reconcileInterval: `${RECONCILE_MS}ms`,
  holdOff: `${HOLD_OFF_MS}ms`,
  providerTimeout: '3s',
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Successful AssociateAddress calls, with the ENI they moved the EIP to. */
function moves(calls: CallRecord[]): Array<{ time: number; eni: string; caller: string | undefined }> {
  return calls
    .filter((c) => c.action === 'AssociateAddress' && c.status === 200)
    .map((c) => ({ time: c.time, eni: c.params.NetworkInterfaceId ?? '?', caller: c.accessKeyId }));
}

/**
 * Protocol 112 arriving on eth0 is dropped by a policy rule ahead of the local table, so nothing
 * reaches floatip's raw socket while every other packet (the EC2 API on TCP) still flows. The local
 * table's rule moves from priority 0 to 20 once, so the cut (priority 10) can precede it.
 */
async function prepareCut(lab: Lab, nodes: CloudNode[]): Promise<void> {
  for (const n of nodes) {
    await lab.exec(n.lab.ns, ['ip', 'rule', 'add', 'pref', '20', 'lookup', 'local']);
    await lab.exec(n.lab.ns, ['ip', 'rule', 'del', 'pref', '0']);
  }
}
async function cut112(lab: Lab, nodes: CloudNode[]): Promise<void> {
  for (const n of nodes) {
    await lab.exec(n.lab.ns, [
      'ip',
      'rule',
      'add',
      'pref',
      '10',
      'iif',
      'eth0',
      'ipproto',
      '112',
      'blackhole',
    ]);
  }
}
async function heal112(lab: Lab, nodes: CloudNode[]): Promise<void> {
  for (const n of nodes) await lab.exec(n.lab.ns, ['ip', 'rule', 'del', 'pref', '10']);
}

interface Rig {
  lab: Lab;
  ec2: Ec2Lab;
  dir: string;
  A: CloudNode;
  B: CloudNode;
  start: (n: CloudNode, peer: CloudNode, priority: number) => LabProcess;
}

async function setup(t: TestContext): Promise<Rig> {
  const lab = await createLab(['a', 'b', 'e'], { ipv6: false });
  const dir = mkdtempSync('/tmp/fipaws-');
  t.after(async () => {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const ec2 = await startEc2Lab(lab, { emulatorNode: 'e', floatipNodes: ['a', 'b'], dir });
  const A = ec2.nodes.a!;
  const B = ec2.nodes.b!;
  const start = (n: CloudNode, peer: CloudNode, priority: number): LabProcess => {
    const file = join(dir, `${n.name}.yaml`);
    writeFileSync(file, floatipCloudConfig(ec2, n, peer, { ...TIMINGS, priority }));
    return lab.spawn(n.lab.ns, floatipArgv('run', '-f', file, '--no-pretty'), {
      env: floatipCloudEnv(dir),
      label: `floatip-${n.name}`,
    });
  };
  return { lab, ec2, dir, A, B, start };
}

test('aws eip: failover, preemption, split brain and a dead holder against emulated EC2', async (t) => {
  if (!requireNetns(t)) return;
  const { lab, ec2, A, B, start } = await setup(t);
  await prepareCut(lab, [A, B]);
  let a!: LabProcess;
  let b!: LabProcess;

  await t.test('a. start: the EIP ends on the master ENI with exactly one AssociateAddress', async () => {
    const t0 = Date.now();
    // a first, so the election has one outcome; b joins as backup.
    a = start(A, B, 150);
    await waitForRecord(a, isTransition('MASTER'), t0, 20_000, 'a MASTER');
    await waitForRecord(a, isHolderConfirmed, t0, 10_000, 'a holder confirmed');
    b = start(B, A, 100);
    await waitForRecord(b, isTransition('BACKUP'), t0, 20_000, 'b BACKUP');
    await sleep(3 * RECONCILE_MS);
    assert.equal(await ec2.eipHolder(), A.eniId);
    const m = moves(await ec2.calls());
    assert.deepEqual(
      m.map((x) => [x.eni, x.caller]),
      [[A.eniId, A.accessKeyId]],
      'one AssociateAddress, by a, to its ENI',
    );
    const errors = (await ec2.calls()).filter((c) => c.status !== 200);
    assert.deepEqual(errors, [], 'no EC2 call failed (IAM, ids, credentials)');
  });

  await t.test(
    'b. freeze the master: the EIP moves to b with one call; thaw: a preempts with one call',
    async (tt) => {
      const seq0 = (await ec2.calls()).at(-1)?.seq ?? 0;
      const frozen = Date.now();
      a.signal('SIGSTOP');
      const bMaster = await waitForRecord(b, isTransition('MASTER'), frozen, 10_000, 'b MASTER');
      const bHolder = await waitForRecord(b, isHolderConfirmed, frozen, 10_000, 'b holder confirmed');
      await ec2.waitForHolder(B.eniId, 5000);
      const failover = moves(await ec2.calls(seq0));
      assert.deepEqual(
        failover.map((x) => [x.eni, x.caller]),
        [[B.eniId, B.accessKeyId]],
        'one AssociateAddress for the failover',
      );
      tt.diagnostic(
        `freeze → b MASTER ${bMaster.time - frozen} ms → AssociateAddress received ${failover[0]!.time - frozen} ms → ` +
          `holder confirmed ${bHolder.time - frozen} ms (transition → AssociateAddress ${failover[0]!.time - bMaster.time} ms)`,
      );

      const seq1 = (await ec2.calls()).at(-1)?.seq ?? 0;
      const thawed = Date.now();
      a.signal('SIGCONT');
      await waitForRecord(b, isTransition('BACKUP'), thawed, 10_000, 'b BACKUP after a resumes');
      const back = await ec2.waitForHolder(A.eniId, 10_000);
      await sleep(3 * RECONCILE_MS);
      assert.equal(await ec2.eipHolder(), A.eniId, 'the EIP stays on a');
      const preempt = moves(await ec2.calls(seq1));
      assert.deepEqual(
        preempt.map((x) => [x.eni, x.caller]),
        [[A.eniId, A.accessKeyId]],
        'one AssociateAddress for the preemption',
      );
      tt.diagnostic(`thaw → EIP on a (seen by polling) ${back - thawed} ms`);
    },
  );

  await t.test(
    'c. protocol 112 cut: both masters, at most one move per node per hold-off window; heal: one holder',
    async (tt) => {
      // Let a's last move age past the hold-off, as in a long-running pair.
      await sleep(HOLD_OFF_MS);
      const seq0 = (await ec2.calls()).at(-1)?.seq ?? 0;
      const cut = Date.now();
      await cut112(lab, [A, B]);
      await waitForRecord(b, isTransition('MASTER'), cut, 10_000, 'b MASTER with 112 cut');
      const windows = 3;
      await sleep(windows * HOLD_OFF_MS + 1000);
      const observed = Date.now() - cut;
      const aLast = logRecords(a)
        .filter((r) => r.event === 'transition')
        .at(-1);
      assert.equal(aLast?.to, 'MASTER', 'a stays MASTER: it hears nothing either');
      const m = moves(await ec2.calls(seq0));
      for (const n of [A, B]) {
        const mine = m.filter((x) => x.eni === n.eniId);
        assert.ok(
          mine.every((x) => x.caller === n.accessKeyId),
          'each node moves the EIP only to itself',
        );
        for (let i = 1; i < mine.length; i++) {
          const gap = mine[i]!.time - mine[i - 1]!.time;
          assert.ok(
            gap >= HOLD_OFF_MS - 100,
            `${n.name} moved twice within ${gap} ms (< hold_off ${HOLD_OFF_MS} ms)`,
          );
        }
      }
      const perWindow = m.length / (observed / HOLD_OFF_MS);
      assert.ok(
        m.length <= 2 * Math.ceil(observed / HOLD_OFF_MS) + 1,
        `${m.length} moves in ${observed} ms is more than one per node per hold-off window`,
      );
      const holder = await ec2.eipHolder();
      assert.ok(holder === A.eniId || holder === B.eniId, `the EIP is on one node's ENI, not ${holder}`);
      tt.diagnostic(
        `cut for ${observed} ms (${(observed / HOLD_OFF_MS).toFixed(1)} hold-off windows): ${m.length} AssociateAddress ` +
          `(a ${m.filter((x) => x.eni === A.eniId).length}, b ${m.filter((x) => x.eni === B.eniId).length}), ` +
          `${perWindow.toFixed(2)} per window; moves at ${m.map((x) => `${ec2.nodeOfEni(x.eni)}@${x.time - cut}`).join(' ')} ms`,
      );

      const healed = Date.now();
      await heal112(lab, [A, B]);
      await waitForRecord(b, isTransition('BACKUP'), healed, 10_000, 'b BACKUP after the heal');
      const settled = await ec2.waitForHolder(A.eniId, 2 * HOLD_OFF_MS + 5000);
      await sleep(3 * RECONCILE_MS);
      assert.equal(await ec2.eipHolder(), A.eniId, 'the EIP stays with the one master');
      tt.diagnostic(`heal → EIP settled on a in ${settled - healed} ms`);
    },
  );

  await t.test(
    'd. 112 cut, a holds and b is fenced; a\u2019s instance stops and a dies: b takes over via holderAlive',
    async (tt) => {
      await sleep(HOLD_OFF_MS);
      const cut = Date.now();
      await cut112(lab, [A, B]);
      await waitForRecord(b, isTransition('MASTER'), cut, 10_000, 'b MASTER with 112 cut');
      // b moves it (became master), a, whose last move is older than the hold-off, repairs at once,
      // and b, having moved within the hold-off, is fenced by a's ENI.
      const fence = await waitForRecord(
        b,
        (r) => r.event === 'split-brain-suspected' && r.holder === A.eniId,
        cut,
        10_000,
        'b fenced by a',
      );
      assert.equal(await ec2.eipHolder(), A.eniId);
      const seq0 = (await ec2.calls()).at(-1)?.seq ?? 0;
      const stopped = Date.now();
      await ec2.setInstanceState('a', 'stopped');
      a.signal('SIGKILL');
      await a.exited;
      const taken = await ec2.waitForHolder(B.eniId, HOLD_OFF_MS + 5000);
      const move = await waitForRecord(b, (r) => r.event === 'holder-move', stopped, 5000, 'b holder-move');
      assert.equal(move.reason, 'holder-dead', `b took it because a is dead, not by ${String(move.reason)}`);
      const m = moves(await ec2.calls(seq0));
      assert.deepEqual(
        m.map((x) => [x.eni, x.caller]),
        [[B.eniId, B.accessKeyId]],
        'one AssociateAddress',
      );
      const fencedFor = m[0]!.time - fence.time;
      assert.ok(
        fencedFor < HOLD_OFF_MS,
        `b moved ${fencedFor} ms after being fenced; the hold-off is ${HOLD_OFF_MS} ms`,
      );
      const aliveChecks = (await ec2.calls(seq0)).filter(
        (c) => c.action === 'DescribeInstances' && c.accessKeyId === B.accessKeyId,
      );
      assert.ok(aliveChecks.length >= 1, 'b asked EC2 about a\u2019s instance');
      tt.diagnostic(
        `a stopped+killed → AssociateAddress by b ${m[0]!.time - stopped} ms → EIP on b ${taken - stopped} ms ` +
          `(b fenced ${fencedFor} ms before it moved; hold_off ${HOLD_OFF_MS} ms)`,
      );
    },
  );
  await b.stop();
});
