/**
 * Failover detection: per config, a floatip pair and a keepalived pair with identical files run
 * side by side; trials alternate between them (floatip, keepalived, floatip, …). Both nodes of a
 * pair have the same priority, so neither preempts: after a graceful stop the restarted node
 * comes back as backup and the next trial stops the other one, and after a freeze the thawed
 * node and the new master settle by the RFC's address tie-break without a restart. The daemons
 * run for the whole config; only a gracefully stopped one is started again.
 *
 * Every time is read off the observer's capture: from the fault on the wire (the frozen
 * master's last advert, or its priority-0 advert) to the new master's first advert, its first
 * gratuitous ARP for the VIP, and the first SYN-ACK the client gets from the new master's MAC.
 */
import { measureTakeover } from '../../test/netns/capture.js';
import { formulaSeconds, renderConfig, type DetectionConfig } from './configs.js';
import { IMPLS, sleep, startDaemon, type BenchDaemon, type Impl } from './daemons.js';
import { SERVICE_PORT, type BenchLab, type PairSite } from './lab.js';
import { TCP_ACK, TCP_SYN } from './pcap-follow.js';

export type FaultKind = 'hard' | 'graceful';
export const FAULTS: FaultKind[] = ['hard', 'graceful'];
const INSTANCE = 'VI_1';
const PRIORITY = 100;
const VRID: Record<Impl, number> = { floatip: 10, keepalived: 20 };

export interface Trial {
  config: string;
  impl: Impl;
  fault: FaultKind;
  index: number;
  ok: boolean;
  error?: string;
  /** Seconds from the fault on the wire to each event; undefined when the event never came. */
  advert?: number;
  garp?: number;
  client?: number;
  /** The master and the backup that took over, by node name. */
  from?: string;
  to?: string;
}

export interface DetectionOptions {
  trials: number;
  configs: DetectionConfig[];
  log: (line: string) => void;
}

interface Pair {
  site: PairSite;
  config: DetectionConfig;
  daemons: BenchDaemon[];
  /** False once trials showed this implementation sends no GARP, to stop waiting for one. */
  expectGarp: boolean;
  noGarpStreak: number;
}

export async function runDetection(env: BenchLab, o: DetectionOptions): Promise<Trial[]> {
  const trials: Trial[] = [];
  for (const config of o.configs) {
    o.log(`detection: ${config.name}, ${o.trials} trial(s) per fault and implementation`);
    const pairs = IMPLS.map((impl): Pair => ({
      site: env.sites[impl],
      config,
      daemons: [],
      expectGarp: true,
      noGarpStreak: 0,
    }));
    try {
      await Promise.all(pairs.map((p) => startPair(env, p)));
      for (let i = 0; i < o.trials; i++) {
        for (const fault of FAULTS) {
          for (const pair of pairs) {
            const t = await runTrial(env, pair, fault, i);
            trials.push(t);
            o.log(`  ${describe(t)}`);
            if (!t.ok) await restartPair(env, pair);
          }
        }
      }
    } finally {
      await Promise.all(pairs.map((p) => stopPair(p)));
    }
  }
  return trials;
}

function describe(t: Trial): string {
  const ms = (v: number | undefined): string => (v === undefined ? '—' : `${(v * 1000).toFixed(1)} ms`);
  const head = `${t.config} ${t.fault} #${t.index + 1} ${t.impl}`;
  if (!t.ok) return `${head}: FAILED: ${t.error?.split('\n')[0]}`;
  return `${head} ${t.from}→${t.to}: advert ${ms(t.advert)}, GARP ${ms(t.garp)}, client ${ms(t.client)}`;
}

function configFor(pair: Pair, me: number): string {
  const nodes = pair.site.nodes;
  return renderConfig({
    routerId: `bench-${nodes[me]!.name}`,
    version: pair.config.version,
    advertInt: pair.config.advertInt,
    src: nodes[me]!.addr4,
    peer: nodes[1 - me]!.addr4,
    instances: [
      { name: INSTANCE, vrid: VRID[pair.site.impl], vip: pair.site.vip, state: 'BACKUP', priority: PRIORITY },
    ],
  });
}

function start(env: BenchLab, pair: Pair, me: number): Promise<BenchDaemon> {
  return startDaemon(env.lab, pair.site.impl, pair.site.nodes[me]!, configFor(pair, me), {
    floatipArgv: env.floatip.argv,
  });
}

const masterDownMs = (c: DetectionConfig): number => formulaSeconds(c, PRIORITY, 'hard') * 1000;
/** Long enough for the backup to have heard the master again; the other pair's trial adds more. */
const settleMs = (c: DetectionConfig): number => Math.max(1200 * c.advertInt, 150);

async function startPair(env: BenchLab, pair: Pair): Promise<void> {
  // The first node elects itself after Master_Down; the second then hears it and stays backup.
  const first = await start(env, pair, 0);
  pair.daemons = [first];
  await first.waitForState(INSTANCE, 'MASTER', masterDownMs(pair.config) + 15000);
  const second = await start(env, pair, 1);
  pair.daemons.push(second);
  await second.waitForState(INSTANCE, 'BACKUP', 15000);
  await sleep(settleMs(pair.config));
  await env.flushClientArp(pair.site.vip);
}

async function stopPair(pair: Pair): Promise<void> {
  await Promise.all(pair.daemons.map((d) => d.stop().catch(() => null)));
  pair.daemons = [];
}

async function restartPair(env: BenchLab, pair: Pair): Promise<void> {
  await stopPair(pair);
  await startPair(env, pair);
}

