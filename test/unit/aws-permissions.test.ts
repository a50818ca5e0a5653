/**
 * `permissions` is exact. Complete: a full scenario (prepare, holder, acquire over both a present
 * and a missing route, release) passes with the emulator's IAM allow-list equal to the list.
 * The scenario includes holderAlive() on the peer's ENI. Minimal: dropping any single action from the allow-list makes that scenario fail with an error
 * naming the dropped action.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEST, EIP, ENI_B, RTB1, RTB2, VIP, never, withRig, type Rig } from './aws-fixtures.js';

const SCENARIOS: Array<{
  name: string;
  options: Record<string, unknown>;
  /** The action release() gives the address back with, and whether these options list it. */
  release?: { action: string; listed: boolean };
}> = [
  // The defaults: release gives the address back.
  {
    name: 'eip',
    options: { mechanism: 'eip', allocation_id: EIP },
    release: { action: 'ec2:DisassociateAddress', listed: true },
  },
  {
    name: 'secondary-ip',
    options: { mechanism: 'secondary-ip', addresses: [VIP] },
    release: { action: 'ec2:UnassignPrivateIpAddresses', listed: true },
  },
  // Opted out: release leaves EC2 alone, so the list shrinks and must still be exact.
  {
    name: 'eip (detach_on_release: false)',
    options: { mechanism: 'eip', allocation_id: EIP, detach_on_release: false },
    release: { action: 'ec2:DisassociateAddress', listed: false },
  },
  {
    name: 'secondary-ip (unassign_on_release: false)',
    options: { mechanism: 'secondary-ip', addresses: [VIP], unassign_on_release: false },
    release: { action: 'ec2:UnassignPrivateIpAddresses', listed: false },
  },
  { name: 'route', options: { mechanism: 'route', route_tables: [RTB1, RTB2], destination: DEST } },
];

async function fullCycle(r: Rig): Promise<void> {
  await r.provider.prepare();
  await r.provider.holder(never());
  // The peer's ENI is attached to a running instance: both liveness reads run.
  assert.equal(await r.provider.holderAlive(ENI_B, never()), true);
  await r.provider.acquire(never());
  await r.provider.release(never());
}

for (const s of SCENARIOS) {
  void test(`${s.name}: the allow-list equal to permissions is enough for prepare, holder, acquire and release`, async () => {
    await withRig({ options: s.options }, async (r) => {
      assert.deepEqual(r.emu.knobs.allowedActions, r.provider.permissions);
      if (s.release) {
        assert.equal(r.provider.permissions.includes(s.release.action), s.release.listed, s.release.action);
      }
      await fullCycle(r);
      assert.equal(r.emu.calls.all.filter((c) => c.errorCode === 'UnauthorizedOperation').length, 0);
      const used = new Set(r.emu.calls.all.map((c) => `ec2:${c.action}`));
      assert.deepEqual([...used].sort(), [...r.provider.permissions].sort(), 'every listed action is used');
    });
  });

  void test(`${s.name}: without any one listed action the cycle fails naming it`, async () => {
    const perms = await withPerms(s.options);
    for (const missing of perms) {
      await withRig({ options: s.options, allow: (p) => p.filter((a) => a !== missing) }, async (r) => {
        await assert.rejects(fullCycle(r), new RegExp(missing), `without ${missing}`);
      });
    }
  });
}

async function withPerms(options: Record<string, unknown>): Promise<readonly string[]> {
  let perms: readonly string[] = [];
  await withRig({ options }, (r) => {
    perms = r.provider.permissions;
    return Promise.resolve();
  });
  return perms;
}
