/**
 * Runs one scenario: N instances of the real VRRP reducer (src/vrrp/instance.ts) on a virtual
 * clock in integer µs, connected by the simulated network, with the invariant checker looking at
 * every step. The simulator is only a driver: it feeds events to `step` and carries out the
 * effects exactly as the daemon's InstanceRunner does (timers replace by name, a fired timer is
 * disarmed, adverts go to every peer), so the election logic under test is the shipped one.
 *
 * Each node also runs the real holder policy (src/notify/holder-policy.ts), fed from its VRRP
 * transitions and the adverts it accepts while MASTER; its actions become cloud API calls with
 * latency against the simulated cloud (see `api`).
 *
 * `step` and `policyStep` can be swapped for decorated ones (test/sim/mutation.test.ts) to prove
 * the invariants catch real defects.
 */
import {
  createInstance,
  step as realStep,
  type Effect,
  type InstanceEvent,
  type InstanceParams,
  type InstanceState,
  type TimerName,
} from '../vrrp/instance.js';
import {
  createHolderPolicy,
  stepHolderPolicy,
  type HolderPolicyParams,
  type HolderPolicyState,
  type PolicyAction,
  type PolicyEvent,
} from '../notify/holder-policy.js';
import { CloudHolder } from './cloud.js';
import {
  Checker,
  ViolationError,
  type CheckCounts,
  type InvariantName,
  type NodeView,
  type Violation,
  type WorldView,
} from './invariants.js';
import { Network } from './network.js';
import { Prng } from './prng.js';
import { EventQueue } from './queue.js';
import {
  scenarioBounds,
  type Bounds,
  type Scenario,
  type SimAction,
  type SimNodeConfig,
} from './scenario.js';
import { TraceLog, type TraceLine } from './trace.js';

export type StepFn = typeof realStep;
export type PolicyStepFn = typeof stepHolderPolicy;

export interface SimOptions {
  /** The reducer to drive; defaults to the real `step`. */
  step?: StepFn;
  /** Keep the whole trace (replay with --trace) instead of the last `traceTail` lines. */
  traceAll?: boolean;
  /** Lines kept for a failure report; default 60. */
  traceTail?: number;
  /** The holder policy to drive; defaults to the real `stepHolderPolicy`. */
  policyStep?: PolicyStepFn;
  /**
   * Holder-policy invariants (S1–S4 only) whose violations are recorded in
   * `SimResult.tolerated` instead of ending the run: for sweeping while a known policy flaw is open.
   */
  tolerate?: readonly InvariantName[];
  /** Guard against a defective reducer that never lets time advance; default 2,000,000. */
  maxEvents?: number;
}

export interface SimResult {
  scenario: Scenario;
  bounds: Bounds;
  violation: Violation | null;
  /** First violation of each tolerated invariant (SimOptions.tolerate), in order. */
  tolerated: Violation[];
  /** Events processed. */
  events: number;
  /** Virtual time reached, µs. */
  endUs: number;
  trace: TraceLine[];
  /** Final states, e.g. "n1=MASTER/100". */
  finalStates: string[];
  holder: string | null;
  /** How often each invariant was evaluated in this run. */
  checks: CheckCounts;
}

interface Advert {
  src: string;
  priority: number;
  intervalCs: number;
}

type SimEvent =
  | { k: 'action'; a: SimAction }
  | { k: 'deliver'; to: number; from: number; advert: Advert; late: boolean }
  | { k: 'timer'; node: number; timer: TimerName; token: number; inc: number }
  | { k: 'claim'; node: number; issuedAt: number }
  /** A release (node left MASTER) taking effect: frees the address only if `node` still holds it. */
  | { k: 'release'; node: number; issuedAt: number }
  /** The moment a holder read samples the cloud; the answer reaches the node at `doneAt`. */
  | { k: 'read-sample'; node: number; inc: number; tenure: number; doneAt: number }
  /** An API answer reaching the node's process (dropped if it died or its tenure ended). */
  | { k: 'api-done'; node: number; inc: number; tenure: number; e: PolicyEvent }
  | { k: 'policy-tick'; node: number; inc: number }
  | { k: 'end' };

