/**
 * A scenario is everything one seed decides: the group's configuration, the network's steady
 * conditions, the cloud's API latency and the timeline of faults. It is plain data, so a failing
 * scenario can be printed, and the simulator never draws configuration from the PRNG itself.
 */
import { MAX_BACKSTOP_DOUBLINGS } from '../notify/holder-policy.js';
import { masterDownIntervalUs, skewTimeUs, US_PER_CS } from '../vrrp/timing.js';
import { Prng } from './prng.js';

const MS = 1000;
const SEC = 1_000_000;

export interface SimNodeConfig {
  /** Index in Scenario.nodes. */
  id: number;
  name: string;
  /** Advert source / tie-break address. */
  ip: string;
  /** Position of `ip` in numeric address order (0 = lowest): the tie-break without parsing. */
  ipRank: number;
  priority: number;
  advertIntervalCs: number;
  preempt: boolean;
  preemptDelayUs: number;
  downTimerAdverts: number;
}

/** Conditions that hold for the whole run; loss and reordering only come in bursts (SimAction). */
export interface NetConditions {
  baseDelayUs: number;
  /** Extra delay drawn uniformly from [0, jitterUs] per packet. */
  jitterUs: number;
  /** Probability that a packet is delivered twice (each copy with its own delay). */
  dupProb: number;
}

export interface HolderConfig {
  /**
   * Every cloud API call (acquire, holder read) completes after a latency drawn from this range;
   * its effect (the claim landing, the holder being sampled) happens somewhere inside that span.
   */
  latencyMinUs: number;
  latencyMaxUs: number;
  /** The holder policy's reconcile interval: a MASTER reads the holder back this often. */
  reconcileUs: number;
  /** The holder policy's hold-off window H. */
  holdOffUs: number;
  /**
   * 'known': the platform reports whether another holder's VM runs (crashed → not alive, frozen →
   * alive, as a cloud sees a stopped process on a running VM); 'unknown': it never can (`null`).
   */
  liveness: 'known' | 'unknown';
  /**
   * The provider gives the address back when a node leaves MASTER (the daemon's release(), on by
   * default for AWS eip / secondary-ip): race-safe, it only frees the address if this node still
   * holds it when the call takes effect. Ends an election duel at once (the winner reads nobody).
   */
  releaseOnLeave: boolean;
}

export type SimAction =
  | { kind: 'start'; node: number }
  /** Process killed: no priority-0 advert, timers and socket buffer lost. */
  | { kind: 'crash'; node: number }
  /** Graceful stop: the reducer's `shutdown` (a MASTER sends priority 0), then the process exits. */
  | { kind: 'stop'; node: number }
  | { kind: 'restart'; node: number }
  /** SIGSTOP: timers and received packets wait until `resume`. */
  | { kind: 'freeze'; node: number }
  | { kind: 'resume'; node: number }
  /** A tracker's new total weight (keepalived's Σ weights). */
  | { kind: 'weights'; node: number; delta: number }
  | { kind: 'fault'; node: number; active: boolean }
  /** reach[a][b]: a's packets reach b. Symmetric or not. */
  | { kind: 'partition'; reach: boolean[][]; label: string }
  | { kind: 'heal' }
  | { kind: 'loss'; prob: number }
  /** With probability prob a packet gets up to maxExtraUs extra delay, so later ones overtake it. */
  | { kind: 'reorder'; prob: number; maxExtraUs: number }
  /**
   * Crash or freeze whichever node holds the address when this fires (resolved at run time, so
   * the scenario stays plain data); `end-hit` with the same tag restarts or resumes that node.
   */
  | { kind: 'hit-holder'; fault: 'crash' | 'freeze'; tag: number }
  | { kind: 'end-hit'; tag: number };

export interface TimedAction {
  at: number;
  action: SimAction;
}

export interface Scenario {
  seed: number;
  /**
   * 'random': overlapping faults of every kind. 'split': the case the holder policy exists for,
   * protocol 112 cut while the cloud API stays reachable, the holder crashed or frozen during the
   * cut, then a heal.
   */
  shape: 'random' | 'split';
  version: 2 | 3;
  family: 'ipv4' | 'ipv6';
  nodes: SimNodeConfig[];
  net: NetConditions;
  holder: HolderConfig;
  /** After SIGCONT, which the frozen node handles first: its overdue timers or its queued packets. */
  resumeOrder: 'timers-first' | 'packets-first';
  durationUs: number;
  /** Sorted by time; equal times keep list order. */
  actions: TimedAction[];
}

