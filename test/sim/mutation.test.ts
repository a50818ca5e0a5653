import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed, runSeeds, formatFailure } from '../../src/sim/run.js';
import type { InvariantName } from '../../src/sim/invariants.js';
import type { PolicyStepFn, StepFn } from '../../src/sim/simulator.js';
import { KNOWN_POLICY_FLAWS } from './known-flaws.js';
import {
  dropPriorityZero,
  dropWeights,
  ignoreDeadHolder,
  ignoreSkew,
  neverFence,
  neverPreempt,
  reverseTieBreak,
} from './mutations.js';

/** Each defect must be caught within this many seeds, by the invariant that owns the rule. */
const K = 500;
const tolerate = KNOWN_POLICY_FLAWS;

const vrrpCases: { defect: string; step: StepFn; want: InvariantName }[] = [
  { defect: 'Master_Down without Skew_Time', step: ignoreSkew, want: 'I2 no-early-takeover' },
  { defect: 'tie-break by address reversed', step: reverseTieBreak, want: 'I6 master-yields' },
  { defect: 'priority-0 adverts ignored by backups', step: dropPriorityZero, want: 'I7 fast-failover' },
  { defect: 'backups never preempt', step: neverPreempt, want: 'I1 single-rfc-master' },
  { defect: 'tracker weights dropped', step: dropWeights, want: 'I8 effective-priority' },
];

for (const c of vrrpCases) {
  void test(`mutation: "${c.defect}" is caught by ${c.want} within ${K} seeds`, () => {
    const r = runSeeds({ from: 1, count: K, stopAtFirst: true, step: c.step, tolerate });
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
  const r = runSeeds({ from: 1, count: K, tolerate });
  assert.deepEqual(
    r.failures.map((f) => formatFailure(f)),
    [],
  );
});

/*
 * Holder-policy defects. The real policy itself violates S1/S3/S4 on some seeds (KNOWN_POLICY_FLAWS),
 * so these are judged strictly, seed by seed, only on seeds where the unmutated policy passes every
 * invariant: there the mutation is the only difference, and it must be what fails.
 */
const policyCases: { defect: string; policyStep: PolicyStepFn; want: InvariantName[] }[] = [
  {
    defect: 'never fence (contention treated as drift)',
    policyStep: neverFence,
    want: ['S1 one-holder', 'S2 move-budget'],
  },
  { defect: 'holder alive:false ignored', policyStep: ignoreDeadHolder, want: ['S3 dead-holder-takeover'] },
];

for (const c of policyCases) {
  void test(`mutation: policy "${c.defect}" is caught by ${c.want.join(' or ')} within ${K} seeds`, () => {
    let clean = 0;
    let flawed = 0;
    for (let seed = 1; seed <= K; seed++) {
      const mutant = runSeed(seed, { policyStep: c.policyStep });
      if (!mutant.violation) {
        clean++;
        continue;
      }
      const real = runSeed(seed);
      if (real.violation) {
        // A seed where the real policy fails too proves nothing about this mutation.
        flawed++;
        continue;
      }
      clean++;
      assert.ok(
        c.want.includes(mutant.violation.invariant),
        `"${c.defect}" was caught by another invariant:\n${formatFailure(mutant)}`,
      );
      console.log(
        `mutation "${c.defect}": ${mutant.violation.invariant} at seed ${seed} ` +
          `(${clean} seeds where the real policy passes, ${flawed} skipped as known-flaw seeds)`,
      );
      return;
    }
    assert.fail(`no invariant caught "${c.defect}" in seeds 1..${K} (${clean} clean, ${flawed} known-flaw)`);
  });
}
