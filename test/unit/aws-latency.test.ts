/**
 * What one failover costs, measured against the EC2 emulator: calls per mechanism, and the time
 * from acquire() to the first mutating request the emulator receives, with 0 and 300 ms of EC2
 * latency. prepare() has done every look-up, so that first request leaves at once: the bound
 * asserted (well under one 300 ms round trip) fails if acquire() ever did a Describe first.
 * The numbers are printed as test diagnostics.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEST, EIP, RTB1, RTB2, VIP, never, withRig } from './aws-fixtures.js';

const MUTATING = new Set(['AssociateAddress', 'AssignPrivateIpAddresses', 'ReplaceRoute', 'CreateRoute']);

const CASES: Array<{ name: string; options: Record<string, unknown> }> = [
  { name: 'eip', options: { mechanism: 'eip', allocation_id: EIP } },
  { name: 'secondary-ip', options: { mechanism: 'secondary-ip', addresses: [VIP] } },
  {
    name: 'route (2 tables)',
    options: { mechanism: 'route', route_tables: [RTB1, RTB2], destination: DEST },
  },
];

for (const latencyMs of [0, 300]) {
  for (const c of CASES) {
    void test(`${c.name}, EC2 latency ${latencyMs} ms: acquire() → first mutating request, calls per failover`, async (t) => {
      await withRig({ options: c.options, knobs: { latencyMs } }, async ({ emu, provider }) => {
        await provider.prepare();
        emu.calls.clear();
        const t0 = Date.now();
        const p0 = performance.now();
        await provider.acquire(never());
        const total = performance.now() - p0;
        const first = emu.calls.all.find((r) => MUTATING.has(r.action));
        assert.ok(first);
        const toFirst = first.time - t0;
        const calls = emu.calls.all.map((r) => r.action);
        t.diagnostic(
          `${c.name} latency=${latencyMs}ms: first mutating request after ${toFirst} ms; acquire total ${Math.round(total)} ms; ${calls.length} calls: ${calls.join(', ')}`,
        );
        assert.ok(toFirst < 150, `first mutating request ${toFirst} ms after acquire()`);
        assert.ok(total >= 2 * latencyMs, 'one mutation round trip, then one read-back round trip');
      });
    });
  }
}

void test('for contrast: acquire() without an earlier prepare() pays the look-ups first', async (t) => {
  await withRig(
    { options: { mechanism: 'eip', allocation_id: EIP }, knobs: { latencyMs: 300 } },
    async ({ emu, provider }) => {
      const t0 = Date.now();
      await provider.acquire(never());
      const first = emu.calls.all.find((r) => MUTATING.has(r.action))!;
      t.diagnostic(`eip latency=300ms without prepare(): first mutating request after ${first.time - t0} ms`);
      assert.ok(first.time - t0 >= 300, 'the warming Describe round trip came first');
    },
  );
});