interface Armed {
  at: number;
  token: number;
}

class SimNode implements NodeView {
  alive = false;
  frozen = false;
  /** Bumped on every (re)start and crash, so timers of an earlier process never fire. */
  inc = 0;
  s: InstanceState;
  readonly timers = new Map<TimerName, Armed>();
  timerToken = 0;
  /** Events that reached a frozen process: packets in its socket buffer, tracker results. */
  inbox: { e: InstanceEvent; from: string }[] = [];
  trackerDelta = 0;
  trackerFault = false;
  /** The holder policy of the current process. */
  p: HolderPolicyState;
  /**
   * Bumped on every MASTER entry and exit: the notify stage aborts a tenure's API calls when it
   * ends, so an answer from an earlier tenure never reaches the policy as if it were current.
   */
  tenure = 0;
  /** Policy events that reached a frozen process (API answers) and a tick that came due. */
  policyInbox: PolicyEvent[] = [];
  tickDue = false;

  constructor(
    readonly cfg: SimNodeConfig,
    readonly params: InstanceParams,
    readonly policyParams: HolderPolicyParams,
  ) {
    this.s = createInstance(params);
    this.p = createHolderPolicy(policyParams);
  }
}

export class Simulator implements WorldView {
  readonly nodes: SimNode[];
  readonly bounds: Bounds;
  private readonly net: Network;
  private readonly rng: Prng;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly cloud = new CloudHolder();
  private readonly checker: Checker;
  private readonly trace: TraceLog;
  private readonly stepFn: StepFn;
  private readonly policyStepFn: PolicyStepFn;
  /** hit-holder tag → the node it hit, for the matching end-hit. */
  private readonly hits = new Map<number, { node: number; fault: 'crash' | 'freeze' }>();
  private readonly maxEvents: number;
  private now = 0;
  private events = 0;

  constructor(
    readonly scenario: Scenario,
    opts: SimOptions = {},
  ) {
    this.stepFn = opts.step ?? realStep;
    this.policyStepFn = opts.policyStep ?? stepHolderPolicy;
    this.maxEvents = opts.maxEvents ?? 2_000_000;
    this.trace = new TraceLog(opts.traceAll ? 0 : (opts.traceTail ?? 60));
    // The run's random stream is separate from the one that generated the scenario.
    this.rng = new Prng((scenario.seed * 2 + 1) % Number.MAX_SAFE_INTEGER);
    this.bounds = scenarioBounds(scenario);
    this.net = new Network(scenario.nodes.length, scenario.net);
    this.nodes = scenario.nodes.map(
      (cfg) =>
        new SimNode(
          cfg,
          {
            name: cfg.name,
            version: scenario.version,
            vrid: 51,
            priority: cfg.priority,
            advertIntervalCs: cfg.advertIntervalCs,
            preempt: cfg.preempt,
            preemptDelayUs: cfg.preemptDelayUs,
            downTimerAdverts: cfg.downTimerAdverts,
            primaryIp: cfg.ip,
          },
          {
            reconcileIntervalUs: scenario.holder.reconcileUs,
            holdOffUs: scenario.holder.holdOffUs,
          },
        ),
    );
    this.checker = new Checker(scenario, this.bounds, this, opts.tolerate);
  }

  get holder(): number | null {
    return this.cloud.holder;
  }

  canReach(from: number, to: number): boolean {
    return this.net.canReach(from, to);
  }

