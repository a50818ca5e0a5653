/**
 * Seeds in, verdicts out: the entry points the CLI (scripts/sim.ts), the CI test and the mutation
 * test share.
 */
import { emptyCounts, INVARIANTS, type CheckCounts } from './invariants.js';
import { generateScenario, type Scenario } from './scenario.js';
import { Simulator, type SimOptions, type SimResult } from './simulator.js';
import { fmtMs, formatTrace } from './trace.js';

export function runSeed(seed: number, opts: SimOptions = {}): SimResult {
  return new Simulator(generateScenario(seed), opts).run();
}

export interface BatchResult {
  from: number;
  count: number;
  /** Scenarios run (stops early at the first failure when stopAtFirst). */
  ran: number;
  failures: SimResult[];
  events: number;
  virtualUs: number;
  wallMs: number;
  /** Evaluations per invariant over the whole batch. */
  checks: CheckCounts;
}

export interface BatchOptions extends SimOptions {
  from: number;
  count: number;
  stopAtFirst?: boolean;
  /** Called after each scenario (progress output). */
  onResult?: (r: SimResult) => void;
}

export function runSeeds(o: BatchOptions): BatchResult {
  const t0 = performance.now();
  const failures: SimResult[] = [];
  let ran = 0;
  let events = 0;
  let virtualUs = 0;
  const checks = emptyCounts();
  for (let seed = o.from; seed < o.from + o.count; seed++) {
    const r = runSeed(seed, o);
    ran++;
    events += r.events;
    virtualUs += r.endUs;
    for (const k of INVARIANTS) checks[k] += r.checks[k];
    o.onResult?.(r);
    if (r.violation) {
      failures.push(r);
      if (o.stopAtFirst) break;
    }
  }
  return {
    from: o.from,
    count: o.count,
    ran,
    failures,
    events,
    virtualUs,
    wallMs: performance.now() - t0,
    checks,
  };
}

export function formatCounts(c: CheckCounts): string {
  return INVARIANTS.map((k) => `${k}: ${c[k]}`).join(', ');
}

export function replayCommand(seed: number): string {
  return `npm run sim -- --seeds 1 --from ${seed} --trace`;
}

export function describeScenario(s: Scenario): string {
  const nodes = s.nodes
    .map(
      (n) =>
        `  ${n.name} ${n.ip} prio ${n.priority} int ${n.advertIntervalCs}cs ${n.preempt ? 'preempt' : 'nopreempt'}` +
        `${n.preemptDelayUs ? ` preempt_delay ${fmtMs(n.preemptDelayUs)}` : ''}` +
        `${n.downTimerAdverts !== 3 ? ` down_timer_adverts ${n.downTimerAdverts}` : ''}`,
    )
    .join('\n');
  return [
    `seed ${s.seed} (${s.shape}): VRRPv${s.version} ${s.family}, ${s.nodes.length} nodes, ${fmtMs(s.durationUs)} virtual`,
    nodes,
    `  network: delay ${fmtMs(s.net.baseDelayUs)} + jitter ≤ ${fmtMs(s.net.jitterUs)}, duplication ${s.net.dupProb * 100}%`,
    `  cloud: API latency ${fmtMs(s.holder.latencyMinUs)}..${fmtMs(s.holder.latencyMaxUs)}, liveness ${s.holder.liveness}`,
    `  holder policy: reconcile every ${fmtMs(s.holder.reconcileUs)}, hold-off ${fmtMs(s.holder.holdOffUs)}`,
    `  resume order after SIGCONT: ${s.resumeOrder}`,
  ].join('\n');
}

/** The report for one failing seed: what broke, the scenario, the last events, how to replay. */
export function formatFailure(r: SimResult): string {
  const v = r.violation;
  if (!v) return `seed ${r.scenario.seed}: all invariants held`;
  return [
    `FAIL seed ${r.scenario.seed}: ${v.invariant} violated at ${fmtMs(v.atUs)}`,
    `  ${v.message}`,
    describeScenario(r.scenario),
    `last ${r.trace.length} events:`,
    formatTrace(r.trace),
    `replay: ${replayCommand(r.scenario.seed)}`,
  ].join('\n');
}
