/**
 * The invariants the simulator checks while a scenario runs. Each is a statement about VRRP
 * (RFC 3768 / RFC 5798, as keepalived 2.2.7 implements it) that must hold for ANY correct
 * implementation under the scenario's conditions; none of them asks the reducer what it thinks.
 * What a node "knows" is computed here from what it actually processed (the events fed to it).
 *
 * Stability: every fault marks the nodes it can affect as disturbed at that time (see
 * Simulator.disturb). A connected component's `stableSince` is the latest disturbance of any of its
 * members. Random loss and reorder-delayed packets are disturbances too (of sender and receiver),
 * so a quiet period never contains a loss burst. test/sim/README.md explains every bound.
 */
import { MAX_BACKSTOP_DOUBLINGS, type AcquireReason } from '../notify/holder-policy.js';
import type { Effect, InstanceEvent, InstanceState } from '../vrrp/instance.js';
import { masterDownIntervalUs, skewTimeUs } from '../vrrp/timing.js';
import type { Bounds, Scenario, SimNodeConfig } from './scenario.js';
import { fmtMs } from './trace.js';

export type InvariantName =
  | 'I1 single-rfc-master'
  | 'I2 no-early-takeover'
  | 'I3 no-flapping'
  | 'I4 heal-convergence'
  | 'I6 master-yields'
  | 'I7 fast-failover'
  | 'I8 effective-priority'
  | 'S1 one-holder'
  | 'S2 move-budget'
  | 'S3 dead-holder-takeover'
  | 'S4 healed'
  | 'I0 event-budget';

export const INVARIANTS: readonly InvariantName[] = [
  'I1 single-rfc-master',
  'I2 no-early-takeover',
  'I3 no-flapping',
  'I4 heal-convergence',
  'I6 master-yields',
  'I7 fast-failover',
  'I8 effective-priority',
  'S1 one-holder',
  'S2 move-budget',
  'S3 dead-holder-takeover',
  'S4 healed',
];

/** How many times each invariant was actually evaluated: proof that none is vacuous. */
export type CheckCounts = Record<InvariantName, number>;

export function emptyCounts(): CheckCounts {
  return {
    'I0 event-budget': 0,
    'I1 single-rfc-master': 0,
    'I2 no-early-takeover': 0,
    'I3 no-flapping': 0,
    'I4 heal-convergence': 0,
    'I6 master-yields': 0,
    'I7 fast-failover': 0,
    'I8 effective-priority': 0,
    'S1 one-holder': 0,
    'S2 move-budget': 0,
    'S3 dead-holder-takeover': 0,
    'S4 healed': 0,
  };
}

export interface Violation {
  invariant: InvariantName;
  atUs: number;
  message: string;
}

export class ViolationError extends Error {
  constructor(readonly violation: Violation) {
    super(`${violation.invariant} violated at ${fmtMs(violation.atUs)}: ${violation.message}`);
    this.name = 'ViolationError';
  }
}

export interface NodeView {
  readonly cfg: SimNodeConfig;
  readonly alive: boolean;
  readonly frozen: boolean;
  readonly s: InstanceState;
}

export interface WorldView {
  readonly nodes: readonly NodeView[];
  canReach(from: number, to: number): boolean;
  /** The cloud holder's node id, null before the first claim lands. */
  readonly holder: number | null;
}

/** The last moment that bounds a BACKUP's takeover: an accepted advert or entering BACKUP. */
interface Anchor {
  t: number;
  /** 'skew' after a priority-0 advert (RFC 5798 §6.4.2), else a full Master_Down. */
  kind: 'full' | 'skew';
  intervalCs: number;
  /** Highest effective priority since the anchor: a priority rise shortens the wait (keepalived). */
  prioMax: number;
  what: string;
}

interface HealCheck {
  key: string;
  members: number[];
  since: number;
  due: number;
}

interface TakeoverCheck {
  /** The dead holder. */
  dead: number;
  since: number;
  due: number;
  /** A live MASTER existed when the holder died (else one must first be elected). */
  hadMaster: boolean;
  /** A claim of a live MASTER landed since the death: the dead holder was taken over. */
  takenOver: boolean;
}

/** Acquires that need no budget: they are the reason the address exists, or it is free/dead. */
const EXEMPT: readonly AcquireReason[] = ['became-master', 'address-free', 'holder-dead'];

interface FailoverCheck {
  from: number;
  key: string;
  members: number[];
  since: number;
  due: number;
  void: boolean;
}

