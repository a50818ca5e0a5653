/**
 * Deterministic VRRP simulation from the command line.
 *
 *   npm run sim -- --seeds N [--from S] [--trace] [--keep-going]
 *
 * Each seed is one random scenario (see src/sim/scenario.ts). A failure prints the violated
 * invariant, the last events before it and the one command that replays exactly that seed.
 */
import { parseArgs } from 'node:util';
import { describeScenario, formatCounts, formatFailure, replayCommand, runSeeds } from '../src/sim/run.js';
import { formatTrace } from '../src/sim/trace.js';

function intArg(name: string, raw: string | undefined, dflt: number): number {
  if (raw === undefined) return dflt;
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < 0) {
    console.error(`sim: --${name} ${raw} is not a non-negative integer`);
    process.exit(2);
  }
  return v;
}

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    from: { type: 'string' },
    trace: { type: 'boolean', default: false },
    'keep-going': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (values.help) {
  console.log(
    'usage: npm run sim -- --seeds N [--from S] [--trace] [--keep-going]\n' +
      '  --seeds N      run N scenarios (default 100)\n' +
      '  --from S       first seed (default 1)\n' +
      '  --trace        print every scenario and its full event trace\n' +
      '  --keep-going   do not stop at the first failing seed',
  );
  process.exit(0);
}

const count = intArg('seeds', values.seeds, 100);
const from = intArg('from', values.from, 1);
const trace = values.trace ?? false;

const batch = runSeeds({
  from,
  count,
  traceAll: trace,
  stopAtFirst: !values['keep-going'],
  onResult: (r) => {
    if (!trace) return;
    console.log(describeScenario(r.scenario));
    console.log(formatTrace(r.trace));
    console.log(
      `seed ${r.scenario.seed}: ${r.violation ? `${r.violation.invariant} VIOLATED` : 'all invariants held'}; ` +
        `final ${r.finalStates.join(' ')}, holder ${r.holder ?? 'none'}\n`,
    );
  },
});

for (const f of batch.failures) {
  const v = f.violation;
  // With --trace the whole trace is already printed above; repeat only the verdict.
  if (trace && v) {
    console.log(
      `FAIL seed ${f.scenario.seed}: ${v.invariant}: ${v.message}\nreplay: ${replayCommand(f.scenario.seed)}\n`,
    );
  } else console.log(`${formatFailure(f)}\n`);
}
console.log(
  `sim: ${batch.ran} scenarios (seeds ${from}..${from + batch.ran - 1}), ${batch.events} events, ` +
    `${(batch.virtualUs / 1e6).toFixed(0)} virtual s in ${(batch.wallMs / 1000).toFixed(1)} s wall: ` +
    (batch.failures.length ? `${batch.failures.length} FAILED` : 'all invariants held'),
);
console.log(`sim: invariant evaluations: ${formatCounts(batch.checks)}`);
process.exit(batch.failures.length ? 1 : 0);