/** The time bounds the invariants use, all derived from the scenario (see test/sim/README.md). */
export interface Bounds {
  /** Largest advert interval of any node: a backup may have adopted any of them (v3). */
  advMaxUs: number;
  /** Master_Down at the lowest priority (largest skew) and the largest interval. */
  masterDownMaxUs: number;
  skewMaxUs: number;
  /** One-way delay bound outside reorder bursts. */
  delayMaxUs: number;
  /** Longest preempt_delay of any node that preempts (0 when none). */
  preemptDelayMaxUs: number;
  /** I1/I3: how long a component must be undisturbed before its election must have settled. */
  settleUs: number;
  /** I4: how long after a heal the merged component must have exactly one master. */
  healUs: number;
  /** S1: a quiet group's holder is one of the masters after settle + 2·H + reconcile + 3·latency. */
  oneHolderUs: number;
  /**
   * S3: a dead holder is replaced by a live MASTER within reconcile + 3·latency with liveness
   * known; with it unknown only the backstop moves a fenced master: + H + reconcile + latency.
   */
  deadTakeoverUs: number;
  /**
   * S4: a quiet, connected group's master holds within settle + 2·reconcile + 4·latency when the
   * provider releases on leaving MASTER, + H (the fenced winner's backstop) when it does not.
   */
  healHolderUs: number;
  /** The longest backstop wait of a fenced master (holder policy rule 5). */
  backstopMaxUs: number;
  /** I7: how long after a priority-0 advert some receiver must be MASTER. */
  fastFailoverUs: number;
}

export function scenarioBounds(s: Scenario): Bounds {
  const advMaxCs = Math.max(...s.nodes.map((n) => n.advertIntervalCs));
  const dtaMax = Math.max(...s.nodes.map((n) => n.downTimerAdverts));
  const advMaxUs = advMaxCs * US_PER_CS;
  const masterDownMaxUs = masterDownIntervalUs(s.version, 1, advMaxCs, dtaMax);
  const skewMaxUs = skewTimeUs(s.version, 1, advMaxCs);
  const delayMaxUs = s.net.baseDelayUs + s.net.jitterUs;
  const preemptDelayMaxUs = Math.max(0, ...s.nodes.map((n) => (n.preempt ? n.preemptDelayUs : 0)));
  // With preempt_delay the countdown starts at the first lower advert, which may only come once a
  // lower node has itself waited Master_Down: a second Master_Down, then the delay.
  const delayed = preemptDelayMaxUs > 0 ? masterDownMaxUs + preemptDelayMaxUs : 0;
  const settleUs = masterDownMaxUs + 2 * advMaxUs + 2 * delayMaxUs + delayed;
  const healUs = masterDownMaxUs + advMaxUs + 2 * delayMaxUs + delayed;
  const { latencyMaxUs: lat, reconcileUs: rec, holdOffUs: hold } = s.holder;
  // The backstop waits H, or up to H·2^MAX_BACKSTOP_DOUBLINGS when earlier backstop moves of the
  // same node were undone (holder policy rule 5: churn during a cut before this fault).
  const backstopMaxUs = hold * 2 ** MAX_BACKSTOP_DOUBLINGS;
  // Fenced for up to the longest backstop wait, after an own move up to H old; 3·latency: a holder
  // read already in flight (sampled before the fault), the read that sees the change, and the
  // acquire it triggers.
  const oneHolderUs = settleUs + hold + backstopMaxUs + rec + 3 * lat;
  // Every read of another holder asks for liveness, so a dead holder is taken over on the first
  // read after the death. Without liveness the reading master fences and waits for its backstop,
  // then the next read (one more reconcile and latency).
  const deadTakeoverUs = rec + 3 * lat + (s.holder.liveness === 'unknown' ? backstopMaxUs + rec + lat : 0);
  // A duel's winner fenced by the loser's later claim: with release-on-leave the loser frees the
  // address as it goes BACKUP and the winner reads nobody (re-read one reconcile later if that is
  // within a reconcile of its own move); without it, the backstop fires (H, up to 4·H) after the fence.
  const healHolderUs = settleUs + 2 * rec + 4 * lat + (s.holder.releaseOnLeave ? 0 : backstopMaxUs);
  const fastFailoverUs = skewMaxUs + delayMaxUs;
  return {
    backstopMaxUs,
    advMaxUs,
    masterDownMaxUs,
    skewMaxUs,
    delayMaxUs,
    preemptDelayMaxUs,
    settleUs,
    healUs,
    oneHolderUs,
    deadTakeoverUs,
    healHolderUs,
    fastFailoverUs,
  };
}

