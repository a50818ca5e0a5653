import { writeFileSync, renameSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { notifyTimingsFor, type FloatipConfig, type InstanceSpec } from '../config/model.js';
import { interfaceInfo } from '../transport/interface-info.js';
import type { TransportOptions } from '../transport/types.js';
import { bytesToIp, ipToBytes } from '../vrrp/addr.js';
import type { AdvertPolicy } from '../vrrp/advert-policy.js';
import type { Clock } from './clock.js';
import { InstanceRunner, type TransitionListener } from './instance-runner.js';
import type { ReceiveTarget } from './receive-path.js';
import { NotifyStage, type ProviderStatus } from '../notify/notify-stage.js';
import { buildProviders } from '../notify/registry.js';
import { TrackerSet } from '../track/index.js';
import { emptyCounters, type Counters } from './stats.js';
import { TransportPool } from './transport-pool.js';

interface RunningInstance {
  spec: InstanceSpec;
  runner: InstanceRunner;
  stage: NotifyStage;
  target: ReceiveTarget;
  transportOptions: TransportOptions;
}

export type InstanceStats = Counters & { state: string; priority: number; providers: ProviderStatus[] };

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
   */
  async apply(config: FloatipConfig): Promise<{ started: string[]; stopped: string[]; kept: string[] }> {
    const wanted = new Map(config.instances.map((s) => [s.name, s]));
    const kept: string[] = [];
    const toStop: RunningInstance[] = [];
    const toStart: InstanceSpec[] = [];
    for (const [name, r] of this.running) {
      const next = wanted.get(name);
      if (next && sameInstance(r.spec, next)) kept.push(name);
      else toStop.push(r);
    }
    for (const spec of config.instances) if (!kept.includes(spec.name)) toStart.push(spec);

    // Prepare first: resolve sources and interfaces, build trackers and providers for the new
    // ones, so errors surface before anything running is disturbed.
    const trackers = new TrackerSet(config, { log: this.opts.log });
    const prepared: RunningInstance[] = [];
    try {
      for (const spec of toStart) prepared.push(await this.prepare(spec, config));
    } catch (err) {
      await Promise.allSettled(prepared.map((p) => p.stage.close()));
      throw err;
    }
    trackers.start();
    await trackers.firstResults();

    for (const r of toStop) await this.stopOne(r);
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
      this.applyTrackInputs(r.runner, inputs);
    });
    for (const name of kept) {
      const r = this.running.get(name);
      if (r) this.applyTrackInputs(r.runner, trackers.inputs(name));
    }
    const started: string[] = [];
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
      // Tracker results first, as keepalived: an instance whose check fails never starts as MASTER.
      this.applyTrackInputs(p.runner, trackers.inputs(p.spec.name));
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
  } {
    const instances: Record<string, InstanceStats> = {};
    for (const [name, r] of this.running) {
      instances[name] = {
        ...r.runner.counters,
        state: r.runner.vrrpState,
        priority: r.runner.priority,
        providers: r.stage.status(),
      };
    }
    return { instances, unmatched: { ...this.unmatched }, trackers: this.trackers?.status() ?? [] };
  }

  writeStats(path: string): void {
    // Write-then-rename so a reader never sees half a file.
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(this.stats(), null, 2) + '\n');
    renameSync(tmp, path);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => this.stopOne(r)));
    await this.trackers?.stop();
    this.trackers = null;
    await this.pool.closeAll();
  }

  private applyTrackInputs(runner: InstanceRunner, inputs: { delta: number; faults: string[] }): void {
    runner.setWeights(inputs.delta);
    runner.setFault(inputs.faults.length > 0, inputs.faults.join('; '));
  }

  private async prepare(spec: InstanceSpec, config: FloatipConfig): Promise<RunningInstance> {
    const sourceIp = resolveSourceIp(spec);
    const transportOptions: TransportOptions = {
      family: spec.family,
      ifname: spec.interface,
      sourceIp,
      unicastPeers: spec.unicastPeers.map(canonicalIp),
      unicastTtl: spec.unicastTtl,
    };
    const runner = new InstanceRunner(spec, sourceIp, this.opts.clock, this.opts.log);
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
    return { spec, runner, stage, target: { runner, policy, allowedSources }, transportOptions };
  }

  private async stopOne(r: RunningInstance): Promise<void> {
    await r.runner.shutdown();
    this.pool.detach(r.transportOptions, r.target);
    this.running.delete(r.spec.name);
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), STAGE_CLOSE_BUDGET_MS);
    });
    const outcome = await Promise.race([r.stage.close().then(() => 'done' as const), budget]);
    clearTimeout(timer);
    if (outcome === 'late') {
      this.opts.log.warn(
        { event: 'stop-actions-late', instance: r.spec.name },
        `${r.spec.name}: provider actions for STOP still running after ${STAGE_CLOSE_BUDGET_MS} ms; not waiting`,
      );
    }
  }
}

function sameInstance(a: InstanceSpec, b: InstanceSpec): boolean {
  // Positions move when lines are added above an instance; that is not a change to the instance.
  const { pos: _pa, ...ra } = a;
  const { pos: _pb, ...rb } = b;
  return isDeepStrictEqual(ra, rb);
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
