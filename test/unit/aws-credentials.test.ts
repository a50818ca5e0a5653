/**
 * Credentials come from the SDK's default chain. With no keys in the environment that chain ends at
 * the instance role in IMDS; `imds_endpoint` steers it there as well as the identity look-up. Its
 * own file because the chain reads process-wide environment variables.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { AwsProvider } from '../../providers/aws/index.js';
import { startEc2Emulator } from '../emulators/ec2/index.js';
import { imdsInstanceFromEc2, startImdsEmulator } from '../emulators/imds/index.js';

for (const k of [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
]) {
  delete process.env[k];
}
// No shared config files: the chain must fall through to IMDS.
process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/floatip-test-credentials';
process.env.AWS_CONFIG_FILE = '/nonexistent/floatip-test-config';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

void test('the instance role from IMDS signs the EC2 calls; prepare() resolves it, acquire() needs no IMDS', async () => {
  const emu = await startEc2Emulator({
    seed: {
      instances: [{ instanceId: 'i-0aaaaaaaaaaaaaaa1' }],
      networkInterfaces: [
        {
          networkInterfaceId: 'eni-0aaaaaaaaaaaaaaa1',
          subnetId: 'subnet-0a',
          vpcId: 'vpc-0a',
          macAddress: '02:00:00:00:00:0a',
          privateIpAddress: '10.0.1.10',
          attachment: { instanceId: 'i-0aaaaaaaaaaaaaaa1', deviceIndex: 0 },
        },
      ],
      addresses: [{ allocationId: 'eipalloc-0aaaaaaaaaaaaaaa1', publicIp: '198.51.100.7' }],
    },
    accessKeyIds: ['ASIAROLEKEY'],
  });
  const role = { name: 'floatip', accessKeyId: 'ASIAROLEKEY', secretAccessKey: 'x', token: 'session' };
  const imds = await startImdsEmulator({
    instance: imdsInstanceFromEc2(emu.state, 'i-0aaaaaaaaaaaaaaa1', role),
  });
  const provider = new AwsProvider(
    {
      instance: 'VI_1',
      interface: 'eth0',
      family: 'ipv4',
      virtualIps: [],
      options: {
        mechanism: 'eip',
        allocation_id: 'eipalloc-0aaaaaaaaaaaaaaa1',
        endpoint: emu.endpoint,
        imds_endpoint: imds.endpoint,
      },
      garp: { masterDelayMs: 0, masterRepeat: 1, masterRefreshMs: 0, masterRefreshRepeat: 1 },
      log: pino({ level: 'silent' }),
    },
    { interfaceMac: () => '02:00:00:00:00:0a' },
  );
  try {
    emu.setKnobs({ allowedActions: provider.permissions });
    await provider.prepare();
    assert.ok(imds.requests.some((r) => r.path.includes('/iam/security-credentials/floatip')));
    const imdsAfterPrepare = imds.requests.length;
    const tokensAfterPrepare = imds.tokenRequests;
    // The identity look-up holds one token; the SDK's credential provider fetches its own.
    assert.ok(tokensAfterPrepare <= 2, `${tokensAfterPrepare} tokens`);
    for (let i = 0; i < 3; i++) await provider.acquire(AbortSignal.timeout(5000));
    assert.equal(
      imds.requests.length,
      imdsAfterPrepare,
      'credentials are cached by the SDK until near expiry',
    );
    assert.ok(emu.calls.all.length > 0);
    assert.ok(emu.calls.all.every((c) => c.accessKeyId === 'ASIAROLEKEY' && c.status === 200));
  } finally {
    provider.close();
    await Promise.all([emu.close(), imds.close()]);
  }
});
