/**
 * A scenario is everything one seed decides: the group's configuration, the network's steady
 * conditions, the cloud's API latency and the timeline of faults. It is plain data, so a failing
 * scenario can be printed, and the simulator never draws configuration from the PRNG itself.
 */
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
  /** A MASTER transition's claim on the address lands after a latency drawn from this range. */
  latencyMinUs: number;
  latencyMaxUs: number;
  /** While MASTER, a node reads the holder back this often and claims again if it is not it. */
  reconcileUs: number;
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
  | { kind: 'reorder'; prob: number; maxExtraUs: number };

export interface TimedAction {
  at: number;
  action: SimAction;
}

export interface Scenario {
  seed: number;
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
  /** I5: settle, then a foreign claim in flight, a reconcile period and our own claim. */
  holderUs: number;
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
  const holderUs = settleUs + 2 * s.holder.latencyMaxUs + s.holder.reconcileUs;
  const fastFailoverUs = skewMaxUs + delayMaxUs;
  return {
    advMaxUs,
    masterDownMaxUs,
    skewMaxUs,
    delayMaxUs,
    preemptDelayMaxUs,
    settleUs,
    healUs,
    holderUs,
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
    reconcileUs: rng.int(5, 20) * 100 * MS,
  };
  const scenario: Scenario = {
    seed,
    version,
    family,
    nodes,
    net,
    holder,
    resumeOrder: rng.chance(0.5) ? 'timers-first' : 'packets-first',
    durationUs: 0,
    actions: [],
  };
  scenario.actions = timeline(rng, scenario);
  const last = scenario.actions.reduce((m, a) => Math.max(m, a.at), 0);
  // Every run ends with a quiet tail long enough for every invariant to be checked at least once.
  const b = scenarioBounds(scenario);
  scenario.durationUs = last + b.holderUs + 2 * SEC;
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
