/**
 * IMDSv2 identity: one session token for many reads (and for concurrent ones), refreshed ahead of
 * its TTL and after a 401, and the ENI found by the interface's MAC. Against the IMDS emulator.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImdsClient, resolveIdentity } from '../../providers/aws/identity.js';
import { startImdsEmulator, type ImdsInstance } from '../emulators/imds/index.js';
import { ENI_A, I_A, MAC_A, rig } from './aws-fixtures.js';

const INSTANCE: ImdsInstance = {
  instanceId: I_A,
  region: 'eu-central-1',
  availabilityZone: 'eu-central-1b',
  interfaces: [
    {
      mac: '02:00:00:00:00:01',
      interfaceId: 'eni-0000000000000000a',
      deviceNumber: 0,
      localIpv4s: ['10.0.0.5'],
    },
    {
      mac: '02:00:00:00:00:02',
      interfaceId: 'eni-0000000000000000b',
      deviceNumber: 1,
      localIpv4s: ['10.0.2.5'],
    },
  ],
};

void test('one token serves many reads, concurrent ones included', async () => {
  const imds = await startImdsEmulator({ instance: INSTANCE });
  try {
    const c = new ImdsClient({ endpoint: imds.endpoint });
    await Promise.all(Array.from({ length: 10 }, () => c.get('instance-id')));
    for (let i = 0; i < 20; i++) assert.equal(await c.get('placement/region'), 'eu-central-1');
    assert.equal(imds.tokenRequests, 1);
    assert.ok(imds.requests.filter((r) => r.method === 'GET').every((r) => r.withToken));
  } finally {
    await imds.close();
  }
});

void test('the token is refreshed before its TTL ends, and once after a 401', async () => {
  let now = 1_000_000;
  const clock = (): number => now;
  const imds = await startImdsEmulator({ instance: INSTANCE, clock });
  try {
    const c = new ImdsClient({ endpoint: imds.endpoint, tokenTtlSeconds: 600, clock });
    await c.get('instance-id');
    now += 500_000; // 100 s left: still well inside the TTL
    await c.get('instance-id');
    assert.equal(imds.tokenRequests, 1);
    now += 50_000; // 50 s left: within the refresh margin (a tenth of the TTL)
    await c.get('instance-id');
    assert.equal(imds.tokenRequests, 2, 'refreshed before expiry, so no GET met a 401');
    assert.ok(imds.requests.every((r) => r.status !== 401));
    imds.expireTokens();
    assert.equal(await c.get('instance-id'), I_A);
    assert.equal(imds.tokenRequests, 3);
    assert.equal(imds.requests.filter((r) => r.status === 401).length, 1);
  } finally {
    await imds.close();
  }
});

void test('identity: region and instance from IMDS, the ENI by the interface MAC; overrides skip IMDS', async () => {
  const imds = await startImdsEmulator({ instance: INSTANCE });
  try {
    const c = new ImdsClient({ endpoint: imds.endpoint });
    const id = await resolveIdentity(
      {},
      () => c,
      () => '02:00:00:00:00:02',
    );
    assert.deepEqual(id, { region: 'eu-central-1', instanceId: I_A, eniId: 'eni-0000000000000000b' });
    assert.equal(imds.tokenRequests, 1);
    const before = imds.requests.length;
    const given = { region: 'us-west-2', instanceId: 'i-0123456789abcdef0', eniId: 'eni-0123456789abcdef0' };
    const id2 = await resolveIdentity(
      given,
      () => assert.fail('IMDS must not be used'),
      () => assert.fail('no MAC needed'),
    );
    assert.deepEqual(id2, given);
    assert.equal(imds.requests.length, before);
    await assert.rejects(
      resolveIdentity(
        {},
        () => c,
        () => '02:00:00:00:00:99',
      ),
      /no ENI with MAC 02:00:00:00:00:99 .*set eni_id/,
    );
  } finally {
    await imds.close();
  }
});

void test('no metadata service: the error says to configure region, instance_id and eni_id', async () => {
  const c = new ImdsClient({ endpoint: 'http://127.0.0.1:9' });
  await assert.rejects(c.get('instance-id'), /did not answer .*set region, instance_id and eni_id/);
});

void test('the provider resolves its identity with a single IMDS token in prepare()', async () => {
  const r = await rig({ options: { mechanism: 'eip', allocation_id: 'eipalloc-0aaaaaaaaaaaaaaa1' } });
  try {
    await r.provider.prepare();
    for (let i = 0; i < 5; i++) await r.provider.holder(AbortSignal.timeout(5000));
    await r.provider.acquire(AbortSignal.timeout(5000));
    assert.equal(r.provider.selfId, ENI_A);
    assert.equal(r.imds.tokenRequests, 1);
    assert.ok(r.imds.requests.some((q) => q.path.includes(`/macs/${MAC_A}/interface-id`)));
  } finally {
    await r.close();
  }
});
