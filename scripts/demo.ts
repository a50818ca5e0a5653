/**
 * `npm run demo`: two floatip nodes in network namespaces elect a master over unicast VRRPv3,
 * then the demo freezes the master (SIGSTOP: the hard-failure case), lets it come back and
 * preempt, and finally stops it gracefully (priority 0). It prints a timeline with the measured
 * takeover times next to the RFC 5798 formula values. Then the cloud part (scripts/demo/cloud.ts):
 * the same pair moves an Elastic IP in emulated EC2, with a timeline from the master's last advert
 * to the EIP confirmed on the new master. It cleans up everything it created.
 *
 * Needs root (network namespaces). Nothing leaves the namespaces: addresses are 10.99.0.0/16.
 *   npm run demo                          human-readable timeline
 *   npm run demo -- --json                the same as one JSON document
 *   npm run demo -- --ec2-latency-ms 300  emulated EC2 answers each call 300 ms late
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, floatipArgv, type Lab, type LabProcess } from '../test/netns/harness.js';
import { measureTakeover, removeCaptureDir, startCapture, type Capture } from '../test/netns/capture.js';
import { masterDownIntervalUs, skewTimeUs } from '../src/vrrp/timing.js';
import { runCloudDemo, type CloudSummary } from './demo/cloud.js';

const json = process.argv.includes('--json');
const ec2LatencyMs = ((): number => {
  const i = process.argv.indexOf('--ec2-latency-ms');
  if (i < 0) return 0;
  const v = Number(process.argv[i + 1]);
  if (!(v >= 0 && v <= 10_000)) {
    process.stderr.write(
      `demo: --ec2-latency-ms needs a number of ms (0..10000), got ${process.argv[i + 1]}\n`,
    );
    process.exit(2);
  }
  return v;
})();
const ADVERT_CS = 100;
const NODES = {
  a: { priority: 150, addr: '10.99.0.1', peer: '10.99.0.2' },
  b: { priority: 100, addr: '10.99.0.2', peer: '10.99.0.1' },
} as const;
const VIP = '10.99.0.100';

interface TimelineEntry {
  tMs: number;
  what: string;
}
interface Measurement {
  scenario: string;
  /** On the wire, at b: the old master's last advert (hard) or its priority-0 advert (graceful) → b's first advert. */
  wireMs: number;
  /** From the demo's signal to b's MASTER log line (includes up to one advert interval for the hard case). */
  fromSignalMs: number;
  formulaMs: number;
}

function say(s: string): void {
  if (!json) process.stdout.write(s + '\n');
}

/** The embedded default: keepalived.conf syntax, so the same file would run under keepalived. */
function configFor(node: keyof typeof NODES): string {
  const n = NODES[node];
  return `# floatip demo node ${node}
vrrp_instance VI_DEMO {
  interface eth0
  virtual_router_id 42
  priority ${n.priority}
  advert_int ${ADVERT_CS / 100}
  version 3
  unicast_src_ip ${n.addr}
  unicast_peer {
    ${n.peer}
  }
  virtual_ipaddress {
    ${VIP}/16
  }
}
`;
}

interface Transition {
  timeMs: number;
  from: string;
  to: string;
  reason: string;
}

function transitions(p: LabProcess): Transition[] {
  const out: Transition[] = [];
  for (const line of p.lines()) {
    if (!line.startsWith('{')) continue;
    try {
      const o = JSON.parse(line) as {
        event?: string;
        time: number;
        from: string;
        to: string;
        reason: string;
      };
      if (o.event === 'transition') out.push({ timeMs: o.time, from: o.from, to: o.to, reason: o.reason });
    } catch {
      // not a log line
    }
  }
  return out;
}

