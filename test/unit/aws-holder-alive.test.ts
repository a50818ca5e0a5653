/**
 * holderAlive(): the AWS provider tells the notify stage whether another holder's instance is still
 * up, from the EC2 emulator's state, with the real SDK and the IAM allow-list equal to permissions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProviderError } from '../../src/notify/provider.js';
import type { InstanceStateName } from '../emulators/ec2/model.js';
import { EIP, ENI_A, ENI_B, I_B, actions, never, withRig } from './aws-fixtures.js';

const EIP_OPTS = { mechanism: 'eip', allocation_id: EIP };

void test('holderAlive: the peer ENI on a running or pending instance is alive; two reads, no mutation', async () => {
  await withRig({ options: EIP_OPTS }, async ({ emu, provider }) => {
    await provider.prepare();
    emu.calls.clear();
    assert.equal(await provider.holderAlive(ENI_B, never()), true);
    assert.deepEqual(actions(emu), ['DescribeNetworkInterfaces', 'DescribeInstances']);
    assert.equal(emu.calls.of('DescribeNetworkInterfaces')[0]!.params['NetworkInterfaceId.1'], ENI_B);
    assert.equal(emu.calls.of('DescribeInstances')[0]!.params['InstanceId.1'], I_B);

    emu.state.instances.get(I_B)!.state = 'pending';
    assert.equal(await provider.holderAlive(ENI_B, never()), true, 'pending: booting, will answer');
  });
});

void test('holderAlive: stopping, stopped, shutting-down and terminated instances are dead', async () => {
  await withRig({ options: EIP_OPTS }, async ({ emu, provider }) => {
    await provider.prepare();
    const states: InstanceStateName[] = ['stopping', 'stopped', 'shutting-down', 'terminated'];
    for (const s of states) {
      emu.state.instances.get(I_B)!.state = s;
      assert.equal(await provider.holderAlive(ENI_B, never()), false, s);
    }
    emu.state.instances.get(I_B)!.state = 'running';
    assert.equal(await provider.holderAlive(ENI_B, never()), true, 'running again');
  });
});

void test('holderAlive: a deleted ENI, a detached ENI or a vanished instance is dead (NotFound is an answer, not an error)', async () => {
  await withRig({ options: EIP_OPTS }, async ({ emu, provider }) => {
    await provider.prepare();
    const eni = emu.state.networkInterfaces.get(ENI_B)!;
    const attachment = eni.attachment;
    eni.attachment = null;
    emu.calls.clear();
    assert.equal(await provider.holderAlive(ENI_B, never()), false, 'detached');
    assert.deepEqual(actions(emu), ['DescribeNetworkInterfaces'], 'no instance to ask about');
    eni.attachment = attachment;

    emu.state.networkInterfaces.delete(ENI_B);
    emu.calls.clear();
    assert.equal(await provider.holderAlive(ENI_B, never()), false, 'ENI gone');
    assert.deepEqual(
      emu.calls.all.map((c) => [c.action, c.errorCode]),
      [['DescribeNetworkInterfaces', 'InvalidNetworkInterfaceID.NotFound']],
    );
    emu.state.networkInterfaces.set(ENI_B, eni);

    emu.state.instances.delete(I_B);
    emu.calls.clear();
    assert.equal(await provider.holderAlive(ENI_B, never()), false, 'instance gone');
    assert.equal(emu.calls.count('DescribeInstances', { errorCode: 'InvalidInstanceID.NotFound' }), 1);
  });
});

void test('holderAlive: holder id shapes: ENI with a suffix, an instance (route target), our own ENI, a gateway', async () => {
  await withRig({ options: EIP_OPTS }, async ({ emu, provider }) => {
    await provider.prepare();
    emu.calls.clear();
    assert.equal(
      await provider.holderAlive(`${ENI_B}/10.0.1.11`, never()),
      true,
      'eip on another private IP',
    );
    assert.equal(await provider.holderAlive(`${ENI_B}+os-address-missing`, never()), true);
    assert.equal(await provider.holderAlive(I_B, never()), true, 'route to an instance');
    assert.equal(emu.calls.count('DescribeInstances'), 3);
    emu.calls.clear();
    // Our own ENI only partly holding it: no other node behind it, so repair at once.
    assert.equal(await provider.holderAlive(`${ENI_A}/10.0.1.20`, never()), false);
    assert.equal(await provider.holderAlive('igw-0123456789abcdef0', never()), null, 'a gateway is no node');
    assert.equal(emu.calls.all.length, 0, 'neither asks EC2');
  });
});

void test('holderAlive: other failures throw (the stage reads them as "cannot tell"); throttling is retried within the deadline', async () => {
  await withRig({ options: EIP_OPTS }, async ({ emu, provider }) => {
    await provider.prepare();
    emu.calls.clear();
    emu.injectFault({ code: 'RequestLimitExceeded', action: 'DescribeInstances', times: 2 });
    assert.equal(await provider.holderAlive(ENI_B, never()), true);
    assert.equal(emu.calls.count('DescribeInstances'), 3, 'two throttled answers, then the real one');
    assert.equal(emu.calls.count('DescribeNetworkInterfaces'), 1);

    emu.setKnobs({ allowedActions: provider.permissions.filter((a) => a !== 'ec2:DescribeInstances') });
    emu.calls.clear();
    await assert.rejects(provider.holderAlive(ENI_B, never()), (err: unknown) => {
      assert.match((err as Error).message, /needs ec2:DescribeInstances/);
      // The notify stage stops at once on a non-retryable ProviderError instead of retrying to its deadline.
      assert.ok(err instanceof ProviderError && !err.retryable, 'a missing permission is not retryable');
      return true;
    });
    assert.equal(emu.calls.count('DescribeInstances'), 1, 'auth failures are not retried');

    emu.setKnobs({
      allowedActions: provider.permissions,
      throttleRate: 1,
      faultActions: ['DescribeNetworkInterfaces'],
    });
    const started = performance.now();
    await assert.rejects(provider.holderAlive(ENI_B, AbortSignal.timeout(400)), (err: unknown) => {
      assert.match(
        (err as Error).message,
        /DescribeNetworkInterfaces did not succeed before the deadline passed/,
      );
      assert.ok(
        err instanceof ProviderError && err.retryable,
        'throttled to the deadline: worth another try',
      );
      return true;
    });
    const ms = performance.now() - started;
    assert.ok(ms >= 350 && ms < 2000, `ends at the caller's deadline, took ${Math.round(ms)} ms`);
  });
});
