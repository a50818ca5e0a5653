/**
 * The cloud part of `npm run demo`: two floatip nodes and emulated EC2 (test/netns/ec2-lab.ts: the
 * EC2 emulator and one IMDSv2 emulator per node in the lab's third namespace), one Elastic IP. The
 * master is frozen; the timeline shows, in ms from the master's last advert on the wire, when the
 * backup became master, when EC2 received its AssociateAddress and when the provider confirmed
 * the holder by reading it back. Then the master is thawed and takes the address back.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adverts, startCapture, removeCaptureDir, type Capture } from '../../test/netns/capture.js';
import {
  PUBLIC_IP,
  floatipCloudConfig,
  floatipCloudEnv,
  isHolderConfirmed,
  isTransition,
  startEc2Lab,
  waitForRecord,
  type CloudNode,
  type Ec2Lab,
} from '../../test/netns/ec2-lab.js';
import type { CallRecord } from '../../test/emulators/ec2/call-log.js';
import { floatipArgv, type Lab, type LabProcess } from '../../test/netns/harness.js';

export interface CloudStep {
  /** ms from the phase's origin (see CloudPhase.origin). */
  tMs: number;
  what: string;
}

export interface CloudPhase {
  name: string;
  /** What tMs = 0 is. */
  origin: string;
  steps: CloudStep[];
  /** AssociateAddress calls EC2 received in this phase. */
  associateCalls: number;
  /** Every EC2 call the new holder made from its transition to its confirmation, by action. */
  callsByAction: Record<string, number>;
}

export interface CloudSummary {
  elasticIp: string;
  ec2LatencyMs: number;
  advertIntervalMs: number;
  phases: CloudPhase[];
  /** The backup's MASTER transition → EC2 received its AssociateAddress, ms. */
  transitionToAssociateMs: number;
  /** The frozen master's last advert → the EIP confirmed on the backup, ms. */
  masterLostToConfirmedMs: number;
}

const ADVERT_MS = 100;

export interface CloudDemoOptions {
  lab: Lab;
  dir: string;
  ec2LatencyMs: number;
  say: (line: string) => void;
}

export async function runCloudDemo(o: CloudDemoOptions): Promise<CloudSummary> {
  const { lab, dir, say } = o;
  const ec2 = await startEc2Lab(lab, {
    emulatorNode: 'e',
    floatipNodes: ['a', 'b'],
    dir,
    latencyMs: o.ec2LatencyMs,
  });
  const A = ec2.nodes.a!;
  const B = ec2.nodes.b!;
  let capture: Capture | null = null;
  const procs: LabProcess[] = [];
  try {
    capture = await startCapture(lab, B.lab, { filter: 'ip proto 112' });
    say(
      `\nfloatip cloud demo: Elastic IP ${PUBLIC_IP} in emulated EC2 (${ec2.endpoint}, latency ${o.ec2LatencyMs} ms), ` +
        `a (prio 150, ${A.eniId}) and b (prio 100, ${B.eniId}), advert ${ADVERT_MS} ms`,
    );
    const start = (n: CloudNode, peer: CloudNode, priority: number): LabProcess => {
      const file = join(dir, `cloud-${n.name}.yaml`);
      writeFileSync(
        file,
        floatipCloudConfig(ec2, n, peer, {
          vrid: 62,
          priority,
          advertInterval: `${ADVERT_MS}ms`,
          reconcileInterval: '1s',
          holdOff: '10s',
          providerTimeout: '5s',
        }),
      );
      const p = lab.spawn(n.lab.ns, floatipArgv('run', '-f', file, '--no-pretty'), {
        env: floatipCloudEnv(dir),
        label: `cloud-${n.name}`,
      });
      procs.push(p);
      return p;
    };
    const t0 = Date.now();
    const a = start(A, B, 150);
    const b = start(B, A, 100);
    await waitForRecord(a, isTransition('MASTER'), t0, 20_000, 'a MASTER');
    await waitForRecord(b, isTransition('BACKUP'), t0, 20_000, 'b BACKUP');
    await ec2.waitForHolder(A.eniId, 10_000);
    say(`  a is MASTER; EC2 shows ${PUBLIC_IP} on ${A.eniId}`);
    // A few adverts, so b's Master_Down timer runs from a's adverts.
    await sleep(1000);

    const failover = await freezeMaster(ec2, a, b, A, B, capture);
    printPhase(say, failover);
    const preempt = await thawMaster(ec2, a, b, A);
    printPhase(say, preempt);

    const lost = failover.steps.find((s) => s.what.startsWith('master lost'))!.tMs;
    const transition = failover.steps.find((s) => s.what.startsWith('b becomes MASTER'))!.tMs;
    const associate = failover.steps.find((s) => s.what.startsWith('AssociateAddress'))!.tMs;
    const confirmed = failover.steps.find((s) => s.what.startsWith('holder confirmed'))!.tMs;
    return {
      elasticIp: PUBLIC_IP,
      ec2LatencyMs: o.ec2LatencyMs,
      advertIntervalMs: ADVERT_MS,
      phases: [failover, preempt],
      transitionToAssociateMs: round(associate - transition),
      masterLostToConfirmedMs: round(confirmed - lost),
    };
  } finally {
    await Promise.all(procs.map((p) => p.stop(3000)));
    await ec2.stop();
    if (capture) {
      await capture.stop().catch(() => []);
      removeCaptureDir(capture);
    }
  }
}

