import { writeFileSync, renameSync } from 'node:fs';
import type { Logger } from 'pino';
import {
  notifyTimingsFor,
  type FloatipConfig,
  type InstanceSpec,
  type SyncGroupSpec,
} from '../config/model.js';
import { interfaceInfo } from '../transport/interface-info.js';
import type { TransportOptions } from '../transport/types.js';
import { bytesToIp, ipToBytes } from '../vrrp/addr.js';
import type { AdvertPolicy } from '../vrrp/advert-policy.js';
import type { Effect } from '../vrrp/instance.js';
import {
  createSyncGroup,
  memberFaults,
  memberStepped,
  type GroupState,
  type GroupTransition,
  type MemberView,
  type SyncCommand,
  type SyncGroupState,
  type SyncResult,
} from '../vrrp/sync-group.js';
import type { Clock } from './clock.js';
import { InstanceRunner, type TransitionListener } from './instance-runner.js';
import type { ReceiveTarget } from './receive-path.js';
import { NotifyStage, type ProviderStatus } from '../notify/notify-stage.js';
import { buildProviders } from '../notify/registry.js';
import { TrackerSet } from '../track/index.js';
import { emptyCounters, type Counters } from './stats.js';
import { TransportPool } from './transport-pool.js';
import { GroupNotifier } from './group-notifier.js';
import { groupIndex, retunable, sameGroup, sameInstance } from './reload-plan.js';

interface RunningInstance {
  spec: InstanceSpec;
  runner: InstanceRunner;
  stage: NotifyStage;
  target: ReceiveTarget;
  transportOptions: TransportOptions;
  group: GroupRuntime | null;
}

/** One running vrrp_sync_group: the pure coordinator's state and what carries out its commands. */
interface GroupRuntime {
  spec: SyncGroupSpec;
  g: SyncGroupState;
  runners: Map<string, InstanceRunner>;
  notifier: GroupNotifier | null;
  /** Commands not yet injected; drained synchronously, in order, in the tick that made them. */
  queue: SyncCommand[];
  draining: boolean;
}

export type InstanceStats = Counters & {
  state: string;
  priority: number;
  providers: ProviderStatus[];
  /** Only for sync group members. */
  syncGroup?: string;
  groupState?: GroupState;
  wantMaster?: boolean;
};

export interface SyncGroupStats {
  state: GroupState;
  members: Record<string, MemberView>;
}

/** Provider call deadline, read-back interval and split-brain hold-off when the config is silent. */
/** SIGTERM must end within 1 s: what providers have not finished by then is logged and left. */
const STAGE_CLOSE_BUDGET_MS = 600;

export interface DaemonOptions {
  log: Logger;
  clock: Clock;
  /** Called for every transition of every instance (the notify stage hooks in here). */
  onTransition?: TransitionListener;
}

/** The running set of VRRP instances built from one config, and how it changes on reload. */
export class Daemon {
  private readonly running = new Map<string, RunningInstance>();
  private groups = new Map<string, GroupRuntime>();
  private readonly unmatched: Counters = emptyCounters();
  private readonly pool: TransportPool;
  private config: FloatipConfig | null = null;
  private trackers: TrackerSet | null = null;

  constructor(private readonly opts: DaemonOptions) {
    this.pool = new TransportPool(opts.log, this.unmatched);
  }

  get currentConfig(): FloatipConfig | null {
    return this.config;
  }

  instances(): InstanceRunner[] {
    return [...this.running.values()].map((r) => r.runner);
  }