/**
 * One seed → one scenario. The choices lean towards the cases that break elections: equal
 * priorities (tie-break by address), simultaneous start, short intervals, nopreempt and
 * preempt_delay, and faults that overlap.
 */
export function generateScenario(seed: number): Scenario {
  const rng = new Prng(seed);
  const n = rng.int(2, 5);
  const version: 2 | 3 = rng.chance(0.5) ? 3 : 2;
  const family = version === 3 && rng.chance(0.25) ? 'ipv6' : 'ipv4';

  // Addresses in ascending numeric order, then dealt to nodes in random order so that node index
  // and tie-break rank are unrelated.
  const ips = Array.from({ length: n }, (_, i) =>
    family === 'ipv4'
      ? `10.99.0.${[9, 10, 11, 100, 200][i] ?? 250}`
      : `fd00:99::${[9, 10, 11, 100, 200][i] ?? 250}`,
  );
  const ranks = rng.shuffle(ips.map((_, i) => i));

  // v2 drops adverts whose interval differs from its own, so a v2 group shares one interval;
  // v3 learns the master's interval, so nodes may differ.
  const sharedCs = version === 2 ? rng.pick([100, 100, 100, 200]) : rng.pick([25, 50, 100, 100, 150]);
  const perNodeIntervals = version === 3 && rng.chance(0.35);
  const prioMode = rng.pick(['equal', 'equal', 'random', 'random', 'random', 'owner'] as const);
  const equalPrio = rng.pick([100, 150]);
  const dtaVaried = rng.chance(0.15);

  const nodes: SimNodeConfig[] = [];
  for (let id = 0; id < n; id++) {
    const rank = ranks[id] ?? 0;
    let priority = prioMode === 'equal' ? equalPrio : rng.pick([50, 100, 100, 150, 200, rng.int(1, 254)]);
    if (prioMode === 'owner' && id === 0) priority = 255;
    // keepalived treats the address owner as always preempting.
    const preempt = priority === 255 || rng.chance(0.75);
    const preemptDelayUs = preempt && rng.chance(0.25) ? rng.int(2, 40) * 100 * MS : 0;
    nodes.push({
      id,
      name: `n${id + 1}`,
      ip: ips[rank] ?? '',
      ipRank: rank,
      priority,
      advertIntervalCs: perNodeIntervals ? rng.pick([25, 50, 100, 150, 200]) : sharedCs,
      preempt,
      preemptDelayUs,
      // Below 2 a single late advert could legitimately trigger a takeover in a quiet period.
      downTimerAdverts: dtaVaried ? rng.int(2, 5) : 3,
    });
  }

  const net: NetConditions = {
    baseDelayUs: rng.int(20, 2000),
    jitterUs: rng.int(0, 1000),
    dupProb: rng.chance(0.3) ? 0.05 : 0,
  };
  const latencyMinUs = rng.int(0, 300) * MS;
  const holder: HolderConfig = {
    latencyMinUs,
    latencyMaxUs: latencyMinUs + rng.int(0, 1200) * MS,
    reconcileUs: rng.int(10, 30) * 100 * MS,
    holdOffUs: rng.int(5, 15) * SEC,
    liveness: rng.chance(0.8) ? 'known' : 'unknown',
    // From a stream of its own, so adding this knob left every other choice of a seed unchanged.
    releaseOnLeave: new Prng((seed * 3 + 7) % Number.MAX_SAFE_INTEGER).chance(0.8),
  };
  const shape = rng.chance(0.4) ? 'split' : 'random';
  const scenario: Scenario = {
    seed,
    shape,
    version,
    family,
    nodes,
    net,
    holder,
    resumeOrder: rng.chance(0.5) ? 'timers-first' : 'packets-first',
    durationUs: 0,
    actions: [],
  };
  scenario.actions = shape === 'split' ? splitTimeline(rng, scenario) : timeline(rng, scenario);
  const last = scenario.actions.reduce((m, a) => Math.max(m, a.at), 0);
  // Every run ends with a quiet tail long enough for every invariant to be checked at least once.
  const b = scenarioBounds(scenario);
  scenario.durationUs = last + Math.max(b.oneHolderUs, b.healHolderUs) + 2 * SEC;
  return scenario;
}