  run(): SimResult {
    for (const a of this.scenario.actions) this.queue.push(a.at, { k: 'action', a: a.action });
    this.queue.push(this.scenario.durationUs, { k: 'end' });
    let violation: Violation | null = null;
    try {
      for (;;) {
        const ev = this.queue.pop();
        if (ev === null) break;
        this.now = ev.t;
        this.checker.beforeEvent(ev.t);
        if (ev.item.k === 'end') break;
        if (++this.events > this.maxEvents) {
          throw new ViolationError({
            invariant: 'I0 event-budget',
            atUs: this.now,
            message: `more than ${this.maxEvents} events: the group is storming (timers at "now" or advert ping-pong)`,
          });
        }
        this.handle(ev.item);
      }
    } catch (err) {
      if (!(err instanceof ViolationError)) throw err;
      violation = err.violation;
      this.trace.add(this.now, `*** ${err.violation.invariant} VIOLATED: ${err.violation.message}`);
    }
    return {
      scenario: this.scenario,
      bounds: this.bounds,
      violation,
      tolerated: [...this.checker.tolerated],
      events: this.events,
      endUs: this.now,
      trace: this.trace.entries(),
      finalStates: this.nodes.map(
        (x) =>
          `${x.cfg.name}=${x.alive ? (x.frozen ? 'FROZEN/' : '') + x.s.state : 'DOWN'}/${x.s.effectivePriority}`,
      ),
      holder: this.cloud.holder === null ? null : (this.nodes[this.cloud.holder]?.cfg.name ?? null),
      checks: { ...this.checker.counts },
    };
  }

  // -------------------------------------------------------------------------------------------

  private handle(ev: SimEvent): void {
    switch (ev.k) {
      case 'action':
        this.act(ev.a);
        return;
      case 'deliver':
        this.deliver(ev);
        return;
      case 'timer': {
        const x = this.node(ev.node);
        if (!x.alive || ev.inc !== x.inc) return;
        const armed = x.timers.get(ev.timer);
        if (!armed || armed.token !== ev.token) return;
        // A frozen process cannot run its timer; it stays armed and fires late on resume.
        if (x.frozen) return;
        x.timers.delete(ev.timer);
        this.dispatch(x, { type: 'timer', timer: ev.timer }, `timer ${ev.timer} fires`);
        return;
      }
      case 'claim': {
        const before = this.cloud.holder;
        this.cloud.land({ node: ev.node, issuedAt: ev.issuedAt, landsAt: this.now });
        const x = this.node(ev.node);
        this.trace.add(
          this.now,
          `cloud: ${x.cfg.name}'s claim (issued ${ms(ev.issuedAt)}) lands${x.alive ? '' : ' (its node is dead)'}`,
        );
        this.checker.landed(before, ev.node, this.now);
        return;
      }
      case 'release': {
        const x = this.node(ev.node);
        const before = this.cloud.holder;
        const freed = this.cloud.release(ev.node);
        this.trace.add(
          this.now,
          `cloud: ${x.cfg.name}'s release (issued ${ms(ev.issuedAt)}) ${freed ? 'frees the address' : `is a no-op (holder ${before === null ? 'nobody' : this.node(before).cfg.name})`}`,
        );
        if (freed) this.checker.released(ev.node, this.now);
        return;
      }
      case 'read-sample': {
        const h = this.cloud.holder;
        const x = this.node(ev.node);
        const holder = h === null ? null : this.node(h).cfg.name;
        // The platform only reports liveness when asked, and only for another node.
        let alive: boolean | null = null;
        if (h !== null && h !== ev.node && this.scenario.holder.liveness === 'known') {
          alive = this.node(h).alive;
        }
        this.trace.add(
          this.now,
          `cloud: ${x.cfg.name}'s holder read sees ${holder ?? 'nobody'}${alive === null ? '' : alive ? ' (running)' : ' (not running)'}`,
        );
        this.queue.push(ev.doneAt, {
          k: 'api-done',
          node: ev.node,
          inc: ev.inc,
          tenure: ev.tenure,
          e: { type: 'holder-read', holder, self: x.cfg.name, alive },
        });
        return;
      }
      case 'api-done': {
        const x = this.node(ev.node);
        if (!x.alive || ev.inc !== x.inc) return;
        if (ev.tenure !== x.tenure) {
          this.trace.add(this.now, `${x.cfg.name} policy: ${ev.e.type} of an ended tenure dropped`);
          return;
        }
        if (x.frozen) x.policyInbox.push(ev.e);
        else this.policy(x, ev.e, policyWhat(ev.e));
        return;
      }
      case 'policy-tick': {
        const x = this.node(ev.node);
        if (!x.alive || ev.inc !== x.inc) return;
        if (x.frozen) x.tickDue = true;
        else this.policy(x, { type: 'tick' }, 'tick');
        return;
      }
      case 'end':
        return;
    }
  }

