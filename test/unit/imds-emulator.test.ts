/**
 * The IMDSv2 emulator: token issue and TTL, 401s without a valid token, the metadata paths an AWS
 * provider reads, and the SDK's own instance-metadata credential provider against it.
 * (@aws-sdk/credential-providers is not installed, so the protocol is asserted with fetch, plus the
 * @smithy/credential-provider-imds that the SDK's default chain uses underneath.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromInstanceMetadata } from '@smithy/credential-provider-imds';
import { AssignPrivateIpAddressesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  startImdsEmulator,
  imdsInstanceFromEc2,
  type ImdsEmulator,
  type ImdsInstance,
} from '../emulators/imds/index.js';
import { startEc2Emulator } from '../emulators/ec2/index.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const MAC = '02:00:00:00:00:0a';
const MAC2 = '02:00:00:00:00:0b';
const INSTANCE: ImdsInstance = {
  instanceId: 'i-0aaaaaaaaaaaaaaa1',
  region: 'eu-central-1',
  availabilityZone: 'eu-central-1b',
  accountId: '210987654321',
  interfaces: [
    {
      mac: MAC,
      interfaceId: 'eni-0aaaaaaaaaaaaaaa1',
      deviceNumber: 0,
      localIpv4s: ['10.0.1.10', '10.0.1.100'],
      publicIpv4s: ['198.51.100.7'],
      subnetId: 'subnet-0a',
      vpcId: 'vpc-0a',
    },
    { mac: MAC2, interfaceId: 'eni-0bbbbbbbbbbbbbbb2', deviceNumber: 1, localIpv4s: ['10.0.2.10'] },
  ],
  role: {
    name: 'floatip-node',
    accessKeyId: 'ASIAEMULATORKEY',
    secretAccessKey: 'emulator-secret',
    token: 'emulator-session-token',
    expiration: new Date('2030-01-01T00:00:00Z'),
  },
};

async function withImds(
  opts: Partial<Parameters<typeof startImdsEmulator>[0]>,
  fn: (imds: ImdsEmulator) => Promise<void>,
): Promise<void> {
  const imds = await startImdsEmulator({ instance: INSTANCE, ...opts });
  try {
    await fn(imds);
  } finally {
    await imds.close();
  }
}

async function token(imds: ImdsEmulator, ttl = '21600'): Promise<string> {
  const res = await fetch(`${imds.endpoint}/latest/api/token`, {
    method: 'PUT',
    headers: { 'x-aws-ec2-metadata-token-ttl-seconds': ttl },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-aws-ec2-metadata-token-ttl-seconds'), ttl);
  return res.text();
}

async function get(
  imds: ImdsEmulator,
  path: string,
  tok?: string,
): Promise<{ status: number; body: string }> {
  const res = await fetch(imds.endpoint + path, { headers: tok ? { 'x-aws-ec2-metadata-token': tok } : {} });
  return { status: res.status, body: await res.text() };
}

void test('PUT /latest/api/token needs a TTL of 1..21600 seconds; GET on it is 405; a forwarded PUT is 403', async () => {
  await withImds({}, async (imds) => {
    const put = (headers: Record<string, string>): Promise<Response> =>
      fetch(`${imds.endpoint}/latest/api/token`, { method: 'PUT', headers });
    assert.equal((await put({})).status, 400);
    assert.equal((await put({ 'x-aws-ec2-metadata-token-ttl-seconds': '0' })).status, 400);
    assert.equal((await put({ 'x-aws-ec2-metadata-token-ttl-seconds': '21601' })).status, 400);
    assert.equal((await put({ 'x-aws-ec2-metadata-token-ttl-seconds': 'abc' })).status, 400);
    assert.equal(
      (await put({ 'x-aws-ec2-metadata-token-ttl-seconds': '60', 'x-forwarded-for': '10.0.0.1' })).status,
      403,
    );
    assert.equal((await fetch(`${imds.endpoint}/latest/api/token`)).status, 405);
    assert.equal(imds.tokenRequests, 0, 'refused requests issue no token');
    const tok = await token(imds, '60');
    assert.ok(tok.length >= 40);
    assert.equal(imds.tokenRequests, 1);
  });
});

void test('GETs without a token, with an unknown token, or with an expired token are 401', async () => {
  let now = 1_000_000;
  await withImds({ clock: () => now }, async (imds) => {
    assert.equal((await get(imds, '/latest/meta-data/instance-id')).status, 401);
    assert.equal((await get(imds, '/latest/meta-data/instance-id', 'not-a-token')).status, 401);
    const tok = await token(imds, '10');
    assert.deepEqual(await get(imds, '/latest/meta-data/instance-id', tok), {
      status: 200,
      body: INSTANCE.instanceId,
    });
    now += 9_999;
    assert.equal((await get(imds, '/latest/meta-data/instance-id', tok)).status, 200);
    now += 1;
    assert.equal((await get(imds, '/latest/meta-data/instance-id', tok)).status, 401, 'TTL is enforced');
    const fresh = await token(imds);
    imds.expireTokens();
    assert.equal((await get(imds, '/latest/meta-data/instance-id', fresh)).status, 401);
  });
});

void test('httpTokens optional answers token-less GETs (IMDSv1) but still refuses a bad token', async () => {
  await withImds({ httpTokens: 'optional' }, async (imds) => {
    assert.deepEqual(await get(imds, '/latest/meta-data/instance-id'), {
      status: 200,
      body: INSTANCE.instanceId,
    });
    assert.equal((await get(imds, '/latest/meta-data/instance-id', 'bogus')).status, 401);
  });
});

void test('metadata paths: identity, placement, MAC, per-interface ids and IPs, listings, double slashes', async () => {
  await withImds({}, async (imds) => {
    const tok = await token(imds);
    const body = async (path: string): Promise<string> => {
      const r = await get(imds, path, tok);
      assert.equal(r.status, 200, `${path} -> ${r.status}`);
      return r.body;
    };
    assert.equal(await body('/latest/meta-data/placement/region'), 'eu-central-1');
    assert.equal(await body('/latest/meta-data/placement/availability-zone'), 'eu-central-1b');
    assert.equal(await body('/latest/meta-data/mac'), MAC);
    assert.equal(await body('/latest/meta-data/local-ipv4'), '10.0.1.10');
    assert.equal(await body('/latest/meta-data/public-ipv4'), '198.51.100.7');
    assert.equal(
      await body(`/latest/meta-data/network/interfaces/macs/${MAC}/interface-id`),
      'eni-0aaaaaaaaaaaaaaa1',
    );
    assert.equal(
      await body(`/latest/meta-data/network/interfaces/macs/${MAC}/local-ipv4s`),
      '10.0.1.10\n10.0.1.100',
    );
    assert.equal(await body(`/latest/meta-data/network/interfaces/macs/${MAC2}/device-number`), '1');
    assert.equal(await body('/latest/meta-data/network/interfaces/macs/'), `${MAC}/\n${MAC2}/`);
    assert.match(await body('/latest/meta-data/'), /^ami-id\ninstance-id\n/m);
    assert.match(await body('/latest/meta-data/'), /^placement\/$/m);
    assert.equal(await body('//latest/meta-data/instance-id'), INSTANCE.instanceId);
    assert.equal(await body('/latest//meta-data//placement/region'), 'eu-central-1');
    assert.equal((await get(imds, '/latest/meta-data/no-such-thing', tok)).status, 404);
    const doc = JSON.parse(await body('/latest/dynamic/instance-identity/document')) as Record<
      string,
      unknown
    >;
    assert.equal(doc.instanceId, INSTANCE.instanceId);
    assert.equal(doc.region, 'eu-central-1');
    assert.equal(doc.availabilityZone, 'eu-central-1b');
    assert.equal(doc.accountId, '210987654321');
    assert.equal(doc.privateIp, '10.0.1.10');
  });
});

void test('role credentials: the role listing and its JSON document with Expiration', async () => {
  await withImds({}, async (imds) => {
    const tok = await token(imds);
    assert.deepEqual(await get(imds, '/latest/meta-data/iam/security-credentials/', tok), {
      status: 200,
      body: 'floatip-node',
    });
    const creds = JSON.parse(
      (await get(imds, '/latest/meta-data/iam/security-credentials/floatip-node', tok)).body,
    ) as Record<string, string>;
    assert.equal(creds.Code, 'Success');
    assert.equal(creds.Type, 'AWS-HMAC');
    assert.equal(creds.AccessKeyId, 'ASIAEMULATORKEY');
    assert.equal(creds.SecretAccessKey, 'emulator-secret');
    assert.equal(creds.Token, 'emulator-session-token');
    assert.equal(creds.Expiration, '2030-01-01T00:00:00Z');
  });
  await withImds({ instance: { ...INSTANCE, role: null } }, async (imds) => {
    const tok = await token(imds);
    assert.equal((await get(imds, '/latest/meta-data/iam/security-credentials/', tok)).status, 404);
  });
});

void test("the SDK's instance-metadata credential provider gets the role credentials through IMDSv2", async () => {
  await withImds({}, async (imds) => {
    const saved = process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
    process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = imds.endpoint;
    try {
      const provider = fromInstanceMetadata({ timeout: 2000, maxRetries: 0 });
      const creds = await provider();
      assert.equal(creds.accessKeyId, 'ASIAEMULATORKEY');
      assert.equal(creds.secretAccessKey, 'emulator-secret');
      assert.equal(creds.sessionToken, 'emulator-session-token');
      assert.equal(creds.expiration?.toISOString(), '2030-01-01T00:00:00.000Z');
      assert.equal(imds.tokenRequests, 1);
      assert.ok(
        imds.requests.filter((r) => r.method === 'GET').every((r) => r.withToken && r.status === 200),
        'every GET carried the session token',
      );
    } finally {
      if (saved === undefined) delete process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
      else process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = saved;
    }
  });
});

void test('backed by the EC2 emulator, local-ipv4s follow AssignPrivateIpAddresses', async () => {
  const ec2emu = await startEc2Emulator({
    seed: {
      instances: [{ instanceId: 'i-0aaaaaaaaaaaaaaa1' }],
      networkInterfaces: [
        {
          networkInterfaceId: 'eni-0aaaaaaaaaaaaaaa1',
          subnetId: 'subnet-0a',
          vpcId: 'vpc-0a',
          macAddress: MAC,
          privateIpAddress: '10.0.1.10',
          attachment: { instanceId: 'i-0aaaaaaaaaaaaaaa1', deviceIndex: 0 },
        },
      ],
    },
  });
  const imds = await startImdsEmulator({
    instance: imdsInstanceFromEc2(ec2emu.state, 'i-0aaaaaaaaaaaaaaa1'),
  });
  const ec2 = new EC2Client({
    endpoint: ec2emu.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  try {
    const tok = await token(imds);
    const path = `/latest/meta-data/network/interfaces/macs/${MAC}/local-ipv4s`;
    assert.equal((await get(imds, path, tok)).body, '10.0.1.10');
    await ec2.send(
      new AssignPrivateIpAddressesCommand({
        NetworkInterfaceId: 'eni-0aaaaaaaaaaaaaaa1',
        PrivateIpAddresses: ['10.0.1.100'],
      }),
    );
    assert.equal((await get(imds, path, tok)).body, '10.0.1.10\n10.0.1.100');
    assert.equal((await get(imds, '/latest/meta-data/placement/region', tok)).body, 'us-east-1');
  } finally {
    ec2.destroy();
    await imds.close();
    await ec2emu.close();
  }
});
