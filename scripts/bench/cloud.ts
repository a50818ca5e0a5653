/**
 * Cloud path: how fast floatip moves Elastic IPs and routes through the EC2 API after a failover.
 *
 * floatip pairs (v3 unicast, advert_interval 100ms, priority 100 each, one `aws` provider per
 * node, no GARP) talk to the EC2 emulator in its own lab namespace. One pair per mechanism and N:
 * eip pairs move N Elastic IPs (one private IP of the ENI per EIP), route pairs move N routes (N
 * /32 destinations in one route table of their own). All pairs run side by side for the whole
 * part, and trials go round the pairs (eip N=1, route N=1, eip N=10, …), first with the emulator
 * answering at once, then with its answers delayed by 300 ms (the state changes when a request
 * arrives; only the answer is late). Idle pairs only send adverts and, as masters, read their
 * holder back every 10 s.
 *
 * A trial freezes the master (SIGSTOP) and measures, on one clock:
 *   - request:   the new master's first advert on the wire → its first mutating request
 *                (AssociateAddress / ReplaceRoute) on the wire, both from the observer's capture;
 *   - confirmed: the fault on the wire (the frozen master's last advert) → the emulator's commit
 *                that left every address/route on the new master's ENI;
 *   - calls:     every request the new master made from the fault until its post-acquire
 *                read-back was answered, from the emulator's call log (one access key per node).
 * The frozen master is then killed and started again (it joins as backup): every trial moves the
 * targets off a live-looking ENI, as a crash would, and no thawed master competes for them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { measureTakeover } from '../../test/netns/capture.js';
import type { LabNode, LabProcess } from '../../test/netns/harness.js';
import {
  EmulatorEvents,
  MUTATING_ACTIONS,
  wireRequests,
  type CallEvent,
  type EventsMark,
} from './cloud-events.js';
import {
  awsProviderOptions,
  cloudSeed,
  nodeIds,
  targetKeys,
  type CloudMechanism,
  type CloudPairSpec,
} from './cloud-seed.js';
import { formulaSeconds } from './configs.js';
import { sleep, startDaemon, type BenchDaemon } from './daemons.js';
import { tsxArgv, type BenchLab } from './lab.js';

export const CLOUD_MECHANISMS: CloudMechanism[] = ['eip', 'route'];
export const CLOUD_COUNTS = [1, 10, 50];
const INSTANCE = 'VI_1';
const PRIORITY = 100;
const ADVERT_INT = 0.1;
/** VRIDs (and the last octet of the VIPs, which no provider here puts on an interface). */
const VRID_BASE = 30;
const MASTER_DOWN_MS = formulaSeconds({ version: 3, advertInt: ADVERT_INT }, PRIORITY, 'hard') * 1000;

/** One pair per mechanism and count, on lab nodes named like e10a/e10b and r10a/r10b. */
export function cloudPairs(counts: readonly number[]): CloudPairSpec[] {
  return counts
    .flatMap((n) => CLOUD_MECHANISMS.map((mechanism) => ({ mechanism, n })))
    .map((p, index) => {
      const base = `${p.mechanism === 'eip' ? 'e' : 'r'}${p.n}`;
      return { ...p, index, nodes: [`${base}a`, `${base}b`] as [string, string] };
    });
}

export const cloudNodeNames = (pairs: readonly CloudPairSpec[]): string[] => pairs.flatMap((p) => p.nodes);

export interface CloudBlock {
  latencyMs: number;
  /** Trials per pair. */
  trials: number;
}

export interface CloudCalls {
  mutating: number;
  readBack: number;
  failed: number;
  byAction: Record<string, number>;
}

export interface CloudTrial {
  latencyMs: number;
  mechanism: CloudMechanism;
  n: number;
  index: number;
  ok: boolean;
  error?: string;
  from?: string;
  to?: string;
  /** Seconds: fault on the wire → the new master's first advert. */
  detect?: number;
  /** Seconds: the new master's first advert → its first mutating request, both on the wire. */
  request?: number;
  /** The same, ending at the emulator's receipt of that request (cross-check, ms clock). */
  requestAtEmulator?: number;
  /** Seconds: fault on the wire → the emulator state shows every target on the new master's ENI. */
  confirmed?: number;
  /** floatip's own acquire (mutations + read-back until confirmed), as it logs it, seconds. */
  acquire?: number;
  calls?: CloudCalls;
}

export interface CloudOptions {
  pairs: CloudPairSpec[];
  blocks: CloudBlock[];
  log: (line: string) => void;
}