  private act(a: SimAction): void {
    switch (a.kind) {
      case 'start':
      case 'restart': {
        const x = this.node(a.node);
        if (x.alive) return;
        this.trace.add(this.now, `${x.cfg.name} ${a.kind.toUpperCase()}`);
        this.boot(x);
        return;
      }
      case 'crash':
      case 'stop': {
        const x = this.node(a.node);
        if (!x.alive) return;
        this.trace.add(
          this.now,
          `${x.cfg.name} ${a.kind === 'crash' ? 'CRASH (no priority 0)' : 'STOP (graceful)'}`,
        );
        this.disturbAround(x.cfg.id);
        // A frozen process cannot run its shutdown handler before it is killed.
        if (a.kind === 'stop' && !x.frozen) this.dispatch(x, { type: 'shutdown' }, 'shutdown');
        this.kill(x);
        return;
      }
      case 'freeze': {
        const x = this.node(a.node);
        if (!x.alive || x.frozen) return;
        this.trace.add(this.now, `${x.cfg.name} FREEZE (SIGSTOP) in ${x.s.state}`);
        this.disturbAround(x.cfg.id);
        x.frozen = true;
        this.checker.membershipChanged();
        return;
      }
      case 'resume':
        this.resume(this.node(a.node));
        return;
      case 'hit-holder': {
        const h = this.cloud.holder;
        const x = h === null ? null : this.node(h);
        if (!x || !x.alive || x.frozen) {
          this.trace.add(
            this.now,
            `hit-holder ${a.fault}: holder ${x ? `${x.cfg.name} already down` : 'is nobody'}, nothing to hit`,
          );
          return;
        }
        this.hits.set(a.tag, { node: x.cfg.id, fault: a.fault });
        this.trace.add(this.now, `hit-holder: the holder is ${x.cfg.name}`);
        this.act(
          a.fault === 'crash' ? { kind: 'crash', node: x.cfg.id } : { kind: 'freeze', node: x.cfg.id },
        );
        return;
      }
      case 'end-hit': {
        const hit = this.hits.get(a.tag);
        if (!hit) return;
        this.act(
          hit.fault === 'crash' ? { kind: 'restart', node: hit.node } : { kind: 'resume', node: hit.node },
        );
        return;
      }
      case 'weights': {
        const x = this.node(a.node);
        x.trackerDelta = a.delta;
        this.tracker(x, { type: 'weights', delta: a.delta }, `tracker weights := ${a.delta}`);
        return;
      }
      case 'fault': {
        const x = this.node(a.node);
        x.trackerFault = a.active;
        this.tracker(
          x,
          { type: 'fault', active: a.active, reason: 'sim' },
          `fault ${a.active ? 'raised' : 'cleared'}`,
        );
        return;
      }
      case 'partition':
      case 'heal': {
        const n = this.nodes.length;
        const wasMutual = (i: number, j: number): boolean =>
          this.net.canReach(i, j) && this.net.canReach(j, i);
        const before = this.nodes.map((_, i) => this.nodes.map((__, j) => wasMutual(i, j)));
        const changed = a.kind === 'heal' ? this.net.heal() : this.net.setReach(a.reach);
        this.trace.add(this.now, a.kind === 'heal' ? 'network: HEAL' : `network: PARTITION ${a.label}`);
        this.checker.disturb(changed, this.now);
        const healed: [number, number][] = [];
        for (let i = 0; i < n; i++) {
          for (let j = i + 1; j < n; j++) {
            if (!(before[i]?.[j] ?? false) && wasMutual(i, j)) healed.push([i, j]);
          }
        }
        if (healed.length > 0) this.checker.linksHealed(healed, this.now);
        return;
      }
      case 'loss':
        this.net.lossProb = a.prob;
        this.trace.add(this.now, `network: loss ${Math.round(a.prob * 100)}%`);
        return;
      case 'reorder':
        this.net.reorderProb = a.prob;
        this.net.reorderMaxExtraUs = a.maxExtraUs;
        this.trace.add(this.now, `network: reorder ${Math.round(a.prob * 100)}% up to +${ms(a.maxExtraUs)}`);
        return;
    }
  }