function timeline(rng: Prng, s: Scenario): TimedAction[] {
  const n = s.nodes.length;
  const out: TimedAction[] = [];
  const add = (at: number, action: SimAction): void => {
    out.push({ at, action });
  };

  const together = rng.chance(0.35);
  for (let i = 0; i < n; i++) add(together ? 0 : rng.int(0, 3000) * MS, { kind: 'start', node: i });

  const end = rng.int(8, 30) * SEC;
  const count = rng.int(0, 6);
  // One partition and one network burst at a time, one life-cycle fault per node at a time, so
  // every fault has a well-defined end; different kinds may overlap.
  const partitionBusy: [number, number][] = [];
  const burstBusy: [number, number][] = [];
  const nodeBusy: [number, number][][] = s.nodes.map(() => []);
  const free = (busy: [number, number][], a: number, b: number): boolean =>
    busy.every(([x, y]) => b < x || a > y);

  for (let k = 0; k < count; k++) {
    const at = rng.int(1000, end / MS) * MS;
    const dur = rng.int(300, 15_000) * MS;
    const stop = Math.min(at + dur, end + 2 * SEC);
    const node = rng.int(0, n - 1);
    const kind = rng.pick([
      'partition',
      'partition',
      'asym',
      'crash',
      'stop',
      'freeze',
      'freeze',
      'flap',
      'fault',
      'loss',
      'reorder',
    ] as const);
    switch (kind) {
      case 'partition':
      case 'asym': {
        if (!free(partitionBusy, at, stop)) break;
        partitionBusy.push([at, stop]);
        add(at, kind === 'asym' ? asymmetric(rng, n) : symmetric(rng, n));
        add(stop, { kind: 'heal' });
        break;
      }
      case 'crash':
      case 'stop':
      case 'freeze': {
        const busy = nodeBusy[node] ?? [];
        if (!free(busy, at, stop)) break;
        busy.push([at, stop]);
        add(at, { kind, node });
        if (kind === 'freeze') add(stop, { kind: 'resume', node });
        // Some crashed nodes never come back.
        else if (rng.chance(0.8)) add(stop, { kind: 'restart', node });
        else busy.push([stop, Number.MAX_SAFE_INTEGER]);
        break;
      }
      case 'flap': {
        // A tracker flapping: its weight comes and goes a few times, ending either way.
        const w = rng.pick([-150, -100, -50, -20, -10, 10, 20, 50, 100]);
        let t = at;
        const flips = rng.int(1, 6);
        for (let f = 0; f < flips && t <= end + 2 * SEC; f++) {
          add(t, { kind: 'weights', node, delta: f % 2 === 0 ? w : 0 });
          t += rng.int(100, 3000) * MS;
        }
        break;
      }
      case 'fault':
        add(at, { kind: 'fault', node, active: true });
        add(stop, { kind: 'fault', node, active: false });
        break;
      case 'loss':
      case 'reorder': {
        if (!free(burstBusy, at, stop)) break;
        burstBusy.push([at, stop]);
        if (kind === 'loss') add(at, { kind: 'loss', prob: rng.pick([0.2, 0.5, 1]) });
        else {
          const advMs = Math.max(...s.nodes.map((x) => x.advertIntervalCs)) * 10;
          add(at, { kind: 'reorder', prob: 0.3, maxExtraUs: rng.int(advMs / 2, advMs * 2) * MS });
        }
        add(stop, kind === 'loss' ? { kind: 'loss', prob: 0 } : { kind: 'reorder', prob: 0, maxExtraUs: 0 });
        break;
      }
    }
  }
  // Stable sort keeps generation order for equal times (a start before a fault at t = 0, ...).
  return out.sort((x, y) => x.at - y.at);
}

