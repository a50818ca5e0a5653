import type { Logger } from 'pino';
import type { InstanceSpec } from '../config/model.js';
import { encodeAdvert, type Advert } from '../vrrp/advert.js';
import {
  compareTieBreakIp,
  createInstance,
  effectivePriority,
  step,
  type Effect,
  type InstanceEvent,
  type InstanceParams,
  type InstanceState,
  type TimerName,
  type TransitionReason,
  type VrrpState,
} from '../vrrp/instance.js';
import type { MemberView } from '../vrrp/sync-group.js';
import type { VrrpTransport } from '../transport/types.js';
import { VRRP_MCAST_V4, VRRP_MCAST_V6 } from '../vrrp/advert.js';
import { IpIdCounter } from '../vrrp/ipv4-header.js';
import { armDeadline, type Clock, type Deadline } from './clock.js';
import { emptyCounters, type Counters } from './stats.js';

export interface TransitionInfo {
  instance: string;
  from: VrrpState;
  to: VrrpState;
  reason: string;
  priority: number;
  atUs: number;
}

export type TransitionListener = (t: TransitionInfo) => void;

/** Every reducer step of the instance, after its effects were carried out (the sync group hook). */
export type StepListener = (view: MemberView, effects: readonly Effect[]) => void;

/**
 * Drives one VRRP instance: feeds events into the pure reducer and carries out its effects
 * (adverts on the wire, timers on the event loop, transitions to the log and to listeners such
 * as the notify stage). All VRRP decisions live in the reducer; this class only does I/O.
 */
export class InstanceRunner {
  readonly counters: Counters = emptyCounters();
  private state: InstanceState;
  private readonly timers = new Map<TimerName, Deadline>();
  private readonly pendingSends = new Set<Promise<void>>();
  private readonly listeners: TransitionListener[] = [];
  private readonly masterAdvertListeners: Array<(fromLowerMaster: boolean) => void> = [];
  private readonly stepListeners: StepListener[] = [];
  private readonly destinations: string[];
  /** The advert body that only changes with priority: addresses and auth are fixed per spec. */
  private readonly advertTemplate: Omit<Advert, 'priority'>;
  private stopped = false;
  private transport: VrrpTransport | null = null;
  /** Sends issued by the reducer step being applied; transition listeners wait for them. */
  private stepSends: Promise<void>[] = [];
  private listenerChain: Promise<void> = Promise.resolve();
  private readonly ipIds = new IpIdCounter();

  private currentSpec: InstanceSpec;

  constructor(
    spec: InstanceSpec,
    readonly sourceIp: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** The vrrp_sync_group the instance belongs to: it then goes MASTER only with the group. */
    readonly syncGroup: string | null = null,
  ) {
    this.currentSpec = spec;
    this.state = createInstance(this.paramsFor(spec));
    this.destinations =
      spec.unicastPeers.length > 0
        ? [...spec.unicastPeers]
        : [spec.family === 'ipv4' ? VRRP_MCAST_V4 : VRRP_MCAST_V6];
    const v2 = spec.version === 2;
    this.advertTemplate = {
      version: spec.version,
      type: 1,
      vrid: spec.vrid,
      intervalCs: spec.advertIntervalCs,
      addresses: spec.virtualIps.filter((v) => v.family === spec.family).map((v) => v.address),
      // v3 has no authentication field at all (RFC 5798 §5.2.5): the byte is reserved.
      authType: v2 && spec.auth ? 1 : 0,
      authData: v2 ? (spec.auth?.password ?? Buffer.alloc(8)) : Buffer.alloc(0),
    };
  }

  get name(): string {
    return this.spec.name;
  }

  /** The spec in force: the one it started with, or the last one retune() accepted. */
  get spec(): InstanceSpec {
    return this.currentSpec;
  }