  /** Tracker results reach a running process at once, a frozen one on resume, a dead one never. */
  private tracker(x: SimNode, e: InstanceEvent, what: string): void {
    this.trace.add(this.now, `${x.cfg.name} ${what}`);
    if (!x.alive) return;
    this.disturbAround(x.cfg.id);
    if (x.frozen) x.inbox.push({ e, from: 'tracker' });
    else this.dispatch(x, e, what);
  }

  private boot(x: SimNode): void {
    this.disturbAround(x.cfg.id);
    x.inc++;
    x.s = createInstance(x.params);
    x.timers.clear();
    x.inbox = [];
    x.alive = true;
    x.frozen = false;
    x.p = createHolderPolicy(x.policyParams);
    x.tenure++;
    x.policyInbox = [];
    x.tickDue = false;
    this.checker.restarted(x.cfg.id);
    // Trackers are evaluated before the instance starts, as keepalived does at start-up.
    if (x.trackerDelta !== 0) this.dispatch(x, { type: 'weights', delta: x.trackerDelta }, 'initial weights');
    if (x.trackerFault) this.dispatch(x, { type: 'fault', active: true, reason: 'sim' }, 'initial fault');
    this.dispatch(x, { type: 'start' }, 'start');
  }

  private kill(x: SimNode): void {
    x.alive = false;
    x.frozen = false;
    x.inc++;
    x.timers.clear();
    x.inbox = [];
    x.policyInbox = [];
    x.tickDue = false;
    this.checker.killed(x.cfg.id, this.cloud.holder === x.cfg.id, this.now);
  }

  /**
   * SIGCONT: the timers that came due while stopped fire now, late and all at once, and the
   * packets queued in the socket buffer are read at once, in the order the scenario picked.
   */
  private resume(x: SimNode): void {
    if (!x.alive || !x.frozen) return;
    this.trace.add(
      this.now,
      `${x.cfg.name} RESUME (SIGCONT): ${x.inbox.length} queued events, ${this.scenario.resumeOrder}`,
    );
    this.disturbAround(x.cfg.id);
    x.frozen = false;
    this.checker.membershipChanged();
    const fireTimers = (): void => {
      const due = [...x.timers.entries()]
        .filter(([, a]) => a.at <= this.now)
        .sort((p, q) => p[1].at - q[1].at);
      for (const [name, armed] of due) {
        const still = x.timers.get(name);
        if (!still || still.token !== armed.token || !x.alive || x.frozen) continue;
        x.timers.delete(name);
        this.dispatch(x, { type: 'timer', timer: name }, `timer ${name} fires late (due ${ms(armed.at)})`);
      }
    };
    const drain = (): void => {
      const queued = x.inbox;
      x.inbox = [];
      for (const q of queued) {
        if (!x.alive) return;
        this.dispatch(x, q.e, `${describe(q.e)} (queued, from ${q.from})`);
      }
    };
    if (this.scenario.resumeOrder === 'timers-first') {
      fireTimers();
      drain();
    } else {
      drain();
      fireTimers();
    }
    // Then the policy: API answers that waited in the socket, and a reconcile tick that came due.
    const answers = x.policyInbox;
    x.policyInbox = [];
    for (const e of answers) {
      if (!x.alive || x.frozen) break;
      this.policy(x, e, `${policyWhat(e)} (queued)`);
    }
    if (x.tickDue && x.alive && !x.frozen) {
      x.tickDue = false;
      this.policy(x, { type: 'tick' }, 'tick (late)');
    }
  }

  private deliver(ev: Extract<SimEvent, { k: 'deliver' }>): void {
    const x = this.node(ev.to);
    const from = this.node(ev.from).cfg.name;
    // A packet held back by a reorder burst is a disturbance when it finally lands.
    if (ev.late) this.checker.disturb([ev.to, ev.from], this.now);
    if (!x.alive) return;
    const e: InstanceEvent = { type: 'advert', ...ev.advert };
    if (x.frozen) {
      x.inbox.push({ e, from });
      return;
    }
    this.dispatch(x, e, `${describe(e)} from ${from}${ev.late ? ' (late)' : ''}`);
  }