async function freezeMaster(
  ec2: Ec2Lab,
  a: LabProcess,
  b: LabProcess,
  A: CloudNode,
  B: CloudNode,
  capture: Capture,
): Promise<CloudPhase> {
  const seq = await lastSeq(ec2);
  const frozenAt = Date.now();
  a.signal('SIGSTOP');
  const master = await waitForRecord(b, isTransition('MASTER'), frozenAt, 10_000, 'b MASTER');
  const confirmed = await waitForRecord(b, isHolderConfirmed, frozenAt, 10_000, 'b holder confirmed');
  await ec2.waitForHolder(B.eniId, 5000);
  const calls = await ec2.calls(seq);
  const associate = calls.find((c) => c.action === 'AssociateAddress' && c.status === 200);
  if (!associate) throw new Error('demo: EC2 received no AssociateAddress from b after the freeze');
  const ads = adverts(await capture.packets(), { vrid: 62 });
  const firstB = ads.find((p) => p.src === B.lab.addr4 && p.t * 1000 >= frozenAt - 50);
  const lastA = ads.filter((p) => p.src === A.lab.addr4 && (!firstB || p.t < firstB.t)).pop();
  // The master's last advert on the wire is the moment it was lost; the freeze is up to one interval later.
  const origin = lastA ? lastA.t * 1000 : frozenAt;
  const steps: CloudStep[] = [
    { tMs: frozenAt - origin, what: 'a frozen (SIGSTOP)' },
    ...(lastA ? [{ tMs: 0, what: "master lost: a's last advert on the wire" }] : []),
    { tMs: master.time - origin, what: 'b becomes MASTER (its transition log line)' },
    ...(firstB ? [{ tMs: firstB.t * 1000 - origin, what: "b's first advert on the wire" }] : []),
    { tMs: associate.time - origin, what: `AssociateAddress received by EC2 (→ ${B.eniId})` },
    { tMs: confirmed.time - origin, what: 'holder confirmed (b read it back: "is now the holder")' },
  ];
  return {
    name: 'freeze the master',
    origin: lastA ? "a's last advert on the wire" : 'the freeze',
    steps: steps.sort((x, y) => x.tMs - y.tMs).map((s) => ({ ...s, tMs: round(s.tMs) })),
    associateCalls: calls.filter((c) => c.action === 'AssociateAddress').length,
    callsByAction: byAction(calls.filter((c) => c.accessKeyId === B.accessKeyId && c.time <= confirmed.time)),
  };
}

async function thawMaster(ec2: Ec2Lab, a: LabProcess, b: LabProcess, A: CloudNode): Promise<CloudPhase> {
  const seq = await lastSeq(ec2);
  const thawedAt = Date.now();
  a.signal('SIGCONT');
  const backup = await waitForRecord(b, isTransition('BACKUP'), thawedAt, 10_000, 'b BACKUP');
  const confirmed = await waitForRecord(a, isHolderConfirmed, thawedAt, 10_000, 'a holder confirmed');
  await ec2.waitForHolder(A.eniId, 5000);
  // Settle one reconcile interval, so a late second move would show in the count.
  await sleep(1200);
  const calls = await ec2.calls(seq);
  const associate = calls.find((c) => c.action === 'AssociateAddress' && c.status === 200);
  const steps: CloudStep[] = [
    { tMs: 0, what: 'a resumed (SIGCONT)' },
    { tMs: backup.time - thawedAt, what: "b hears a's higher priority: BACKUP (gives the EIP back)" },
    ...(associate
      ? [{ tMs: associate.time - thawedAt, what: `AssociateAddress received by EC2 (→ ${A.eniId})` }]
      : []),
    { tMs: confirmed.time - thawedAt, what: 'holder confirmed (a read it back)' },
  ];
  return {
    name: 'thaw: a preempts',
    origin: 'the thaw',
    steps: steps.sort((x, y) => x.tMs - y.tMs).map((s) => ({ ...s, tMs: round(s.tMs) })),
    associateCalls: calls.filter((c) => c.action === 'AssociateAddress').length,
    callsByAction: byAction(calls.filter((c) => c.accessKeyId === A.accessKeyId && c.time <= confirmed.time)),
  };
}

function printPhase(say: (l: string) => void, p: CloudPhase): void {
  say(`\n  ${p.name} (ms from ${p.origin}):`);
  for (const s of p.steps) say(`  ${s.tMs.toFixed(0).padStart(6)} ms  ${s.what}`);
  const calls = Object.entries(p.callsByAction)
    .map(([k, v]) => `${k} ×${v}`)
    .join(', ');
  say(`  AssociateAddress calls: ${p.associateCalls}; the new holder's EC2 calls: ${calls || 'none'}`);
}

async function lastSeq(ec2: Ec2Lab): Promise<number> {
  return (await ec2.calls()).at(-1)?.seq ?? 0;
}

function byAction(calls: CallRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) out[c.action] = (out[c.action] ?? 0) + 1;
  return out;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
