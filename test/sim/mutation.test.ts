import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeeds, formatFailure } from '../../src/sim/run.js';
import type { InvariantName } from '../../src/sim/invariants.js';
import type { SimOptions, StepFn } from '../../src/sim/simulator.js';
import { dropPriorityZero, dropWeights, ignoreSkew, neverPreempt, reverseTieBreak } from './mutations.js';

/** Each defect must be caught within this many seeds, by the invariant that owns the rule. */
const K = 500;

const cases: { defect: string; step?: StepFn; opts?: SimOptions; want: InvariantName }[] = [
  { defect: 'Master_Down without Skew_Time', step: ignoreSkew, want: 'I2 no-early-takeover' },
  { defect: 'tie-break by address reversed', step: reverseTieBreak, want: 'I6 master-yields' },
  { defect: 'priority-0 adverts ignored by backups', step: dropPriorityZero, want: 'I7 fast-failover' },
  { defect: 'backups never preempt', step: neverPreempt, want: 'I1 single-rfc-master' },
  { defect: 'tracker weights dropped', step: dropWeights, want: 'I8 effective-priority' },
  // Not a reducer defect: a notify stage that never reads the holder back leaves the address
  // with whichever claim landed last, e.g. the loser of an election duel.
  { defect: 'no holder reconcile loop', opts: { reconcile: false }, want: 'I5 holder-follows-master' },
];

for (const c of cases) {
  void test(`mutation: "${c.defect}" is caught by ${c.want} within ${K} seeds`, () => {
    const r = runSeeds({
      from: 1,
      count: K,
      stopAtFirst: true,
      ...c.opts,
      ...(c.step ? { step: c.step } : {}),
    });
    const f = r.failures[0];
    assert.ok(f?.violation, `no invariant caught "${c.defect}" in seeds 1..${K}`);
    assert.equal(
      f.violation.invariant,
      c.want,
      `"${c.defect}" was caught by another invariant:\n${formatFailure(f)}`,
    );
    console.log(`mutation "${c.defect}": ${c.want} at seed ${f.scenario.seed} (${r.ran} seeds run)`);
  });
}

void test('mutation: the unmutated reducer passes the same seeds (the defects, not the harness, fail)', () => {
  const r = runSeeds({ from: 1, count: K });
  assert.deepEqual(
    r.failures.map((f) => formatFailure(f)),
    [],
  );
});