interface Emulator {
  endpoint: string;
  host: string;
  proc: LabProcess;
  events: EmulatorEvents;
  /** Answer latency now (ms). */
  latencyMs: number;
  /** Moves the emulator to its next latency. */
  nextLatency(): Promise<void>;
}

interface Pair {
  spec: CloudPairSpec;
  mechanism: CloudMechanism;
  n: number;
  nodes: [LabNode, LabNode];
  daemons: BenchDaemon[];
}

const accessKey = (node: LabNode): string => `AKIDBENCH${node.name.toUpperCase()}`;
const eniOf = (pair: Pair, node: LabNode): string => nodeIds(pair.spec, pair.nodes.indexOf(node)).eniId;

export async function runCloud(env: BenchLab, o: CloudOptions): Promise<CloudTrial[]> {
  const trials: CloudTrial[] = [];
  const dir = mkdtempSync(join(tmpdir(), `${env.lab.id}-cloud-`));
  const pairs = o.pairs.map((spec): Pair => ({
    spec,
    mechanism: spec.mechanism,
    n: spec.n,
    nodes: spec.nodes.map((name) => {
      const node = env.lab.nodes[name];
      if (!node) throw new Error(`bench lab has no node ${name}; create it with the cloud node names`);
      return node;
    }) as [LabNode, LabNode],
    daemons: [],
  }));
  try {
    const emu = await startEmulator(env, dir, o);
    try {
      o.log(`cloud: starting ${pairs.length} floatip pairs against the EC2 emulator`);
      await Promise.all(pairs.map((p) => startPair(env, emu, p)));
      for (const [b, block] of o.blocks.entries()) {
        if (b > 0) await emu.nextLatency();
        o.log(`cloud: emulator latency ${emu.latencyMs} ms, ${block.trials} trial(s) per pair`);
        for (let i = 0; i < block.trials; i++) {
          for (const pair of pairs) {
            const t = await runTrial(env, emu, pair, i);
            trials.push(t);
            o.log(`  ${describe(t)}`);
            if (!t.ok) {
              await killPair(pair);
              await startPair(env, emu, pair);
            }
          }
        }
      }
    } finally {
      await Promise.all(pairs.map((p) => killPair(p)));
      await emu.proc.stop(3000);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return trials;
}

async function startEmulator(env: BenchLab, dir: string, o: CloudOptions): Promise<Emulator> {
  const node = env.cloudNode;
  const seedFile = join(dir, 'seed.json');
  writeFileSync(seedFile, JSON.stringify(cloudSeed(o.pairs)));
  const eventsFile = join(dir, 'events.jsonl');
  const latencies = o.blocks.map((b) => b.latencyMs);
  const proc = env.lab.spawn(
    node.ns,
    tsxArgv(
      'cloud-emulator.ts',
      '--listen',
      `${node.addr4}:8080`,
      '--seed',
      seedFile,
      '--events',
      eventsFile,
      '--latency-ms',
      latencies.join(','),
    ),
    { label: `ec2-emulator@${node.name}` },
  );
  const line = await proc.waitForLine(/^\{"endpoint"/, 30000);
  const { endpoint } = JSON.parse(line) as { endpoint: string };
  const events = new EmulatorEvents(eventsFile);
  let current = 0;
  const emu: Emulator = {
    endpoint,
    host: node.addr4,
    proc,
    events,
    latencyMs: latencies[0]!,
    async nextLatency() {
      current++;
      const want = latencies[current]!;
      proc.signal('SIGUSR2');
      await waitFor(
        () => (events.mark() && events.latencyMs === want ? true : undefined),
        5000,
        () => `the EC2 emulator did not switch to ${want} ms`,
      );
      emu.latencyMs = want;
    },
  };
  return emu;
}

function configFor(pair: Pair, me: number, endpoint: string): string {
  const self = pair.nodes[me]!;
  const peer = pair.nodes[1 - me]!;
  const index = pair.spec.index;
  return stringify({
    global: { router_id: `bench-${self.name}` },
    instances: [
      {
        name: INSTANCE,
        interface: self.ifname,
        vrid: VRID_BASE + index,
        priority: PRIORITY,
        advert_interval: `${ADVERT_INT * 1000}ms`,
        version: 3,
        state: 'BACKUP',
        unicast: { source: self.addr4, peers: [peer.addr4] },
        virtual_ips: [`10.99.1.${VRID_BASE + index}/16`],
        providers: [awsProviderOptions(pair.spec, me, endpoint)],
      },
    ],
  });
}

function start(env: BenchLab, emu: Emulator, pair: Pair, me: number): Promise<BenchDaemon> {
  const node = pair.nodes[me]!;
  return startDaemon(env.lab, 'floatip', node, configFor(pair, me, emu.endpoint), {
    floatipArgv: env.floatip.argv,
    configName: 'floatip.yaml',
    // Static credentials and explicit ids: nothing asks a metadata service.
    env: {
      AWS_ACCESS_KEY_ID: accessKey(node),
      AWS_SECRET_ACCESS_KEY: 'bench-not-checked',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
}

/** A budget for the emulator's answers: `waves` rounds of N calls at max_concurrency 8. */
function apiBudgetMs(emu: Emulator, n: number, waves = 3): number {
  return 5000 + emu.latencyMs * (Math.ceil(n / 8) + waves);
}

async function startPair(env: BenchLab, emu: Emulator, pair: Pair): Promise<void> {
  // The first node elects itself after Master_Down and moves the targets; the second then joins.
  const mark = emu.events.mark();
  const first = await start(env, emu, pair, 0);
  pair.daemons = [first];
  await first.waitForState(INSTANCE, 'MASTER', MASTER_DOWN_MS + 15000);
  await waitFor(
    () => emu.events.allOnSince(mark, targetKeys(pair.spec), eniOf(pair, pair.nodes[0])),
    apiBudgetMs(emu, pair.n),
    () => `${first.label}: the emulator never showed all ${pair.n} ${pair.mechanism} target(s) on its ENI`,
  );
  pair.daemons.push(await joinAsBackup(env, emu, pair, 1));
}

/**
 * Starts a node that must come up as backup, and waits until its BACKUP actions (a fresh node
 * releases whatever EC2 still shows on its ENI: one Describe) are done, so no call of its start
 * lands in the next trial's window.
 */
async function joinAsBackup(env: BenchLab, emu: Emulator, pair: Pair, me: number): Promise<BenchDaemon> {
  const d = await start(env, emu, pair, me);
  await d.waitForState(INSTANCE, 'BACKUP', 15000);
  await waitFor(
    () => (d.lines().some((l) => l.includes('"notify-done"') && l.includes('"BACKUP"')) ? true : undefined),
    apiBudgetMs(emu, pair.n),
    () => `${d.label}: no notify-done for BACKUP`,
  );
  return d;
}

async function killPair(pair: Pair): Promise<void> {
  await Promise.all(pair.daemons.map((d) => d.kill().catch(() => undefined)));
  pair.daemons = [];
}

function roles(pair: Pair): { master: BenchDaemon; backup: BenchDaemon } {
  const st = pair.daemons.map((d) => d.states().get(INSTANCE));
  const m = st.indexOf('MASTER');
  if (st.length !== 2 || m < 0 || st[1 - m] !== 'BACKUP')
    throw new Error(
      `${pair.mechanism} pair is not one master and one backup: ${pair.daemons.map((d, i) => `${d.label}=${st[i] ?? '?'}`).join(', ')}`,
    );
  return { master: pair.daemons[m]!, backup: pair.daemons[1 - m]! };
}

async function runTrial(env: BenchLab, emu: Emulator, pair: Pair, index: number): Promise<CloudTrial> {
  const base = { latencyMs: emu.latencyMs, mechanism: pair.mechanism, n: pair.n, index };
  let frozen: BenchDaemon | undefined;
  try {
    const { master, backup } = roles(pair);
    const res: CloudTrial = { ...base, ok: false, from: master.node.name, to: backup.node.name };
    const events: EventsMark = emu.events.mark();
    const since = Date.now() / 1000;
    const logMark = backup.mark();
    master.freeze();
    frozen = master;
    await backup.waitForState(INSTANCE, 'MASTER', MASTER_DOWN_MS + 5000, logMark);
    let why = '';
    const tk = await waitFor(
      () => {
        try {
          return measureTakeover(
            env.observer.poll().filter((p) => p.t >= since - 10),
            {
              from: master.node.addr4,
              to: backup.node.addr4,
              since,
              kind: 'hard',
              vrid: VRID_BASE + pair.spec.index,
            },
          );
        } catch (err) {
          why = err instanceof Error ? err.message : String(err);
          return undefined;
        }
      },
      // tcpdump writes each packet at once, but a loaded 2-core machine can delay it.
      3000,
      () => why,
    );
    res.detect = tk.firstT - tk.faultT;

    const targets = targetKeys(pair.spec);
    const eni = eniOf(pair, backup.node);
    const confirmedMs = await waitFor(
      () => emu.events.allOnSince(events, targets, eni),
      apiBudgetMs(emu, pair.n),
      () => `the emulator never showed all ${pair.n} ${pair.mechanism} target(s) on ${eni} (${backup.label})`,
    );
    res.confirmed = confirmedMs / 1000 - tk.faultT;

    // floatip's acquire ends with its own read-back; the holder policy then reads once more, and
    // that answer ends the failover's calls.
    const acquired = await waitFor(
      () => acquireResult(backup, logMark),
      apiBudgetMs(emu, pair.n),
      () => `${backup.label} logged no successful acquire`,
    );
    res.acquire = acquired.durationMs / 1000;
    const key = accessKey(backup.node);
    const mine = (): CallEvent[] =>
      emu.events.callsSince(events).filter((c) => c.key === key && c.arrival >= tk.faultT * 1000 - 1);
    await waitFor(
      () => mine().find((c) => !MUTATING_ACTIONS.has(c.action) && c.arrival >= acquired.at),
      emu.latencyMs + 1000,
      () => `${backup.label}: no read-back after its acquire`,
    ).catch(() => undefined);
    const calls = mine();
    res.calls = countCalls(calls.map((c) => ({ action: c.action, ok: c.status < 300 })));
    const firstMutationAtEmu = calls.find((c) => MUTATING_ACTIONS.has(c.action));
    if (firstMutationAtEmu) res.requestAtEmulator = firstMutationAtEmu.arrival / 1000 - tk.firstT;
    const onWire = wireRequests(env.observer.poll(), backup.node.addr4, emu.host, tk.faultT).find((r) =>
      MUTATING_ACTIONS.has(r.action),
    );
    if (!onWire) throw new Error(`capture: no mutating request from ${backup.node.addr4} to the emulator`);
    res.request = onWire.t - tk.firstT;

    // A crash, then the node comes back as backup (equal priority: no preemption).
    await master.kill();
    frozen = undefined;
    const idx = pair.daemons.indexOf(master);
    pair.daemons[idx] = await joinAsBackup(env, emu, pair, pair.nodes.indexOf(master.node));
    roles(pair);
    env.observer.forgetBefore(Date.now() / 1000 - 30);
    res.ok = true;
    return res;
  } catch (err) {
    await frozen?.kill();
    return { ...base, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** The first successful `acquire` floatip logged after `mark` (log time, epoch ms), if any yet. */
function acquireResult(d: BenchDaemon, mark: number): { durationMs: number; at: number } | undefined {
  const lines = d.lines();
  for (let i = mark; i < lines.length; i++) {
    const l = lines[i]!;
    if (!l.includes('"provider-call"') || !l.includes('"acquire"')) continue;
    try {
      const j = JSON.parse(l) as {
        event?: string;
        op?: string;
        outcome?: string;
        durationMs?: number;
        time?: number;
      };
      if (j.event === 'provider-call' && j.op === 'acquire' && j.outcome === 'ok')
        return { durationMs: j.durationMs ?? 0, at: j.time ?? 0 };
    } catch {
      // not a log line
    }
  }
  return undefined;
}

export function countCalls(calls: { action: string; ok: boolean }[]): CloudCalls {
  const out: CloudCalls = { mutating: 0, readBack: 0, failed: 0, byAction: {} };
  for (const c of calls) {
    if (MUTATING_ACTIONS.has(c.action)) out.mutating++;
    else out.readBack++;
    if (!c.ok) out.failed++;
    out.byAction[c.action] = (out.byAction[c.action] ?? 0) + 1;
  }
  return out;
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what()} within ${timeoutMs} ms`);
    await sleep(10);
  }
}

function describe(t: CloudTrial): string {
  const ms = (v: number | undefined): string => (v === undefined ? '—' : `${(v * 1000).toFixed(1)} ms`);
  const head = `${t.mechanism} N=${t.n} latency ${t.latencyMs} ms #${t.index + 1}`;
  if (!t.ok) return `${head}: FAILED: ${t.error?.split('\n')[0]}`;
  const c = t.calls!;
  return `${head} ${t.from}→${t.to}: detect ${ms(t.detect)}, first request ${ms(t.request)} (emulator ${ms(t.requestAtEmulator)}), confirmed ${ms(t.confirmed)}, calls ${c.mutating}+${c.readBack}${c.failed ? ` (${c.failed} failed)` : ''}`;
}