export class Checker {
  private readonly lastDisturb: number[];
  /** When a packet of each node last went missing: a lost priority-0 advert voids I7. */
  private readonly lastMissFrom: number[];
  private readonly anchors: (Anchor | null)[];
  private readonly masterIntervalCs: number[];
  private readonly expDelta: number[];
  private readonly transitions: number[][];
  private readonly rankByIp = new Map<string, number>();
  /**
   * With different advert intervals (v3) a backup adopts the interval of whichever master's advert
   * it accepted last, and an in-flight advert from a master that has just been deposed can make
   * it time out early and duel again: more than two changes are then legitimate, so only the
   * settled part of I3 applies.
   */
  private readonly uniformIntervals: boolean;
  private heals: HealCheck[] = [];
  private failovers: FailoverCheck[] = [];
  private takeovers: TakeoverCheck[] = [];
  /** Per node, when it last issued an acquire (any reason, any process). */
  private readonly lastAcquire: (number | null)[];
  /**
   * S4: Infinity while the holder got the address by a stale claim (one that landed when its node
   * was not a running MASTER), else when the last such holder lost it (-Infinity: never).
   */
  private staleHolderAt = -Infinity;
  /** S1: holder changes counted in the current quiet period (keyed by its start). */
  private quietChanges = { since: -1, count: 0 };
  private comps: number[][] | null = null;
  private compsValid = false;
  private lastPre = -1;
  readonly counts: CheckCounts = emptyCounts();
  /** First violation of each tolerated invariant, in order. */
  readonly tolerated: Violation[] = [];
  private readonly tolerate: ReadonlySet<InvariantName>;

  constructor(
    readonly scenario: Scenario,
    readonly bounds: Bounds,
    private readonly world: WorldView,
    tolerate: readonly InvariantName[] = [],
  ) {
    this.tolerate = new Set(tolerate);
    const n = scenario.nodes.length;
    this.lastDisturb = new Array<number>(n).fill(0);
    this.lastMissFrom = new Array<number>(n).fill(-1);
    this.anchors = new Array<Anchor | null>(n).fill(null);
    this.masterIntervalCs = scenario.nodes.map((c) => c.advertIntervalCs);
    this.expDelta = new Array<number>(n).fill(0);
    this.transitions = scenario.nodes.map(() => []);
    for (const c of scenario.nodes) this.rankByIp.set(c.ip, c.ipRank);
    this.uniformIntervals = new Set(scenario.nodes.map((c) => c.advertIntervalCs)).size === 1;
    this.lastAcquire = new Array<number | null>(n).fill(null);
  }

  // -------------------------------------------------------------------------------------------
  // Hooks called by the simulator

  disturb(nodes: Iterable<number>, t: number): void {
    for (const x of nodes) this.lastDisturb[x] = Math.max(this.lastDisturb[x] ?? 0, t);
    this.compsValid = false;
  }

  /** A packet from → to was lost or held back by a burst (both are disturbances too). */
  packetMissed(from: number, to: number, t: number): void {
    this.lastMissFrom[from] = t;
    this.disturb([from, to], t);
  }

  /** A fresh process: the reducer starts from createInstance, trackers report again. */
  restarted(node: number): void {
    this.expDelta[node] = 0;
    this.anchors[node] = null;
    this.masterIntervalCs[node] = this.cfg(node).advertIntervalCs;
    this.compsValid = false;
  }

  /** Liveness (crash/freeze) changed outside a reducer step. */
  membershipChanged(): void {
    this.compsValid = false;
  }

  /** A process died; if it held the address, S3 starts counting. */
  killed(node: number, wasHolder: boolean, t: number): void {
    this.compsValid = false;
    if (wasHolder) this.startTakeover(node, t);
    // A dead holder releases nothing; without liveness only the backstop (H) takes it over.
    if (wasHolder && this.scenario.holder.liveness === 'unknown') this.staleHolderAt = Infinity;
  }

  /** S2: a node's holder policy asked for the address. */
  acquireIssued(node: number, reason: AcquireReason, t: number): void {
    const prev = this.lastAcquire[node] ?? null;
    this.lastAcquire[node] = t;
    if (EXEMPT.includes(reason)) return;
    this.counts['S2 move-budget']++;
    const hold = this.scenario.holder.holdOffUs;
    if (prev !== null && t - prev < hold) {
      this.soft('S2 move-budget', t, [
        `${this.cfg(node).name} acquires (${reason}) only ${fmtMs(t - prev)} after its previous acquire at ${fmtMs(prev)};`,
        `outside became-master/address-free/holder-dead a node may move at most once per hold-off window (${fmtMs(hold)})`,
      ]);
    }
  }