  private dispatch(x: SimNode, e: InstanceEvent, what: string): void {
    const before = x.s;
    const { state, effects } = this.stepFn(before, e, this.now);
    x.s = state;
    this.trace.add(this.now, `${x.cfg.name} [${before.state}] ${what}`);
    for (const fx of effects) this.apply(x, fx);
    this.checker.afterStep(x.cfg.id, e, before, state, effects, this.now);
    // An advert a MASTER processed and stayed MASTER: protocol 112 from a peer works.
    if (e.type === 'advert' && before.state === 'MASTER' && x.s.state === 'MASTER' && x.alive) {
      this.policy(x, { type: 'peer-advert' }, 'peer-advert');
    }
  }

  /** Feeds one event to the node's holder policy and carries out its actions. */
  private policy(x: SimNode, e: PolicyEvent, what: string): void {
    const before = x.p;
    const { state, actions } = this.policyStepFn(before, e, this.now);
    x.p = state;
    if (actions.length > 0 || state.phase !== before.phase) {
      this.trace.add(
        this.now,
        `${x.cfg.name} policy [${before.phase}] ${what}${state.phase !== before.phase ? ` -> ${state.phase}` : ''}`,
      );
    }
    for (const a of actions) this.policyAction(x, a);
  }

  private policyAction(x: SimNode, a: PolicyAction): void {
    switch (a.type) {
      case 'acquire': {
        this.trace.add(
          this.now,
          `${x.cfg.name} policy: acquire (${a.reason}${a.previousHolder ? `, from ${a.previousHolder}` : ''})`,
        );
        this.checker.acquireIssued(x.cfg.id, a.reason, this.now);
        const { total, effectAt } = this.apiTiming();
        this.queue.push(effectAt, { k: 'claim', node: x.cfg.id, issuedAt: this.now });
        this.queue.push(total, {
          k: 'api-done',
          node: x.cfg.id,
          inc: x.inc,
          tenure: x.tenure,
          e: { type: 'acquire-done', ok: true },
        });
        return;
      }
      case 'read-holder': {
        const { total, effectAt } = this.apiTiming();
        this.queue.push(effectAt, {
          k: 'read-sample',
          node: x.cfg.id,
          inc: x.inc,
          tenure: x.tenure,
          doneAt: total,
        });
        return;
      }
      case 'schedule':
        this.queue.push(Math.max(a.at, this.now), { k: 'policy-tick', node: x.cfg.id, inc: x.inc });
        return;
      case 'fenced':
        this.trace.add(
          this.now,
          `${x.cfg.name} policy: FENCED by ${a.holder} (own move ${ms(a.sinceOwnMoveUs)} ago; backstop in ${ms(a.backstopWaitUs)})`,
        );
        return;
      case 'unfenced':
        this.trace.add(this.now, `${x.cfg.name} policy: unfenced (${a.reason})`);
        return;
    }
  }

  /**
   * The notify stage's release() on leaving MASTER: an API call like a claim, which takes effect
   * even if the node dies meanwhile, and frees the address only if this node holds it then.
   */
  private release(x: SimNode): void {
    this.trace.add(this.now, `${x.cfg.name} release (left MASTER)`);
    const { effectAt } = this.apiTiming();
    this.queue.push(effectAt, { k: 'release', node: x.cfg.id, issuedAt: this.now });
  }

  /**
   * One API call's timing: it completes after a latency from the scenario's range, and its effect
   * on the cloud (a claim landing, the holder being sampled) happens at a point inside that span.
   */
  private apiTiming(): { total: number; effectAt: number } {
    const { latencyMinUs, latencyMaxUs } = this.scenario.holder;
    const lat = this.rng.int(latencyMinUs, latencyMaxUs);
    return { total: this.now + lat, effectAt: this.now + this.rng.int(0, lat) };
  }