  /**
   * Bring the running set in line with `config`: instances whose spec is unchanged keep their
   * state and timers (a reload must not cause a failover); removed ones stop as on shutdown
   * (priority 0 if master); new and changed ones start from BACKUP.
   * New instances are prepared first (source address and interface resolved, trackers built,
   * providers' prepare() run), so most bad configs fail the reload with the old set still
   * running; the VRRP socket itself is opened after the old instances stopped, so it can bind.
   * A sync group is kept only when it and all its members are unchanged; otherwise all its
   * members restart together, since the coordinator's view must start from the same INIT.
   */
  async apply(config: FloatipConfig): Promise<{ started: string[]; stopped: string[]; kept: string[] }> {
    const wanted = new Map(config.instances.map((s) => [s.name, s]));
    const oldGroupOf = groupIndex(this.config);
    const newGroupOf = groupIndex(config);
    const unchanged = new Set<string>();
    /** Kept with a new priority, preempt setting or tracker list: keepalived keeps their state too. */
    const retuned = new Map<string, InstanceSpec>();
    for (const [name, r] of this.running) {
      const next = wanted.get(name);
      if (!next || !sameGroup(oldGroupOf.get(name), newGroupOf.get(name))) continue;
      if (sameInstance(r.spec, next)) unchanged.add(name);
      else if (retunable(r.spec, next)) {
        unchanged.add(name);
        retuned.set(name, next);
      }
    }
    const groupKept = (g: SyncGroupSpec | undefined): boolean =>
      !g || g.members.every((m) => unchanged.has(m));
    const kept = [...unchanged].filter((name) => groupKept(newGroupOf.get(name)));
    const toStop = [...this.running.values()].filter((r) => !kept.includes(r.spec.name));
    const toStart = config.instances.filter((spec) => !kept.includes(spec.name));

    const keptGroups = new Map<string, GroupRuntime>();
    const newGroups = new Map<string, GroupRuntime>();
    for (const gs of config.syncGroups) {
      if (gs.members.length === 0) continue;
      const old = this.groups.get(gs.name);
      if (old && groupKept(gs)) keptGroups.set(gs.name, old);
      else newGroups.set(gs.name, newGroupRuntime(gs));
    }

    // Prepare first: resolve sources and interfaces, build trackers and providers for the new
    // ones, so errors surface before anything running is disturbed.
    const trackers = new TrackerSet(config, { log: this.opts.log });
    const prepared: RunningInstance[] = [];
    try {
      for (const spec of toStart) {
        const gs = newGroupOf.get(spec.name);
        prepared.push(await this.prepare(spec, config, gs ? (newGroups.get(gs.name) ?? null) : null));
      }
      for (const rt of newGroups.values()) {
        const first = wanted.get(rt.spec.members[0] ?? '');
        if (first) rt.notifier = await GroupNotifier.create(rt.spec, first, config, this.opts.log);
      }
    } catch (err) {
      await Promise.allSettled(prepared.map((p) => p.stage.close()));
      await Promise.allSettled(
        [...newGroups.values()].flatMap((rt) => (rt.notifier ? [rt.notifier.close()] : [])),
      );
      throw err;
    }
    trackers.start();
    await trackers.firstResults();

    for (const r of toStop) await this.stopOne(r);
    for (const [name, rt] of this.groups) {
      if (keptGroups.get(name) !== rt) await this.closeNotifier(rt);
    }
    this.groups = new Map([...keptGroups, ...newGroups]);
    await this.trackers?.stop();
    this.trackers = trackers;
    trackers.onChange((instance, inputs, cause) => {
      const r = this.running.get(instance);
      if (!r) return;
      this.opts.log.info(
        {
          event: 'tracker-change',
          instance,
          tracker: cause.tracker,
          from: cause.from,
          to: cause.to,
          delta: inputs.delta,
          faults: inputs.faults,
        },
        cause.text,
      );
      this.applyTrackInputs(r, inputs);
    });
    for (const name of kept) {
      const r = this.running.get(name);
      if (!r) continue;
      const next = retuned.get(name);
      if (next) {
        this.opts.log.info(
          { event: 'retuned', instance: name, priority: next.priority, preempt: next.preempt },
          `${name}: reloaded in place (priority ${r.spec.priority} → ${next.priority}); VRRP state kept`,
        );
        r.runner.retune(next);
        r.spec = next;
      }
      this.applyTrackInputs(r, trackers.inputs(name));
    }
    for (const p of prepared) {
      await this.pool.attach(p.transportOptions, p.target).then(
        (transport) => {
          p.runner.bindTransport(transport);
        },
        (err: unknown) => {
          throw new Error(
            `instance ${p.spec.name}: cannot open VRRP socket on ${p.spec.interface}: ${errMsg(err)}`,
          );
        },
      );
      this.running.set(p.spec.name, p);
    }
    // Tracker results of every new instance first, as keepalived: an instance whose check fails
    // never starts as MASTER, and no sync group member starts outside FAULT while another is faulty.
    for (const p of prepared) this.applyTrackInputs(p, trackers.inputs(p.spec.name));
    const started: string[] = [];
    for (const p of prepared) {
      p.runner.start();
      started.push(p.spec.name);
    }
    this.config = config;
    return { started, stopped: toStop.map((r) => r.spec.name), kept };
  }