  /**
   * Take a reloaded spec that differs only in priority, preempt, preempt_delay,
   * down_timer_adverts or tracker references, keeping the VRRP state (see retunable()).
   */
  retune(spec: InstanceSpec): void {
    this.dispatch({ type: 'retune', params: this.paramsFor(spec) });
    this.currentSpec = spec;
  }

  private paramsFor(spec: InstanceSpec): InstanceParams {
    return {
      name: spec.name,
      version: spec.version,
      vrid: spec.vrid,
      priority: spec.priority,
      advertIntervalCs: spec.advertIntervalCs,
      preempt: spec.preempt,
      preemptDelayUs: spec.preemptDelayMs * 1000,
      downTimerAdverts: spec.downTimerAdverts,
      primaryIp: this.sourceIp,
      syncGroup: this.syncGroup !== null,
    };
  }

  get vrrpState(): VrrpState {
    return this.state.state;
  }

  get priority(): number {
    return effectivePriority(this.state);
  }

  /** A sync group member held in BACKUP until the whole group wants MASTER. */
  get wantMaster(): boolean {
    return this.state.wantMaster;
  }

  onStep(l: StepListener): void {
    this.stepListeners.push(l);
  }

  onTransition(l: TransitionListener): void {
    this.listeners.push(l);
  }

  /**
   * Called when a peer's advert was accepted while this node stays MASTER: evidence for a fenced
   * node, and when the peer is a lower-priority master, a reason to announce again.
   */
  onAdvertWhileMaster(l: (fromLowerMaster: boolean) => void): void {
    this.masterAdvertListeners.push(l);
  }

  /** The socket comes from the shared pool once it is open; the instance cannot start before. */
  bindTransport(t: VrrpTransport): void {
    this.transport = t;
  }

  start(): void {
    if (!this.transport) throw new Error(`instance ${this.name}: start() before its transport was bound`);
    this.dispatch({ type: 'start' });
  }

  /** An advert that passed the codec and the instance policy checks. */
  receiveAdvert(src: string, priority: number, intervalCs: number): void {
    const wasMaster = this.state.state === 'MASTER';
    const ours = effectivePriority(this.state);
    this.dispatch({ type: 'advert', src, priority, intervalCs });
    if (this.state.state !== 'MASTER') return;
    // Still MASTER after a peer's advert: the peer lost the RFC comparison (lower priority, or
    // equal with a lower address). Priority 0 is a peer leaving, not a competing master.
    const lowerMaster =
      wasMaster &&
      priority > 0 &&
      (priority < ours || (priority === ours && compareTieBreakIp(src, this.sourceIp) < 0));
    for (const l of this.masterAdvertListeners) l(lowerMaster);
  }

  setWeights(delta: number): void {
    this.dispatch({ type: 'weights', delta });
  }

  setFault(active: boolean, reason: string): void {
    this.dispatch({ type: 'fault', active, reason });
  }

  /** The sync group goes MASTER; `reason` for the member whose own wish completed it. */
  syncMaster(reason?: TransitionReason): void {
    this.dispatch(reason === undefined ? { type: 'sync-master' } : { type: 'sync-master', reason });
  }

  /** Another member of the sync group left MASTER for BACKUP. */
  syncBackup(): void {
    this.dispatch({ type: 'sync-backup' });
  }