  /** A claim landed: S1 (no change in a quiet group) and S3 (a dead node's late claim). */
  landed(before: number | null, node: number, t: number): void {
    const v = this.node(node);
    if (!v.alive) {
      this.startTakeover(node, t);
    } else {
      // The dead node no longer holds it. Whether this live holder is the right one (a stale
      // claim of a BACKUP, say) is S1's and S4's question, not S3's.
      for (const c of this.takeovers) if (c.dead !== node) c.takenOver = true;
    }
    // A claim that lands after its node left MASTER (issued in the tenure, in flight when it
    // ended, so its release found nothing to give back): only the fenced winner's backstop
    // (H) removes it.
    if (!v.alive || v.frozen || v.s.state !== 'MASTER') this.staleHolderAt = Infinity;
    else if (before !== node) this.staleHolderEnded(t);
    if (before !== node) this.holderChanged(before, node, t);
  }

  private staleHolderEnded(t: number): void {
    if (this.staleHolderAt === Infinity) this.staleHolderAt = t;
  }

  /** A release (a node left MASTER) freed the address. */
  released(node: number, t: number): void {
    this.staleHolderEnded(t);
    this.holderChanged(node, null, t);
  }

  /**
   * S1, second half: in a group quiet for the one-holder window the holder no longer changes,
   * unless a running master cannot hear another one. Such a deaf master still moves it only by
   * its backstop, whose wait doubles while its moves are undone (H, 2H, 4H… up to the cap), and
   * each such move is undone at most once: holder changes in the quiet period stay within
   * 2 × (backstop moves one node can make in that time) per deaf master.
   */
  private holderChanged(before: number | null, after: number | null, t: number): void {
    const quietSince = Math.max(...this.lastDisturb);
    if (t - quietSince <= this.bounds.oneHolderUs) return;
    if (this.quietChanges.since !== quietSince) this.quietChanges = { since: quietSince, count: 0 };
    this.quietChanges.count++;
    const running = this.liveMasters();
    // Only a master that cannot hear another running master moves without evidence; each such
    // move is undone at most once (by the master it cannot hear).
    const deaf = running.filter((a) => running.some((b) => a !== b && !this.world.canReach(b, a)));
    const cut = deaf.length > 0;
    const budget = 2 * deaf.length * backstopMovesWithin(t - quietSince, this.scenario.holder.holdOffUs);
    this.counts['S1 one-holder']++;
    if (this.quietChanges.count <= budget) return;
    const name = (j: number | null): string => (j === null ? 'nobody' : this.cfg(j).name);
    this.soft('S1 one-holder', t, [
      `the holder moved from ${name(before)} to ${name(after)}`,
      `although the whole group has been quiet since ${fmtMs(quietSince)}, longer than the`,
      `one-holder window ${fmtMs(this.bounds.oneHolderUs)} (settle + hold-off + longest backstop wait + reconcile + 3·latency);`,
      cut
        ? `change ${this.quietChanges.count} of this quiet period exceeds the backstop budget ${budget} (masters that cannot hear another running master: ${this.names(deaf)})`
        : `and every running master hears every other (running masters: ${this.names(running) || 'none'});`,
      `states: ${this.states(this.allIds())}; links: ${this.links()}`,
    ]);
  }

  private startTakeover(dead: number, t: number): void {
    const hadMaster = this.liveMasters().length > 0;
    const due = t + this.bounds.deadTakeoverUs + (hadMaster ? 0 : this.bounds.settleUs);
    this.takeovers = this.takeovers.filter((c) => c.dead !== dead);
    this.takeovers.push({ dead, since: t, due, hadMaster, takenOver: false });
  }

  /** After a reachability change: components that gained a two-way link must converge (I4). */
  linksHealed(pairs: [number, number][], t: number): void {
    const comps = this.components();
    if (comps === null) return;
    for (const comp of comps) {
      if (comp.length < 2) continue;
      if (!pairs.some(([a, b]) => comp.includes(a) && comp.includes(b))) continue;
      this.heals.push({ key: comp.join(','), members: comp, since: t, due: t + this.bounds.healUs });
    }
  }

  /** Runs the time-based checks for the state that held up to `t` (before the events at `t`). */
  beforeEvent(t: number): void {
    if (t <= this.lastPre) return;
    this.lastPre = t;
    const comps = this.components();
    if (comps !== null) this.checkSettled(comps, t);
    if (this.heals.length > 0) this.checkHeals(comps, t);
    if (this.failovers.length > 0) this.checkFailovers(comps, t);
    if (this.takeovers.length > 0) this.checkTakeovers(t);
    this.checkOneHolder(t);
  }