  /** Counters per instance plus the ones no instance could be charged with. */
  stats(): {
    instances: Record<string, InstanceStats>;
    unmatched: Counters;
    trackers: ReturnType<TrackerSet['status']>;
    syncGroups: Record<string, SyncGroupStats>;
  } {
    const instances: Record<string, InstanceStats> = {};
    for (const [name, r] of this.running) {
      instances[name] = {
        ...r.runner.counters,
        state: r.runner.vrrpState,
        priority: r.runner.priority,
        providers: r.stage.status(),
        ...(r.group
          ? { syncGroup: r.group.spec.name, groupState: r.group.g.state, wantMaster: r.runner.wantMaster }
          : {}),
      };
    }
    const syncGroups: Record<string, SyncGroupStats> = {};
    for (const [name, rt] of this.groups) {
      const members: Record<string, MemberView> = {};
      for (const m of rt.g.members) {
        const v = rt.g.views[m];
        if (v) members[m] = { state: v.state, wantMaster: v.wantMaster };
      }
      syncGroups[name] = { state: rt.g.state, members };
    }
    return {
      instances,
      unmatched: { ...this.unmatched },
      trackers: this.trackers?.status() ?? [],
      syncGroups,
    };
  }

  writeStats(path: string): void {
    // Write-then-rename so a reader never sees half a file.
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(this.stats(), null, 2) + '\n');
    renameSync(tmp, path);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => this.stopOne(r)));
    await Promise.all([...this.groups.values()].map((rt) => this.closeNotifier(rt)));
    this.groups = new Map();
    await this.trackers?.stop();
    this.trackers = null;
    await this.pool.closeAll();
  }

  private applyTrackInputs(r: RunningInstance, inputs: { delta: number; faults: string[] }): void {
    r.runner.setWeights(inputs.delta);
    // A sync group member's FAULT is the group's: any faulty member makes every member faulty.
    if (r.group) this.takeSync(r.group, memberFaults(r.group.g, r.spec.name, inputs.faults));
    else r.runner.setFault(inputs.faults.length > 0, inputs.faults.join('; '));
  }

  /** A member's reducer step, fed to its group's coordinator. */
  private memberStep(rt: GroupRuntime, member: string, view: MemberView, effects: readonly Effect[]): void {
    this.takeSync(rt, memberStepped(rt.g, member, view, effects));
  }

  /**
   * Store the coordinator's new state, announce a group transition, and inject its commands.
   * Injected steps come back here re-entrantly; they only queue, and the outermost call drains,
   * so commands run strictly in the order the coordinator produced them, all in this tick.
   */
  private takeSync(rt: GroupRuntime, r: SyncResult): void {
    rt.g = r.state;
    if (r.transition) this.groupTransition(rt, r.transition);
    rt.queue.push(...r.commands);
    if (rt.draining) return;
    rt.draining = true;
    try {
      for (let c = rt.queue.shift(); c; c = rt.queue.shift()) {
        const runner = rt.runners.get(c.member);
        if (!runner) continue;
        const e = c.event;
        if (e.type === 'sync-master') runner.syncMaster(e.reason);
        else if (e.type === 'sync-backup') runner.syncBackup();
        else if (e.type === 'fault') runner.setFault(e.active, e.reason);
      }
    } finally {
      rt.draining = false;
    }
  }

  private groupTransition(rt: GroupRuntime, t: GroupTransition): void {
    this.opts.log.info(
      { event: 'group-transition', group: t.group, from: t.from, to: t.to, members: rt.g.members },
      `sync group ${t.group}: ${t.from} -> ${t.to}`,
    );
    rt.notifier?.notify(t.to === 'INIT' ? 'STOP' : t.to);
  }

  private async closeNotifier(rt: GroupRuntime): Promise<void> {
    if (!rt.notifier) return;
    const outcome = await withBudget(rt.notifier.close());
    rt.notifier = null;
    if (outcome === 'late') {
      this.opts.log.warn(
        { event: 'stop-actions-late', group: rt.spec.name },
        `sync group ${rt.spec.name}: notify scripts still running after ${STAGE_CLOSE_BUDGET_MS} ms; not waiting`,
      );
    }
  }

  private async prepare(
    spec: InstanceSpec,
    config: FloatipConfig,
    group: GroupRuntime | null,
  ): Promise<RunningInstance> {
    const sourceIp = resolveSourceIp(spec);
    const transportOptions: TransportOptions = {
      family: spec.family,
      ifname: spec.interface,
      sourceIp,
      unicastPeers: spec.unicastPeers.map(canonicalIp),
      unicastTtl: spec.unicastTtl,
    };
    const runner = new InstanceRunner(
      spec,
      sourceIp,
      this.opts.clock,
      this.opts.log,
      group?.spec.name ?? null,
    );
    if (group) {
      group.runners.set(spec.name, runner);
      runner.onStep((view, effects) => this.memberStep(group, spec.name, view, effects));
    }
    const timings = notifyTimingsFor(config.global, spec);
    const stage = new NotifyStage({
      instance: spec.name,
      providers: await buildProviders(spec, config, this.opts.log),
      callTimeoutMs: timings.providerTimeoutMs,
      reconcileIntervalMs: timings.reconcileIntervalMs,
      holdOffMs: timings.holdOffMs,
      clock: this.opts.clock,
      log: this.opts.log,
    });
    await stage.prepare();
    runner.onTransition((t) => void stage.transition(t.from, t.to, t.priority));
    runner.onAdvertWhileMaster((lower) => stage.peerAdvert(lower));
    if (this.opts.onTransition) runner.onTransition(this.opts.onTransition);
    const policy: AdvertPolicy = {
      version: spec.version,
      vrid: spec.vrid,
      advertIntervalCs: spec.advertIntervalCs,
      virtualIps: spec.virtualIps.filter((v) => v.family === spec.family).map((v) => v.address),
      ...(spec.auth && spec.version === 2 ? { auth: spec.auth } : {}),
    };
    const allowedSources =
      spec.unicastPeers.length > 0 && spec.checkUnicastSrc ? new Set(transportOptions.unicastPeers) : null;
    return { spec, runner, stage, target: { runner, policy, allowedSources }, transportOptions, group };
  }

  private async stopOne(r: RunningInstance): Promise<void> {
    await r.runner.shutdown();
    this.pool.detach(r.transportOptions, r.target);
    this.running.delete(r.spec.name);
    const outcome = await withBudget(r.stage.close());
    if (outcome === 'late') {
      this.opts.log.warn(
        { event: 'stop-actions-late', instance: r.spec.name },
        `${r.spec.name}: provider actions for STOP still running after ${STAGE_CLOSE_BUDGET_MS} ms; not waiting`,
      );
    }
  }
}