  /** Graceful stop: a MASTER says priority 0 so the backup takes over after Skew_Time only. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.dispatch({ type: 'shutdown' });
    this.stopped = true;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    await Promise.allSettled([...this.pendingSends]);
    // The STOP transition must reach the notify stage before the daemon closes it.
    await this.listenerChain;
  }

  private dispatch(e: InstanceEvent): void {
    if (this.stopped) return;
    const now = this.clock.nowUs();
    const { state, effects } = step(this.state, e, now);
    this.state = state;
    this.stepSends = [];
    for (const fx of effects) this.apply(fx, now);
    // Last, and after the state is stored: a listener (the sync group) may dispatch into this
    // runner again, and this step's sends are already captured by its transition.
    const view: MemberView = { state: state.state, wantMaster: state.wantMaster };
    for (const l of this.stepListeners) {
      try {
        l(view, effects);
      } catch (err) {
        this.log.error({ err, instance: this.name }, 'step listener failed');
      }
    }
  }

  private apply(fx: Effect, now: number): void {
    switch (fx.type) {
      case 'send-advert':
        this.sendAdvert(fx.priority);
        return;
      case 'set-timer':
        this.armTimer(fx.timer, fx.at);
        return;
      case 'clear-timer': {
        this.timers.get(fx.timer)?.cancel();
        this.timers.delete(fx.timer);
        return;
      }
      case 'want-master':
        this.log.info(
          { event: 'want-master', instance: this.name, group: this.syncGroup, reason: fx.reason },
          `${this.name}: would become MASTER (${fx.reason}); waiting for the other members of sync group ${this.syncGroup ?? '?'}`,
        );
        return;
      case 'priority-changed':
        this.log.info(
          { event: 'priority-changed', instance: this.name, from: fx.from, to: fx.to },
          `${this.name}: effective priority ${fx.from} -> ${fx.to}`,
        );
        return;
      case 'transition': {
        if (fx.to === 'MASTER') this.counters.become_master++;
        if (fx.from === 'MASTER') this.counters.release_master++;
        this.log.info(
          {
            event: 'transition',
            instance: this.name,
            vrid: this.spec.vrid,
            from: fx.from,
            to: fx.to,
            reason: fx.reason,
            priority: fx.effectivePriority,
            masterAdverIntervalCs: fx.masterAdverIntervalCs,
            skewMs: fx.skewUs / 1000,
            masterDownMs: fx.masterDownUs / 1000,
            ...(fx.peer ? { peer: fx.peer } : {}),
          },
          `${this.name}: ${fx.from} -> ${fx.to} (${fx.reason})`,
        );
        const info: TransitionInfo = {
          instance: this.name,
          from: fx.from,
          to: fx.to,
          reason: fx.reason,
          priority: fx.effectivePriority,
          atUs: now,
        };
        // Listeners (the notify stage) hear of the transition once this step's adverts are on
        // the wire: a new master's first advert goes before its GARP and cloud calls, as
        // keepalived orders them, and the peer learns of us a few milliseconds sooner. The
        // chain keeps transitions in order whatever each one waits for.
        const sends = this.stepSends;
        this.listenerChain = this.listenerChain
          .then(() => Promise.allSettled(sends))
          .then(() => {
            for (const l of this.listeners) {
              try {
                l(info);
              } catch (err) {
                this.log.error({ err, instance: this.name }, 'transition listener failed');
              }
            }
          });
        return;
      }
    }
  }

  private armTimer(timer: TimerName, atUs: number): void {
    this.timers.get(timer)?.cancel();
    this.timers.set(
      timer,
      armDeadline(this.clock, atUs, () => {
        this.timers.delete(timer);
        this.dispatch({ type: 'timer', timer });
      }),
    );
  }

  private sendAdvert(priority: number): void {
    const transport = this.transport;
    if (!transport) return;
    const advert: Advert = { ...this.advertTemplate, priority };
    // One advert per interval whatever the number of unicast peers, as keepalived counts it.
    this.counters.advert_sent++;
    if (priority === 0) this.counters.pri_zero_sent++;
    const ipId = this.spec.family === 'ipv4' ? this.ipIds.next() : undefined;
    for (const dst of this.destinations) {
      const bytes = encodeAdvert(advert, { family: this.spec.family, src: this.sourceIp, dst });
      const p = transport.send(bytes, dst, ipId).catch((err: unknown) => {
        this.log.error(
          { event: 'send-failed', instance: this.name, dst, err },
          `${this.name}: advert to ${dst} failed`,
        );
      });
      this.pendingSends.add(p);
      this.stepSends.push(p);
      void p.finally(() => this.pendingSends.delete(p));
    }
  }
}