  afterStep(
    x: number,
    e: InstanceEvent,
    before: InstanceState,
    after: InstanceState,
    effects: readonly Effect[],
    t: number,
  ): void {
    const cfg = this.cfg(x);
    const effBefore = this.expectedEff(x);
    if (e.type === 'weights') this.expDelta[x] = e.delta;
    const effAfter = this.expectedEff(x);

    // I8: the priority every other rule depends on.
    this.counts['I8 effective-priority']++;
    if (after.effectivePriority !== effAfter) {
      this.fail('I8 effective-priority', t, [
        `${cfg.name} has effective priority ${after.effectivePriority}, expected ${effAfter}`,
        `(configured ${cfg.priority}, tracker weights ${this.expDelta[x]}, clamped to 1..254 unless 255)`,
      ]);
    }
    const anchor = this.anchors[x];
    if (anchor && effAfter > anchor.prioMax) anchor.prioMax = effAfter;

    if (e.type === 'advert' && before.state === 'BACKUP') this.noteBackupAdvert(x, e, effBefore, t);
    if (e.type === 'advert' && before.state === 'MASTER' && e.priority > 0) {
      this.checkMasterYields(x, e, effBefore, after, t);
    }
    if (e.type === 'advert' && e.priority > 0) {
      for (const f of this.failovers) {
        if (!f.void && t > f.since && f.members.includes(x) && e.src === this.cfg(f.from).ip) f.void = true;
      }
    }

    if (before.state !== after.state) this.onStateChange(x, e, before, after, effAfter, t);

    if (before.state === 'MASTER') {
      for (const fx of effects) {
        if (fx.type === 'send-advert' && fx.priority === 0) {
          this.registerFailover(x, t);
          break;
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Per-step rules

  private noteBackupAdvert(
    x: number,
    e: Extract<InstanceEvent, { type: 'advert' }>,
    eff: number,
    t: number,
  ): void {
    const cfg = this.cfg(x);
    const who = this.nameOfIp(e.src);
    if (e.priority === 0) {
      // RFC 5798 §6.4.2: Master_Down_Timer := Skew_Time, with the interval learnt so far.
      this.anchors[x] = {
        t,
        kind: 'skew',
        intervalCs: this.masterIntervalCs[x] ?? cfg.advertIntervalCs,
        prioMax: eff,
        what: `priority-0 advert from ${who}`,
      };
      return;
    }
    // RFC 5798 §6.4.2: a Backup must reset its timer for an advert at least as good as itself, or
    // for any advert when it does not preempt. A lower advert that keepalived accepts during
    // preempt_delay is optional here: ignoring it only makes the bound earlier, never wrong.
    const intervalCs = this.scenario.version === 3 ? e.intervalCs : cfg.advertIntervalCs;
    const candidate: Anchor = {
      t,
      kind: 'full',
      intervalCs,
      prioMax: eff,
      what: `advert from ${who} prio ${e.priority}`,
    };
    if (!cfg.preempt || e.priority >= eff) {
      this.masterIntervalCs[x] = intervalCs;
      this.anchors[x] = candidate;
      return;
    }
    if (cfg.preemptDelayUs > 0) {
      // keepalived may accept this lower advert (preempt_delay still running), and in v3 adopt a
      // shorter interval from it: keep whichever anchor allows the earlier takeover, and the
      // smallest interval a later Skew_Time could be computed from.
      this.masterIntervalCs[x] = Math.min(this.masterIntervalCs[x] ?? intervalCs, intervalCs);
      const cur = this.anchors[x];
      if (!cur || this.earliest(candidate, cfg) < this.earliest(cur, cfg)) this.anchors[x] = candidate;
    }
  }

  private earliest(a: Anchor, cfg: SimNodeConfig): number {
    const v = this.scenario.version;
    return (
      a.t +
      (a.kind === 'full'
        ? masterDownIntervalUs(v, a.prioMax, a.intervalCs, cfg.downTimerAdverts)
        : skewTimeUs(v, a.prioMax, a.intervalCs))
    );
  }

  /** I6, RFC 5798 §6.4.3: a Master yields to a better advert and only to a better one. */
  private checkMasterYields(
    x: number,
    e: Extract<InstanceEvent, { type: 'advert' }>,
    eff: number,
    after: InstanceState,
    t: number,
  ): void {
    const cfg = this.cfg(x);
    const srcRank = this.rankByIp.get(e.src) ?? -1;
    const better = e.priority > eff || (e.priority === eff && srcRank > cfg.ipRank);
    this.counts['I6 master-yields']++;
    const rule = better
      ? `prio ${e.priority} from ${e.src} beats prio ${eff} at ${cfg.ip}: it must go BACKUP`
      : `prio ${e.priority} from ${e.src} does not beat prio ${eff} at ${cfg.ip}: it must stay MASTER`;
    if (better ? after.state !== 'BACKUP' : after.state !== 'MASTER') {
      this.fail('I6 master-yields', t, [`MASTER ${cfg.name} is ${after.state} after an advert: ${rule}`]);
    }
  }

  private onStateChange(
    x: number,
    e: InstanceEvent,
    before: InstanceState,
    after: InstanceState,
    eff: number,
    t: number,
  ): void {
    const cfg = this.cfg(x);
    const live = (st: string): boolean => st === 'BACKUP' || st === 'MASTER';
    if (!live(before.state) || !live(after.state)) this.compsValid = false;

    if (after.state === 'MASTER') this.checkTakeover(x, e, before, t);
    if (after.state === 'BACKUP') {
      const intervalCs =
        e.type === 'advert' && this.scenario.version === 3 ? e.intervalCs : cfg.advertIntervalCs;
      this.masterIntervalCs[x] = intervalCs;
      this.anchors[x] = {
        t,
        kind: 'full',
        intervalCs,
        prioMax: eff,
        what: `entering BACKUP from ${before.state}`,
      };
    } else this.anchors[x] = null;

    // I3
    const times = this.transitions[x] ?? [];
    times.push(t);
    if (times.length > 4) times.shift();
    const comps = this.components();
    const comp = comps?.find((c) => c.includes(x));
    if (!comp) return;
    const since = this.stableSince(comp);
    // Packets sent at the disturbance itself (a resumed node's burst, a fault's priority-0
    // adverts) are still landing for one delay bound; count changes from when they have landed.
    const from = since + this.bounds.delayMaxUs;
    if (t <= from) return;
    const n = times.filter((u) => u > from).length;
    this.counts['I3 no-flapping']++;
    if ((n > 2 && this.uniformIntervals) || t - since > this.bounds.settleUs) {
      this.fail('I3 no-flapping', t, [
        `${cfg.name} went ${before.state} -> ${after.state}, its ${ordinal(n)} change since its component`,
        `{${this.names(comp)}} became stable at ${fmtMs(since)} (counted from ${fmtMs(from)})`,
        n > 2
          ? '(at most 2 are legitimate: a takeover, then losing an election duel or being preempted)'
          : `(no change is legitimate once stable for ${fmtMs(this.bounds.settleUs)})`,
      ]);
    }
  }

  /** I2: never before Master_Down (or Skew_Time after priority 0) from the anchor. */
  private checkTakeover(x: number, e: InstanceEvent, before: InstanceState, t: number): void {
    const cfg = this.cfg(x);
    if (before.state === 'INIT') {
      if (cfg.priority === 255 && e.type === 'start') return;
      this.fail('I2 no-early-takeover', t, [
        `${cfg.name} went INIT -> MASTER on ${e.type} with priority ${cfg.priority}; only an address owner (255) may skip BACKUP`,
      ]);
    }
    if (before.state !== 'BACKUP') {
      this.fail('I2 no-early-takeover', t, [
        `${cfg.name} went ${before.state} -> MASTER without passing BACKUP`,
      ]);
    }
    const a = this.anchors[x];
    if (!a) {
      this.fail('I2 no-early-takeover', t, [`${cfg.name} became MASTER but the checker saw it enter BACKUP`]);
    }
    const v = this.scenario.version;
    this.counts['I2 no-early-takeover']++;
    const wait = this.earliest(a, cfg) - a.t;
    if (t < a.t + wait) {
      this.fail('I2 no-early-takeover', t, [
        `${cfg.name} became MASTER at ${fmtMs(t)}, but its last ${a.what} was processed at ${fmtMs(a.t)}`,
        `and ${a.kind === 'full' ? 'Master_Down' : 'Skew_Time'} (v${v}, prio ${a.prioMax}, interval ${a.intervalCs} cs,`,
        `down_timer_adverts ${cfg.downTimerAdverts}) is ${fmtMs(wait)}: earliest legal takeover ${fmtMs(a.t + wait)}`,
      ]);
    }
  }

  private registerFailover(x: number, t: number): void {
    if (this.lastMissFrom[x] === t) return;
    const comps = this.components();
    if (comps === null) return;
    const comp = comps.find((c) => c.some((j) => this.mutual(x, j)));
    if (!comp || !comp.every((j) => this.mutual(x, j))) return;
    const key = comp.join(',');
    if (this.failovers.some((f) => f.from === x && f.since === t)) return;
    this.failovers.push({
      from: x,
      key,
      members: comp,
      since: t,
      due: t + this.bounds.fastFailoverUs,
      void: false,
    });
  }

  // -------------------------------------------------------------------------------------------
  // Time-based rules

  /** I1 and S4. */
  private checkSettled(comps: number[][], t: number): void {
    for (const comp of comps) {
      const since = this.stableSince(comp);
      if (t - since <= this.bounds.settleUs) continue;
      this.counts['I1 single-rfc-master']++;
      const masters = comp.filter((j) => this.node(j).s.state === 'MASTER');
      const head = `component {${this.names(comp)}} stable since ${fmtMs(since)} (settle window ${fmtMs(this.bounds.settleUs)})`;
      const m = masters[0];
      if (masters.length !== 1 || m === undefined) {
        this.fail('I1 single-rfc-master', t, [
          `${head} has ${masters.length} masters${masters.length ? `: ${this.names(masters)}` : ''}`,
          `states: ${this.states(comp)}`,
        ]);
      }
      // The master is acceptable unless someone who preempts outranks it strictly: an equal
      // priority backup never preempts (it accepts adverts >= its own priority), nopreempt keeps
      // the incumbent, and the settle window already includes the longest preempt_delay.
      const effM = this.node(m).s.effectivePriority;
      for (const j of comp) {
        if (j === m) continue;
        const eff = this.node(j).s.effectivePriority;
        if (this.cfg(j).preempt && eff > effM) {
          this.fail('I1 single-rfc-master', t, [
            `${head}: master ${this.cfg(m).name} (prio ${effM}) is outranked by ${this.cfg(j).name}`,
            `(prio ${eff}, preempt${this.cfg(j).preemptDelayUs ? ` delay ${fmtMs(this.cfg(j).preemptDelayUs)}` : ''}), which must have taken over; states: ${this.states(comp)}`,
          ]);
        }
      }
      // Any node's claim moves the one address, so the holder needs the whole group quiet,
      // including nodes that are down, frozen or cut off (their claims may still be landing).
      const quietSince = Math.max(...this.lastDisturb);
      // With release on leaving MASTER a duel ends at once, except when the loser's claim was
      // still in flight as it left (its release found nothing to give back): then, as without
      // release, only the fenced winner's backstop moves it, H later.
      const stale = this.staleHolderAt >= quietSince;
      const window =
        this.bounds.healHolderUs +
        (stale && this.scenario.holder.releaseOnLeave ? this.bounds.backstopMaxUs : 0);
      if (comps.length !== 1 || t - quietSince <= window) continue;
      const h = this.world.holder;
      // A frozen holder looks running to the cloud and is silent on 112: no rule with these
      // inputs can tell it from a live master behind a cut, so S4 waits for it to resume or die.
      if (h !== null && this.node(h).alive && this.node(h).frozen) continue;
      this.counts['S4 healed']++;
      if (h !== m) {
        this.soft('S4 healed', t, [
          `${head}, whole group quiet since ${fmtMs(quietSince)} (window ${fmtMs(window)} =`,
          `settle + 2·reconcile + 4·latency${!this.scenario.holder.releaseOnLeave ? ' + hold-off, no release' : stale ? ' + hold-off, release on but a stale claim landed' : ', release on leaving MASTER'}): master is ${this.cfg(m).name} but the cloud holder is`,
          `${h === null ? 'nobody' : `${this.cfg(h).name} (${this.stateOf(h)})`}; states: ${this.states(this.allIds())}`,
        ]);
      }
    }
  }

  /**
   * S1: once the whole group has been quiet for the one-holder window, the holder is one of the
   * masters. A frozen MASTER counts: the cloud sees its VM running and 112 is silent either way,
   * so no rule can tell it from a live master behind a cut.
   */
  private checkOneHolder(t: number): void {
    const quietSince = Math.max(...this.lastDisturb);
    if (t - quietSince <= this.bounds.oneHolderUs) return;
    const masters = this.allIds().filter((j) => this.node(j).alive && this.node(j).s.state === 'MASTER');
    // Frozen masters cannot act: with no running one, nobody can be asked to fix the holder.
    if (!masters.some((j) => !this.node(j).frozen)) return;
    this.counts['S1 one-holder']++;
    const h = this.world.holder;
    if (h === null || !masters.includes(h)) {
      this.soft('S1 one-holder', t, [
        `the whole group has been quiet since ${fmtMs(quietSince)}, longer than the one-holder window`,
        `${fmtMs(this.bounds.oneHolderUs)}, but the holder ${h === null ? 'is nobody' : `${this.cfg(h).name} (${this.stateOf(h)})`}`,
        `is none of the masters ${this.names(masters)}; states: ${this.states(this.allIds())}`,
      ]);
    }
  }

  /** S3: a dead holder is replaced by a live MASTER in time, unless something else happened. */
  private checkTakeovers(t: number): void {
    const keep: TakeoverCheck[] = [];
    for (const c of this.takeovers) {
      if (t <= c.due) {
        keep.push(c);
        continue;
      }
      if (Math.max(...this.lastDisturb) > c.since) continue;
      const masters = this.liveMasters();
      if (masters.length === 0) continue;
      this.counts['S3 dead-holder-takeover']++;
      const h = this.world.holder;
      if (h !== null && masters.includes(h)) continue;
      // Taken over by a live master, then moved on by another claim (an election elsewhere, a
      // duel loser's claim landing late): the dead holder was replaced; S1 and S4 judge the rest.
      if (c.takenOver && h !== c.dead) continue;
      this.soft('S3 dead-holder-takeover', t, [
        `${this.cfg(c.dead).name} died holding the address at ${fmtMs(c.since)}, and ${fmtMs(t - c.since)} later`,
        `the holder is ${h === null ? 'nobody' : `${this.cfg(h).name} (${this.stateOf(h)})`}, not a live MASTER (bound ${fmtMs(c.due - c.since)} = reconcile + 3·latency${this.scenario.holder.liveness === 'unknown' ? ' + hold-off + reconcile + latency' : ''}${c.hadMaster ? '' : ' + settle, no master then'}),`,
        `with ${this.names(masters)} MASTER and nothing else disturbed; liveness ${this.scenario.holder.liveness}; states: ${this.states(this.allIds())}`,
      ]);
    }
    this.takeovers = keep;
  }

  /** I4: a component joined by a heal and left alone has exactly one master after healUs. */
  private checkHeals(comps: number[][] | null, t: number): void {
    const keep: HealCheck[] = [];
    for (const h of this.heals) {
      if (t <= h.due) {
        keep.push(h);
        continue;
      }
      const comp = comps?.find((c) => c.join(',') === h.key);
      if (!comp || this.stableSince(comp) !== h.since) continue;
      this.counts['I4 heal-convergence']++;
      const masters = comp.filter((j) => this.node(j).s.state === 'MASTER');
      if (masters.length !== 1) {
        this.fail('I4 heal-convergence', t, [
          `{${this.names(comp)}} was joined at ${fmtMs(h.since)} and left alone, but ${fmtMs(this.bounds.healUs)} later`,
          `it has ${masters.length} masters; states: ${this.states(comp)}`,
        ]);
      }
    }
    this.heals = keep;
  }

  /** I7: after a master's priority-0 advert, some receiver is MASTER within Skew_Time + delay. */
  private checkFailovers(comps: number[][] | null, t: number): void {
    const keep: FailoverCheck[] = [];
    for (const f of this.failovers) {
      if (t <= f.due) {
        keep.push(f);
        continue;
      }
      if (f.void) continue;
      const comp = comps?.find((c) => c.join(',') === f.key);
      if (!comp || this.stableSince(comp) > f.since) continue;
      this.counts['I7 fast-failover']++;
      if (!comp.some((j) => this.node(j).s.state === 'MASTER')) {
        this.fail('I7 fast-failover', t, [
          `${this.cfg(f.from).name} sent priority 0 at ${fmtMs(f.since)}; within Skew_Time + delay`,
          `(${fmtMs(this.bounds.fastFailoverUs)}) one of {${this.names(comp)}} must be MASTER; states: ${this.states(comp)}`,
        ]);
      }
    }
    this.failovers = keep;
  }

  // -------------------------------------------------------------------------------------------
  // Components

  /**
   * Live nodes (running, not frozen, BACKUP or MASTER) grouped by two-way reachability, or null
   * when that is not an equivalence (a one-way cut, or A-B and B-C without A-C): then "the"
   * component is not defined and only the per-step rules apply.
   */
  components(): number[][] | null {
    if (this.compsValid) return this.comps;
    this.compsValid = true;
    const live = this.world.nodes
      .filter((v) => v.alive && !v.frozen && (v.s.state === 'BACKUP' || v.s.state === 'MASTER'))
      .map((v) => v.cfg.id);
    const comps: number[][] = [];
    const seen = new Set<number>();
    for (const a of live) {
      for (const b of live) {
        if (a !== b && this.world.canReach(a, b) !== this.world.canReach(b, a)) {
          this.comps = null;
          return null;
        }
      }
    }
    for (const a of live) {
      if (seen.has(a)) continue;
      const comp = live.filter((b) => b === a || this.mutual(a, b));
      // Each member must be linked to exactly the other members: a clique with no links out.
      for (const b of comp) {
        for (const c of live) {
          if (b !== c && comp.includes(c) !== this.mutual(b, c)) {
            this.comps = null;
            return null;
          }
        }
        seen.add(b);
      }
      comps.push(comp);
    }
    this.comps = comps;
    return comps;
  }

  stableSince(comp: readonly number[]): number {
    let s = 0;
    for (const j of comp) s = Math.max(s, this.lastDisturb[j] ?? 0);
    return s;
  }

  private mutual(a: number, b: number): boolean {
    return this.world.canReach(a, b) && this.world.canReach(b, a);
  }

  // -------------------------------------------------------------------------------------------
  // Helpers

  private expectedEff(x: number): number {
    const p = this.cfg(x).priority;
    if (p === 255) return 255;
    return Math.min(254, Math.max(1, p + (this.expDelta[x] ?? 0)));
  }

  private liveMasters(): number[] {
    return this.allIds().filter((j) => {
      const v = this.node(j);
      return v.alive && !v.frozen && v.s.state === 'MASTER';
    });
  }

  /** The cut links, for S1 reports. */
  private links(): string {
    const cut: string[] = [];
    for (const a of this.allIds())
      for (const b of this.allIds())
        if (a !== b && !this.world.canReach(a, b)) cut.push(`${this.cfg(a).name}->${this.cfg(b).name}`);
    return cut.length ? `cut ${cut.join(', ')}` : 'all up';
  }

  private allIds(): number[] {
    return this.world.nodes.map((v) => v.cfg.id);
  }

  private stateOf(j: number): string {
    const v = this.node(j);
    return v.alive ? `${v.frozen ? 'frozen ' : ''}${v.s.state}` : 'dead';
  }

  private node(x: number): NodeView {
    const v = this.world.nodes[x];
    if (!v) throw new Error(`simulator: no node ${x}`);
    return v;
  }

  private cfg(x: number): SimNodeConfig {
    return this.node(x).cfg;
  }

  private nameOfIp(ip: string): string {
    return this.scenario.nodes.find((c) => c.ip === ip)?.name ?? ip;
  }

  private names(ids: readonly number[]): string {
    return ids.map((j) => this.cfg(j).name).join(',');
  }

  private states(ids: readonly number[]): string {
    return ids
      .map((j) => {
        const v = this.node(j);
        return `${v.cfg.name}=${v.alive ? `${v.frozen ? 'FROZEN/' : ''}${v.s.state}/${v.s.effectivePriority}` : 'DOWN'}`;
      })
      .join(' ');
  }

  /**
   * The holder-policy invariants can be tolerated (SimOptions.tolerate): the first violation of
   * each is recorded in `tolerated` and the run goes on, so a known flaw of the policy does not
   * hide what the VRRP invariants say about the rest of the run.
   */
  private soft(invariant: InvariantName, t: number, lines: string[]): void {
    if (!this.tolerate.has(invariant)) this.fail(invariant, t, lines);
    if (!this.tolerated.some((v) => v.invariant === invariant)) {
      this.tolerated.push({ invariant, atUs: t, message: lines.join(' ') });
    }
  }

  private fail(invariant: InvariantName, t: number, lines: string[]): never {
    throw new ViolationError({ invariant, atUs: t, message: lines.join(' ') });
  }
}

function ordinal(n: number): string {
  return n === 1 ? '1st' : n === 2 ? '2nd' : n === 3 ? '3rd' : `${n}th`;
}

/**
 * How many backstop moves one fenced master can make within `windowUs` (holder policy rule 5): the
 * first at once (it may have been fenced long before), then one per wait of H, 2H, 4H… capped.
 */
export function backstopMovesWithin(windowUs: number, holdOffUs: number): number {
  if (holdOffUs <= 0) return Infinity;
  let moves = 1;
  let elapsed = 0;
  for (let k = 0; ; k++) {
    elapsed += holdOffUs * 2 ** Math.min(k, MAX_BACKSTOP_DOUBLINGS);
    if (elapsed > windowUs) return moves;
    moves++;
  }
}