  private apply(x: SimNode, fx: Effect): void {
    switch (fx.type) {
      case 'send-advert':
        this.send(x, fx.priority, fx.intervalCs);
        return;
      case 'set-timer': {
        const token = ++x.timerToken;
        x.timers.set(fx.timer, { at: fx.at, token });
        this.queue.push(fx.at, { k: 'timer', node: x.cfg.id, timer: fx.timer, token, inc: x.inc });
        return;
      }
      case 'clear-timer':
        x.timers.delete(fx.timer);
        return;
      case 'priority-changed':
        this.trace.add(this.now, `${x.cfg.name} priority ${fx.from} -> ${fx.to}`);
        return;
      case 'transition':
        this.trace.add(
          this.now,
          `${x.cfg.name} ${fx.from} -> ${fx.to} (${fx.reason}, prio ${fx.effectivePriority}${fx.peer ? `, peer ${fx.peer}` : ''})`,
        );
        if (fx.to === 'MASTER') {
          x.tenure++;
          this.policy(x, { type: 'became-master' }, 'became-master');
        } else if (fx.from === 'MASTER') {
          x.tenure++;
          this.policy(x, { type: 'left-master' }, 'left-master');
          if (this.scenario.holder.releaseOnLeave) this.release(x);
        }
        return;
    }
  }

  private send(x: SimNode, priority: number, intervalCs: number): void {
    const advert: Advert = { src: x.cfg.ip, priority, intervalCs };
    const notes: string[] = [];
    for (let j = 0; j < this.nodes.length; j++) {
      if (!this.net.canReach(x.cfg.id, j)) continue;
      const fate = this.net.fate(this.rng, x.cfg.id, j, this.now);
      if (fate.lost) {
        notes.push(`lost to ${this.node(j).cfg.name}`);
        this.checker.packetMissed(x.cfg.id, j, this.now);
        continue;
      }
      for (const c of fate.copies) {
        this.queue.push(this.now + c.delayUs, { k: 'deliver', to: j, from: x.cfg.id, advert, late: c.late });
      }
      if (fate.copies.length > 1) notes.push(`duplicated to ${this.node(j).cfg.name}`);
      if (fate.copies.some((c) => c.late)) {
        // Held back is lost until it lands: a disturbance now, and again when it arrives.
        notes.push(`held back to ${this.node(j).cfg.name}`);
        this.checker.packetMissed(x.cfg.id, j, this.now);
      }
    }
    this.trace.add(
      this.now,
      `${x.cfg.name} sends advert prio ${priority} int ${intervalCs}cs${notes.length ? ` (${notes.join(', ')})` : ''}`,
    );
  }

  /** A fault at x can change what x and everyone linked to it (either way) sees. */
  private disturbAround(x: number): void {
    const affected = [x];
    for (let j = 0; j < this.nodes.length; j++) {
      if (j !== x && (this.net.canReach(x, j) || this.net.canReach(j, x))) affected.push(j);
    }
    this.checker.disturb(affected, this.now);
  }

  private node(i: number): SimNode {
    const x = this.nodes[i];
    if (!x) throw new Error(`simulator: no node ${i}`);
    return x;
  }
}

function ms(us: number): string {
  return `${(us / 1000).toFixed(3)}ms`;
}

function policyWhat(e: PolicyEvent): string {
  switch (e.type) {
    case 'acquire-done':
      return `acquire done (${e.ok ? 'ok' : 'failed'})`;
    case 'holder-read':
      return `holder read: ${e.holder ?? 'nobody'}${e.alive === null ? '' : e.alive ? ' running' : ' not running'}`;
    default:
      return e.type;
  }
}

function describe(e: InstanceEvent): string {
  switch (e.type) {
    case 'advert':
      return `advert prio ${e.priority} int ${e.intervalCs}cs`;
    case 'timer':
      return `timer ${e.timer}`;
    case 'weights':
      return `weights ${e.delta}`;
    case 'fault':
      return `fault ${e.active ? 'raised' : 'cleared'}`;
    default:
      return e.type;
  }
}