/**
 * Protocol 112 cut between the nodes (symmetric groups or one-way links) while the cloud API stays
 * reachable: every side that loses its master elects one and claims the address. During the cut
 * the holder may crash or freeze, sometimes coming back before the heal, sometimes after; a second
 * cut may follow. Cuts last long enough (up to 3·H) for S1 to be judged inside them.
 */
function splitTimeline(rng: Prng, s: Scenario): TimedAction[] {
  const n = s.nodes.length;
  const out: TimedAction[] = [];
  const add = (at: number, action: SimAction): void => {
    out.push({ at, action });
  };
  const together = rng.chance(0.35);
  for (let i = 0; i < n; i++) add(together ? 0 : rng.int(0, 3000) * MS, { kind: 'start', node: i });

  const hold = s.holder.holdOffUs;
  let t = rng.int(4000, 12_000) * MS;
  const cuts = rng.chance(0.3) ? 2 : 1;
  for (let c = 0; c < cuts; c++) {
    const dur = rng.int(Math.round(hold / 2 / MS), Math.round((3 * hold) / MS) + 8000) * MS;
    add(t, rng.chance(0.6) ? symmetric(rng, n) : asymmetric(rng, n));
    if (rng.chance(0.7)) {
      const tag = c + 1;
      const hitAt = t + rng.int(0, Math.round((dur * 0.8) / MS)) * MS;
      add(hitAt, { kind: 'hit-holder', fault: rng.chance(0.6) ? 'crash' : 'freeze', tag });
      // Back before the heal, after it, or (crash only, 15%) never.
      const r = rng.int(0, 99);
      if (r < 85) add(hitAt + rng.int(300, Math.round((2 * hold) / MS)) * MS, { kind: 'end-hit', tag });
    }
    add(t + dur, { kind: 'heal' });
    t += dur + rng.int(500, Math.round((2 * hold) / MS)) * MS;
  }
  // Sometimes a little noise on top, so the split rule also meets lossy adverts.
  if (rng.chance(0.25)) {
    const at = rng.int(1000, Math.round(t / MS)) * MS;
    add(at, { kind: 'loss', prob: rng.pick([0.2, 0.5]) });
    add(at + rng.int(300, 5000) * MS, { kind: 'loss', prob: 0 });
  }
  return out.sort((x, y) => x.at - y.at);
}

function symmetric(rng: Prng, n: number): SimAction {
  // Two or three groups, at least two non-empty; a node alone is the common "isolated" case.
  const groups = rng.int(2, Math.min(3, n));
  let assign: number[];
  do {
    assign = Array.from({ length: n }, () => rng.int(0, groups - 1));
  } while (new Set(assign).size < 2);
  const reach = assign.map((ga) => assign.map((gb) => ga === gb));
  const label = `symmetric ${Array.from(
    { length: groups },
    (_, g) => `{${assign.flatMap((x, i) => (x === g ? [`n${i + 1}`] : [])).join(',')}}`,
  )
    .filter((x) => x !== '{}')
    .join(' | ')}`;
  return { kind: 'partition', reach, label };
}

function asymmetric(rng: Prng, n: number): SimAction {
  const reach = Array.from({ length: n }, () => Array.from({ length: n }, () => true));
  const cuts: string[] = [];
  const howMany = rng.int(1, Math.max(1, n - 1));
  for (let k = 0; k < howMany; k++) {
    const a = rng.int(0, n - 1);
    let b = rng.int(0, n - 2);
    if (b >= a) b++;
    const row = reach[a];
    if (row && row[b]) {
      row[b] = false;
      cuts.push(`n${a + 1}->n${b + 1}`);
    }
  }
  return { kind: 'partition', reach, label: `asymmetric cut ${cuts.join(', ')}` };
}