/** Waits for `p`, but not longer than the stop budget. */
async function withBudget(p: Promise<void>): Promise<'done' | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), STAGE_CLOSE_BUDGET_MS);
  });
  const outcome = await Promise.race([p.then(() => 'done' as const), budget]);
  clearTimeout(timer);
  return outcome;
}

function newGroupRuntime(spec: SyncGroupSpec): GroupRuntime {
  return {
    spec,
    g: createSyncGroup(spec.name, spec.members),
    runners: new Map(),
    notifier: null,
    queue: [],
    draining: false,
  };
}

function canonicalIp(ip: string): string {
  const b = ipToBytes(ip);
  return bytesToIp(b, b.length === 4 ? 'ipv4' : 'ipv6');
}

/** keepalived's default source: the interface's primary IPv4 address, or its IPv6 link-local. */
export function resolveSourceIp(spec: InstanceSpec): string {
  if (spec.unicastSrcIp) return canonicalIp(spec.unicastSrcIp);
  const info = interfaceInfo(spec.interface);
  const ip = spec.family === 'ipv4' ? info.ipv4[0] : info.ipv6LinkLocal;
  if (!ip) {
    const what = spec.family === 'ipv4' ? 'an IPv4 address' : 'an IPv6 link-local address';
    throw new Error(
      `instance ${spec.name}: interface ${spec.interface} has no ${what} to send adverts from; add one or set unicast_src_ip`,
    );
  }
  return ip;
}

function errMsg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
