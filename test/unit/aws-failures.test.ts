/**
 * The aws provider when EC2 misbehaves: bad ids, missing IAM permissions, throttling and 5xx
 * (retried by our loop inside the deadline, counted in the emulator's call log), and eventual
 * consistency (the read-back is retried, the mutation is not). Plus what prepare() buys: after it,
 * acquire() sends only the mutation and its read-back, and never touches IMDS.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AwsProviderError } from '../../providers/aws/index.js';
import { EIP, ENI_A, ENI_B, RTB1, actions, never, withRig } from './aws-fixtures.js';

const EIP_OPTS = { mechanism: 'eip', allocation_id: EIP };

void test('an unknown allocation fails prepare() naming allocation_id and the id', async () => {
  await withRig(
    { options: { mechanism: 'eip', allocation_id: 'eipalloc-0ddddddddddddddd4' } },
    async ({ provider }) => {
      await assert.rejects(provider.prepare(), (err: Error) => {
        assert.match(err.message, /allocation_id/);
        assert.match(err.message, /eipalloc-0ddddddddddddddd4/);
        return true;
      });
    },
  );
});

void test('an unknown route table fails prepare() naming route_tables', async () => {
  await withRig(
    {
      options: {
        mechanism: 'route',
        route_tables: ['rtb-0ddddddddddddddd4', RTB1],
        destination: '10.0.1.50/32',
      },
    },
    async ({ provider }) => {
      await assert.rejects(
        provider.prepare(),
        /route_tables.*rtb-0ddddddddddddddd4|rtb-0ddddddddddddddd4.*route_tables/,
      );
    },
  );
});

void test('UnauthorizedOperation fails acquire() at once with exactly one call, naming ec2:AssociateAddress', async () => {
  await withRig({ options: EIP_OPTS, allow: () => ['ec2:DescribeAddresses'] }, async ({ emu, provider }) => {
    await provider.prepare();
    const t0 = performance.now();
    await assert.rejects(provider.acquire(AbortSignal.timeout(5000)), (err: unknown) => {
      assert.ok(err instanceof AwsProviderError);
      assert.equal(err.code, 'UnauthorizedOperation');
      assert.equal(err.kind, 'auth');
      assert.equal(err.attempts, 1);
      assert.match(err.message, /needs ec2:AssociateAddress/);
      return true;
    });
    assert.ok(performance.now() - t0 < 1000, 'no backoff on an auth error');
    assert.equal(emu.calls.count('AssociateAddress'), 1);
    assert.equal(emu.calls.count('AssociateAddress', { errorCode: 'UnauthorizedOperation' }), 1);
  });
});

void test('AuthFailure (credentials refused) fails at once too, and says to check the credentials', async () => {
  await withRig({ options: EIP_OPTS }, async ({ emu, provider }) => {
    await provider.prepare();
    emu.calls.clear();
    // The emulator only accepts SigV4 scoped to its region: a client signing for another region is refused.
    (emu.state as { region: string }).region = 'eu-west-1';
    await assert.rejects(provider.acquire(AbortSignal.timeout(5000)), (err: unknown) => {
      assert.ok(err instanceof AwsProviderError);
      assert.equal(err.code, 'AuthFailure');
      assert.match(err.message, /credentials were not accepted/);
      return true;
    });
    assert.equal(emu.calls.all.length, 1);
  });
});

void test('throttled twice then accepted: three AssociateAddress calls, one mutation, confirmed', async () => {
  await withRig({ options: EIP_OPTS }, async ({ emu, provider, logs }) => {
    await provider.prepare();
    emu.calls.clear();
    emu.injectFault({ code: 'RequestLimitExceeded', action: 'AssociateAddress', times: 2 });
    await provider.acquire(AbortSignal.timeout(8000));
    assert.equal(emu.calls.count('AssociateAddress'), 3);
    assert.equal(emu.calls.count('AssociateAddress', { errorCode: 'RequestLimitExceeded' }), 2);
    assert.equal(emu.calls.count('AssociateAddress', { ok: true }), 1);
    assert.equal(emu.state.addresses.get(EIP)?.association?.networkInterfaceId, ENI_A);
    assert.equal(logs.filter((l) => /answered RequestLimitExceeded; retrying/.test(l.msg)).length, 2);
  });
});

void test('5xx (InternalError, Unavailable) are retried; the read-back is retried the same way', async () => {
  await withRig({ options: EIP_OPTS }, async ({ emu, provider }) => {
    await provider.prepare();
    emu.calls.clear();
    emu.injectFault({ code: 'InternalError', action: 'AssociateAddress' });
    emu.injectFault({ code: 'Unavailable', action: 'DescribeAddresses' });
    await provider.acquire(AbortSignal.timeout(8000));
    assert.deepEqual(actions(emu), [
      'AssociateAddress',
      'AssociateAddress',
      'DescribeAddresses',
      'DescribeAddresses',
    ]);
  });
});

void test('throttled forever: acquire() fails at the deadline, not before and not much after', async () => {
  await withRig(
    { options: EIP_OPTS, knobs: { throttleRate: 1, faultActions: ['AssociateAddress'] } },
    async ({ emu, provider }) => {
      await provider.prepare();
      const deadlineMs = 1200;
      const t0 = performance.now();
      await assert.rejects(provider.acquire(AbortSignal.timeout(deadlineMs)), (err: unknown) => {
        assert.ok(err instanceof AwsProviderError);
        assert.equal(err.kind, 'deadline');
        assert.equal(err.code, 'RequestLimitExceeded');
        assert.match(
          err.message,
          /AssociateAddress did not succeed before the deadline passed after \d+ attempt/,
        );
        return true;
      });
      const took = performance.now() - t0;
      assert.ok(took >= deadlineMs - 5, `failed after ${took} ms, before the ${deadlineMs} ms deadline`);
      assert.ok(took < deadlineMs + 250, `failed ${took - deadlineMs} ms after the deadline`);
      assert.ok(emu.calls.count('AssociateAddress') >= 3, 'kept retrying until the deadline');
    },
  );
});

void test('the provider timeout option bounds a call whose signal never aborts', async () => {
  await withRig(
    {
      options: { ...EIP_OPTS, timeout: '700ms' },
      knobs: { throttleRate: 1, faultActions: ['AssociateAddress'] },
    },
    async ({ provider }) => {
      await provider.prepare();
      const t0 = performance.now();
      await assert.rejects(provider.acquire(never()), /deadline/);
      const took = performance.now() - t0;
      assert.ok(took >= 690 && took < 950, `took ${took} ms`);
    },
  );
});

void test('an answer slower than the deadline is cut off when the deadline passes', async () => {
  await withRig({ options: EIP_OPTS }, async ({ emu, provider }) => {
    await provider.prepare();
    emu.setKnobs({ latencyMs: { AssociateAddress: 3000 } });
    const t0 = performance.now();
    await assert.rejects(provider.acquire(AbortSignal.timeout(500)), /deadline/);
    assert.ok(performance.now() - t0 < 800);
  });
});

void test('eventual consistency: the read-back is retried until it shows us; exactly one mutation', async () => {
  await withRig({ options: EIP_OPTS, knobs: { consistencyDelayMs: 400 } }, async ({ emu, provider }) => {
    await provider.prepare();
    emu.calls.clear();
    await provider.acquire(AbortSignal.timeout(5000));
    assert.equal(emu.calls.count('AssociateAddress'), 1);
    assert.ok(emu.calls.count('DescribeAddresses') >= 2, 'the stale view was read and read again');
    assert.equal(await provider.holder(never()), ENI_A);
  });
});

void test('a read-back that never converges fails at the deadline, still with one mutation', async () => {
  await withRig({ options: EIP_OPTS, knobs: { consistencyDelayMs: 60_000 } }, async ({ emu, provider }) => {
    await provider.prepare();
    emu.calls.clear();
    await assert.rejects(provider.acquire(AbortSignal.timeout(800)), (err: unknown) => {
      assert.ok(err instanceof AwsProviderError);
      assert.equal(err.kind, 'unconfirmed');
      assert.match(err.message, new RegExp(`still shows ${ENI_B} instead of ${ENI_A}`));
      return true;
    });
    assert.equal(emu.calls.count('AssociateAddress'), 1);
  });
});

void test('prepare() warms: acquire() sends only the mutation and the read-back, and no IMDS request', async () => {
  for (const options of [
    EIP_OPTS,
    { mechanism: 'secondary-ip', addresses: ['10.0.1.50'] },
    { mechanism: 'route', route_tables: [RTB1], destination: '10.0.1.50/32' },
  ]) {
    await withRig({ options }, async ({ emu, imds, provider }) => {
      await provider.prepare();
      const imdsBefore = imds.requests.length;
      emu.calls.clear();
      await provider.acquire(never());
      const expected = {
        eip: ['AssociateAddress', 'DescribeAddresses'],
        'secondary-ip': ['AssignPrivateIpAddresses', 'DescribeNetworkInterfaces'],
        route: ['ReplaceRoute', 'DescribeRouteTables'],
      }[options.mechanism as 'eip' | 'route' | 'secondary-ip'];
      assert.deepEqual(actions(emu), expected, options.mechanism);
      assert.equal(imds.requests.length, imdsBefore, 'identity was resolved once, in prepare()');
    });
  }
});

void test('a failed prepare() is not cached: the next call starts over and succeeds', async () => {
  await withRig({ options: EIP_OPTS }, async ({ emu, provider }) => {
    emu.setKnobs({ allowedActions: [] });
    await assert.rejects(provider.prepare(), /ec2:DescribeAddresses/);
    emu.setKnobs({ allowedActions: provider.permissions });
    await provider.acquire(never());
    assert.equal(emu.state.addresses.get(EIP)?.association?.networkInterfaceId, ENI_A);
  });
});