async function waitForState(
  p: LabProcess,
  to: string,
  afterMs: number,
  timeoutMs: number,
): Promise<Transition> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const t = transitions(p).find((x) => x.to === to && x.timeMs >= afterMs);
    if (t) return t;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(
    `${p.label} did not reach ${to} within ${timeoutMs} ms; last output:\n${p.lines().slice(-10).join('\n')}`,
  );
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('demo: needs root (it creates network namespaces); run it as root or with sudo\n');
    return 1;
  }
  const dir = mkdtempSync(join(tmpdir(), 'floatip-demo-'));
  let lab: Lab | null = null;
  const t0 = Date.now();
  const timeline: TimelineEntry[] = [];
  const mark = (what: string, at = Date.now()): void => {
    timeline.push({ tMs: at - t0, what });
    say(`  ${String(at - t0).padStart(6)} ms  ${what}`);
  };
  const measurements: Measurement[] = [];
  let capture: Capture | null = null;
  try {
    // e hosts the emulated EC2 of the cloud part.
    lab = await createLab(['a', 'b', 'e'], { ipv6: false });
    capture = await startCapture(lab, lab.nodes.b!, { filter: 'ip proto 112' });
    say(
      `floatip demo: nodes a (prio ${NODES.a.priority}) and b (prio ${NODES.b.priority}), VRRPv3 unicast, advert ${ADVERT_CS * 10} ms\n`,
    );
    const start = (node: 'a' | 'b'): LabProcess => {
      const file = join(dir, `${node}.conf`);
      writeFileSync(file, configFor(node));
      return lab!.spawn(lab!.nodes[node]!.ns, floatipArgv('run', '-f', file, '--no-pretty'), {
        label: `node-${node}`,
      });
    };
    let a = start('a');
    const b = start('b');

    const aMaster = await waitForState(a, 'MASTER', t0, 10_000);
    mark(`a is MASTER (${aMaster.reason})`, aMaster.timeMs);
    await waitForState(b, 'BACKUP', t0, 10_000);
    // Let a few adverts flow so b's timer is armed from a's adverts, not from its own start.
    await new Promise((r) => setTimeout(r, 2500));

    // 1. Hard failure: freeze a. b takes over after Master_Down, counted from a's last advert,
    // which went out up to one interval before the freeze.
    const frozenAt = Date.now();
    a.signal('SIGSTOP');
    mark('a frozen (SIGSTOP)', frozenAt);
    const bMaster = await waitForState(b, 'MASTER', frozenAt, 15_000);
    mark(`b is MASTER (${bMaster.reason})`, bMaster.timeMs);
    const downMs = masterDownIntervalUs(3, NODES.b.priority, ADVERT_CS, 3) / 1000;

    // 2. a comes back and preempts (higher priority).
    const thawAt = Date.now();
    a.signal('SIGCONT');
    mark('a resumed (SIGCONT)', thawAt);
    const bBackup = await waitForState(b, 'BACKUP', thawAt, 10_000);
    mark(`b is BACKUP again (${bBackup.reason})`, bBackup.timeMs);
    await new Promise((r) => setTimeout(r, 2500));

    // 3. Graceful stop: a sends priority 0, b takes over after Skew_Time only.
    const stopAt = Date.now();
    a.signal('SIGTERM');
    mark('a stopping (SIGTERM → priority 0 advert)', stopAt);
    const bMaster2 = await waitForState(b, 'MASTER', stopAt, 10_000);
    mark(`b is MASTER (${bMaster2.reason})`, bMaster2.timeMs);
    const code = await a.exited;
    mark(`a exited with code ${code}`);

    // 4. a starts again and takes the master role back.
    const restartAt = Date.now();
    a = start('a');
    mark('a restarted');
    const aBack = await waitForState(a, 'MASTER', restartAt, 15_000);
    mark(`a is MASTER again (${aBack.reason})`, aBack.timeMs);

    const packets = await capture.stop();
    const from = NODES.a.addr;
    const to = NODES.b.addr;
    const hard = measureTakeover(packets, { from, to, since: frozenAt / 1000, kind: 'hard', vrid: 42 });
    const graceful = measureTakeover(packets, { from, to, since: stopAt / 1000, kind: 'graceful', vrid: 42 });
    measurements.push(
      {
        scenario: 'hard failure (SIGSTOP master)',
        wireMs: hard.delay * 1000,
        fromSignalMs: bMaster.timeMs - frozenAt,
        formulaMs: downMs,
      },
      {
        scenario: 'graceful stop (priority 0)',
        wireMs: graceful.delay * 1000,
        fromSignalMs: bMaster2.timeMs - stopAt,
        formulaMs: skewTimeUs(3, NODES.b.priority, ADVERT_CS) / 1000,
      },
    );

    if (!json) {
      say('\n| scenario | on the wire | RFC formula | signal → MASTER log |\n|---|---:|---:|---:|');
      for (const m of measurements) {
        say(
          `| ${m.scenario} | ${m.wireMs.toFixed(1)} ms | ${m.formulaMs.toFixed(1)} ms | ${m.fromSignalMs.toFixed(0)} ms |`,
        );
      }
      say("\non the wire: captured at b, from a's last advert (hard) or its priority-0 advert (graceful)");
      say(
        "to b's first advert as master. RFC formula: Master_Down = 3 × 1 s + (256 − 100)/256 s; Skew_Time = 156/256 s.",
      );
    }

    await Promise.all([a.stop(), b.stop()]);
    const cloud: CloudSummary = await runCloudDemo({ lab, dir, ec2LatencyMs, say });
    if (json) {
      process.stdout.write(JSON.stringify({ timeline, measurements, cloud }, null, 2) + '\n');
    } else {
      say(
        `\ncloud: a's last advert → EIP confirmed on b ${cloud.masterLostToConfirmedMs.toFixed(0)} ms; ` +
          `b's transition → AssociateAddress at EC2 ${cloud.transitionToAssociateMs.toFixed(0)} ms; ` +
          `AssociateAddress per failover: ${cloud.phases.map((p) => p.associateCalls).join(', ')}`,
      );
    }
    return 0;
  } finally {
    if (capture) removeCaptureDir(capture);
    await lab?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