function roles(pair: Pair): { master: BenchDaemon; backup: BenchDaemon } {
  const st = pair.daemons.map((d) => d.states().get(INSTANCE));
  const m = st.indexOf('MASTER');
  if (st.length !== 2 || m < 0 || st[1 - m] !== 'BACKUP')
    throw new Error(
      `${pair.site.impl} pair is not one master and one backup: ${pair.daemons.map((d, i) => `${d.label}=${st[i] ?? '?'}`).join(', ')}`,
    );
  return { master: pair.daemons[m]!, backup: pair.daemons[1 - m]! };
}

async function runTrial(env: BenchLab, pair: Pair, fault: FaultKind, index: number): Promise<Trial> {
  const base = { config: pair.config.name, impl: pair.site.impl, fault, index };
  let frozen: BenchDaemon | undefined;
  try {
    const { master, backup } = roles(pair);
    const res: Trial = { ...base, ok: false, from: master.node.name, to: backup.node.name };
    env.clientFast(true);
    // The client must already be at the fast rate when the fault happens.
    await sleep(20);
    const since = Date.now() / 1000;
    const mark = backup.mark();
    let stopped: Promise<number | null> | undefined;
    if (fault === 'hard') {
      master.freeze();
      frozen = master;
    } else {
      stopped = master.stop();
    }
    await backup.waitForState(INSTANCE, 'MASTER', masterDownMs(pair.config) + 5000, mark);
    Object.assign(res, await observe(env, pair, master, backup, since, fault));
    env.clientFast(false);
    if (res.garp === undefined) {
      if (++pair.noGarpStreak >= 2) pair.expectGarp = false;
    } else {
      pair.noGarpStreak = 0;
      pair.expectGarp = true;
    }

    if (fault === 'hard') {
      await recoverFromFreeze(pair, master, backup);
      frozen = undefined;
    } else {
      const code = await stopped!;
      if (code !== 0) throw new Error(`${master.label} exited with ${code} after SIGTERM`);
      const idx = pair.daemons.indexOf(master);
      const again = await start(env, pair, pair.site.nodes.indexOf(master.node));
      pair.daemons[idx] = again;
      await again.waitForState(INSTANCE, 'BACKUP', 15000);
    }
    await sleep(settleMs(pair.config));
    await env.flushClientArp(pair.site.vip);
    roles(pair);
    env.observer.forgetBefore(Date.now() / 1000 - 30);
    res.ok = true;
    return res;
  } catch (err) {
    env.clientFast(false);
    frozen?.thaw();
    return { ...base, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** After a freeze both are master for a moment; wait until one of them steps down. */
async function recoverFromFreeze(pair: Pair, master: BenchDaemon, backup: BenchDaemon): Promise<void> {
  const marks = [master.mark(), backup.mark()];
  master.thaw();
  const end = Date.now() + 3 * masterDownMs(pair.config) + 5000;
  for (;;) {
    if (
      master.states(marks[0]).get(INSTANCE) === 'BACKUP' ||
      backup.states(marks[1]).get(INSTANCE) === 'BACKUP'
    )
      return;
    if (Date.now() > end)
      throw new Error(`${pair.site.impl}: after thawing ${master.label}, neither node went back to BACKUP`);
    await sleep(10);
  }
}

interface Observed {
  advert?: number;
  garp?: number;
  client?: number;
}

async function observe(
  env: BenchLab,
  pair: Pair,
  master: BenchDaemon,
  backup: BenchDaemon,
  since: number,
  fault: FaultKind,
): Promise<Observed> {
  const vip = pair.site.vip;
  const vrid = VRID[pair.site.impl];
  const newMac = backup.node.mac;
  // The new master logs MASTER around the time its first advert leaves; allow for the capture lag.
  const advertDeadline = Date.now() + 2000;
  let tk: { faultT: number; firstT: number } | undefined;
  let lastErr: unknown;
  let garpT: number | undefined;
  for (;;) {
    const pk = env.observer.poll().filter((p) => p.t >= since - 10);
    try {
      tk ??= measureTakeover(pk, {
        from: master.node.addr4,
        to: backup.node.addr4,
        since,
        kind: fault,
        vrid,
      });
    } catch (err) {
      lastErr = err;
    }
    if (tk) {
      const faultT = tk.faultT;
      garpT ??= pk.find(
        (p) =>
          p.arp && p.ethSrc === newMac && p.arp.senderIp === vip && p.arp.targetIp === vip && p.t >= faultT,
      )?.t;
      const clientT = pk.find(
        (p) =>
          p.tcp &&
          p.ethSrc === newMac &&
          p.src === vip &&
          p.tcp.srcPort === SERVICE_PORT &&
          (p.tcp.flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK) &&
          p.t >= faultT,
      )?.t;
      const now = Date.now() / 1000;
      const garpWait = pair.expectGarp ? 0.5 : 0.1;
      const done =
        clientT !== undefined ||
        (garpT === undefined && now > tk.firstT + garpWait) ||
        (garpT !== undefined && now > garpT + 1);
      if (done) {
        return {
          advert: tk.firstT - faultT,
          ...(garpT === undefined ? {} : { garp: garpT - faultT }),
          ...(clientT === undefined ? {} : { client: clientT - faultT }),
        };
      }
    } else if (Date.now() > advertDeadline) {
      throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
    }
    await sleep(15);
  }
}

/** The formula value for a row of the table. */
export function detectionFormula(config: DetectionConfig, fault: FaultKind): number {
  return formulaSeconds(config, PRIORITY, fault);
}
