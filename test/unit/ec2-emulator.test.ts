/**
 * The EC2 emulator driven by the real @aws-sdk/client-ec2: every action, every error code as the
 * SDK's typed error, SDK retries on throttling and 5xx, the IAM allow-list and eventual consistency.
 * A few raw-HTTP checks pin the envelope itself (auth, headers, unknown action).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  AssignPrivateIpAddressesCommand,
  AssociateAddressCommand,
  CreateRouteCommand,
  DeleteRouteCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DisassociateAddressCommand,
  EC2Client,
  ReplaceRouteCommand,
  UnassignPrivateIpAddressesCommand,
  type EC2ServiceException,
} from '@aws-sdk/client-ec2';
import {
  decodeAuthorizationMessage,
  startEc2Emulator,
  type Ec2Emulator,
  type Ec2EmulatorOptions,
  type Ec2Seed,
} from '../emulators/ec2/index.js';

// Quiet the SDK's Node 20 end-of-support notice, which is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const I_A = 'i-0aaaaaaaaaaaaaaa1';
const I_B = 'i-0bbbbbbbbbbbbbbb2';
const I_MULTI = 'i-0ccccccccccccccc3';
const ENI_A = 'eni-0aaaaaaaaaaaaaaa1';
const ENI_B = 'eni-0bbbbbbbbbbbbbbb2';
const ENI_C0 = 'eni-0ccccccccccccccc0';
const ENI_C1 = 'eni-0ccccccccccccccc1';
const EIP = 'eipalloc-0aaaaaaaaaaaaaaa1';
const EIP2 = 'eipalloc-0bbbbbbbbbbbbbbb2';
const RTB = 'rtb-0aaaaaaaaaaaaaaa1';
const VIP = '10.0.1.100';

function seed(): Ec2Seed {
  return {
    subnets: [
      { subnetId: 'subnet-0a', vpcId: 'vpc-0a', cidrBlock: '10.0.1.0/24', availabilityZone: 'us-east-1a' },
    ],
    instances: [{ instanceId: I_A }, { instanceId: I_B }, { instanceId: I_MULTI }],
    networkInterfaces: [
      {
        networkInterfaceId: ENI_A,
        subnetId: 'subnet-0a',
        vpcId: 'vpc-0a',
        macAddress: '02:00:00:00:00:0a',
        privateIpAddress: '10.0.1.10',
        secondaryPrivateIpAddresses: [VIP],
        attachment: { instanceId: I_A, deviceIndex: 0 },
      },
      {
        networkInterfaceId: ENI_B,
        subnetId: 'subnet-0a',
        vpcId: 'vpc-0a',
        macAddress: '02:00:00:00:00:0b',
        privateIpAddress: '10.0.1.11',
        sourceDestCheck: false,
        attachment: { instanceId: I_B, deviceIndex: 0 },
      },
      {
        networkInterfaceId: ENI_C0,
        subnetId: 'subnet-0a',
        vpcId: 'vpc-0a',
        privateIpAddress: '10.0.1.12',
        attachment: { instanceId: I_MULTI, deviceIndex: 0 },
      },
      {
        networkInterfaceId: ENI_C1,
        subnetId: 'subnet-0a',
        vpcId: 'vpc-0a',
        privateIpAddress: '10.0.1.13',
        attachment: { instanceId: I_MULTI, deviceIndex: 1 },
      },
    ],
    addresses: [
      {
        allocationId: EIP,
        publicIp: '198.51.100.7',
        association: { networkInterfaceId: ENI_A, privateIpAddress: VIP },
      },
      { allocationId: EIP2, publicIp: '198.51.100.8' },
    ],
    routeTables: [
      {
        routeTableId: RTB,
        vpcId: 'vpc-0a',
        main: true,
        routes: [
          { destinationCidrBlock: '10.0.0.0/16', gatewayId: 'local' },
          { destinationCidrBlock: '0.0.0.0/0', gatewayId: 'igw-0aaaaaaaaaaaaaaa1' },
          { destinationCidrBlock: '192.168.100.0/24', networkInterfaceId: ENI_A },
        ],
      },
    ],
  };
}

function client(emu: Ec2Emulator, maxAttempts = 1, region = 'us-east-1'): EC2Client {
  return new EC2Client({
    endpoint: emu.endpoint,
    region,
    credentials: { accessKeyId: 'AKIDEMULATORTEST', secretAccessKey: 'not-checked' },
    maxAttempts,
  });
}

async function withEmu(
  opts: Ec2EmulatorOptions,
  fn: (emu: Ec2Emulator, ec2: EC2Client) => Promise<void>,
  maxAttempts = 1,
): Promise<void> {
  const emu = await startEc2Emulator({ seed: seed(), ...opts });
  const ec2 = client(emu, maxAttempts);
  try {
    await fn(emu, ec2);
  } finally {
    ec2.destroy();
    await emu.close();
  }
}

/** Asserts the SDK surfaced an EC2 error with this code and HTTP status. */
async function rejectsWith(
  p: Promise<unknown>,
  code: string,
  status: number,
  message?: RegExp,
): Promise<EC2ServiceException> {
  try {
    await p;
  } catch (e) {
    const err = e as EC2ServiceException;
    assert.equal(err.name, code, `expected ${code}, got ${err.name}: ${err.message}`);
    assert.equal(err.$metadata.httpStatusCode, status);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected ${code}, but the call succeeded`);
}

const FAKE_AUTH =
  'AWS4-HMAC-SHA256 Credential=AKIDRAW/20250101/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=' +
  '0'.repeat(64);

async function rawPost(
  emu: Ec2Emulator,
  body: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(emu.endpoint + '/', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
}

// ---------------------------------------------------------------- envelope and auth

void test('a signed success response is the 2016-11-15 XML envelope with request id and Date headers', async () => {
  await withEmu({}, async (emu) => {
    const res = await rawPost(emu, `Action=DescribeAddresses&Version=2016-11-15&AllocationId.1=${EIP}`, {
      authorization: FAKE_AUTH,
      'x-amz-date': '20250101T000000Z',
    });
    assert.equal(res.status, 200);
    const requestId = res.headers.get('x-amzn-requestid');
    assert.match(requestId ?? '', /^[0-9a-f-]{36}$/);
    assert.match(res.headers.get('content-type') ?? '', /^text\/xml/);
    const date = Date.parse(res.headers.get('date') ?? '');
    assert.ok(Math.abs(date - Date.now()) < 60_000, 'Date header is a current RFC 7231 date');
    const xml = await res.text();
    assert.match(
      xml,
      new RegExp(
        `^<\\?xml version="1.0" encoding="UTF-8"\\?>\\n<DescribeAddressesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${requestId}</requestId><addressesSet><item><publicIp>198.51.100.7</publicIp><allocationId>${EIP}</allocationId>`,
      ),
    );
  });
});

void test('a request without SigV4 Authorization is refused with AuthFailure 401 in the Response/Errors envelope', async () => {
  await withEmu({}, async (emu) => {
    const res = await rawPost(emu, 'Action=DescribeAddresses&Version=2016-11-15');
    assert.equal(res.status, 401);
    const xml = await res.text();
    const requestId = res.headers.get('x-amzn-requestid');
    assert.match(
      xml,
      new RegExp(
        `<Response><Errors><Error><Code>AuthFailure</Code><Message>[^<]+</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>$`,
      ),
    );
    const wrongService = await rawPost(emu, 'Action=DescribeAddresses&Version=2016-11-15', {
      authorization: FAKE_AUTH.replace('/ec2/', '/s3/'),
      'x-amz-date': '20250101T000000Z',
    });
    assert.equal(wrongService.status, 401);
    assert.match(
      await wrongService.text(),
      /<Code>AuthFailure<\/Code><Message>Credential should be scoped to correct service/,
    );
    assert.equal(emu.calls.count('DescribeAddresses', { errorCode: 'AuthFailure' }), 2);
  });
});

void test('an SDK signing for another region gets AuthFailure; a restricted key list refuses other keys', async () => {
  await withEmu({ accessKeyIds: ['AKIDSOMEONEELSE'] }, async (emu) => {
    const wrongRegion = client(emu, 1, 'eu-west-1');
    await rejectsWith(wrongRegion.send(new DescribeAddressesCommand({})), 'AuthFailure', 401, /region/);
    wrongRegion.destroy();
    const ec2 = client(emu);
    await rejectsWith(ec2.send(new DescribeAddressesCommand({})), 'AuthFailure', 401);
    ec2.destroy();
  });
});

void test('an unknown action is InvalidAction 400; a missing one is MissingAction', async () => {
  await withEmu({}, async (emu) => {
    const headers = { authorization: FAKE_AUTH, 'x-amz-date': '20250101T000000Z' };
    const res = await rawPost(emu, 'Action=LaunchRockets&Version=2016-11-15', headers);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /<Code>InvalidAction<\/Code>/);
    const missing = await rawPost(emu, 'Version=2016-11-15', headers);
    assert.equal(missing.status, 400);
    assert.match(await missing.text(), /<Code>MissingAction<\/Code>/);
  });
});

void test('the call log records the flattened ec2Query parameters the SDK sent', async () => {
  await withEmu({}, async (emu, ec2) => {
    await ec2.send(
      new DescribeAddressesCommand({
        AllocationIds: [EIP, EIP2],
        Filters: [{ Name: 'domain', Values: ['vpc', 'standard'] }],
      }),
    );
    await ec2.send(
      new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: ENI_B, PrivateIpAddresses: ['10.0.1.50'] }),
    );
    const [describe, assign] = emu.calls.all;
    assert.deepEqual(describe?.params, {
      Action: 'DescribeAddresses',
      Version: '2016-11-15',
      'AllocationId.1': EIP,
      'AllocationId.2': EIP2,
      'Filter.1.Name': 'domain',
      'Filter.1.Value.1': 'vpc',
      'Filter.1.Value.2': 'standard',
    });
    assert.equal(assign?.params['PrivateIpAddress.1'], '10.0.1.50');
    assert.equal(assign?.status, 200);
    assert.equal(assign?.accessKeyId, 'AKIDEMULATORTEST');
  });
});

void test('DryRun answers DryRunOperation 412 when allowed and changes nothing', async () => {
  await withEmu({}, async (emu, ec2) => {
    await rejectsWith(
      ec2.send(new AssociateAddressCommand({ AllocationId: EIP, NetworkInterfaceId: ENI_B, DryRun: true })),
      'DryRunOperation',
      412,
    );
    assert.equal(emu.state.addresses.get(EIP)?.association?.networkInterfaceId, ENI_A);
  });
});

// ---------------------------------------------------------------- addresses

void test('DescribeAddresses by id, public IP and each filter', async () => {
  await withEmu({}, async (_emu, ec2) => {
    const byId = await ec2.send(new DescribeAddressesCommand({ AllocationIds: [EIP] }));
    assert.equal(byId.Addresses?.length, 1);
    const a = byId.Addresses?.[0];
    assert.ok(a);
    assert.equal(a.PublicIp, '198.51.100.7');
    assert.equal(a.Domain, 'vpc');
    assert.equal(a.NetworkInterfaceId, ENI_A);
    assert.equal(a.PrivateIpAddress, VIP);
    assert.equal(a.InstanceId, I_A);
    assert.match(a.AssociationId ?? '', /^eipassoc-[0-9a-f]{17}$/);

    const byIp = await ec2.send(new DescribeAddressesCommand({ PublicIps: ['198.51.100.8'] }));
    assert.deepEqual(
      byIp.Addresses?.map((x) => [x.AllocationId, x.AssociationId]),
      [[EIP2, undefined]],
    );

    const filtered = async (Name: string, Values: string[]): Promise<string[]> =>
      ((await ec2.send(new DescribeAddressesCommand({ Filters: [{ Name, Values }] }))).Addresses ?? []).map(
        (x) => x.AllocationId!,
      );
    assert.deepEqual(await filtered('allocation-id', [EIP2]), [EIP2]);
    assert.deepEqual(await filtered('association-id', [a.AssociationId ?? '']), [EIP]);
    assert.deepEqual(await filtered('network-interface-id', [ENI_A]), [EIP]);
    assert.deepEqual(await filtered('private-ip-address', [VIP]), [EIP]);
    assert.deepEqual(await filtered('instance-id', [I_A]), [EIP]);
    assert.deepEqual(await filtered('public-ip', ['198.51.100.*']), [EIP, EIP2]);
    assert.deepEqual(await filtered('domain', ['vpc']), [EIP, EIP2]);
    assert.deepEqual(await filtered('instance-id', [I_B]), []);
  });
});

void test('DescribeAddresses errors: unknown id, malformed id, unknown public IP, unknown filter', async () => {
  await withEmu({}, async (_emu, ec2) => {
    await rejectsWith(
      ec2.send(new DescribeAddressesCommand({ AllocationIds: ['eipalloc-0123456789abcdef0'] })),
      'InvalidAllocationID.NotFound',
      400,
      /eipalloc-0123456789abcdef0/,
    );
    await rejectsWith(
      ec2.send(new DescribeAddressesCommand({ AllocationIds: ['eip-1'] })),
      'InvalidAllocationID.Malformed',
      400,
    );
    await rejectsWith(
      ec2.send(new DescribeAddressesCommand({ PublicIps: ['203.0.113.1'] })),
      'InvalidAddress.NotFound',
      400,
    );
    await rejectsWith(
      ec2.send(new DescribeAddressesCommand({ Filters: [{ Name: 'colour', Values: ['blue'] }] })),
      'InvalidParameterValue',
      400,
      /colour/,
    );
  });
});

void test('AssociateAddress moves an associated EIP (reassociation is automatic) and returns a new association id', async () => {
  await withEmu({}, async (emu, ec2) => {
    const before = emu.state.addresses.get(EIP)!.association!.associationId;
    const out = await ec2.send(new AssociateAddressCommand({ AllocationId: EIP, NetworkInterfaceId: ENI_B }));
    assert.match(out.AssociationId ?? '', /^eipassoc-/);
    assert.notEqual(out.AssociationId, before);
    assert.deepEqual(emu.state.addresses.get(EIP)?.association, {
      associationId: out.AssociationId,
      networkInterfaceId: ENI_B,
      privateIpAddress: '10.0.1.11',
    });
    // Repeating the same association is not an error and keeps the association.
    const again = await ec2.send(
      new AssociateAddressCommand({ AllocationId: EIP, NetworkInterfaceId: ENI_B }),
    );
    assert.equal(again.AssociationId, out.AssociationId);
    assert.equal(emu.calls.count('AssociateAddress', { ok: true }), 2);
  });
});

void test('AssociateAddress with AllowReassociation=false, or in explicit mode without it, is Resource.AlreadyAssociated', async () => {
  await withEmu({}, async (emu, ec2) => {
    await rejectsWith(
      ec2.send(
        new AssociateAddressCommand({
          AllocationId: EIP,
          NetworkInterfaceId: ENI_B,
          AllowReassociation: false,
        }),
      ),
      'Resource.AlreadyAssociated',
      400,
      new RegExp(`resource ${EIP} is already associated with associate-id eipassoc-`),
    );
    emu.setKnobs({ reassociation: 'explicit' });
    await rejectsWith(
      ec2.send(new AssociateAddressCommand({ AllocationId: EIP, NetworkInterfaceId: ENI_B })),
      'Resource.AlreadyAssociated',
      400,
    );
    assert.equal(emu.state.addresses.get(EIP)?.association?.networkInterfaceId, ENI_A);
    await ec2.send(
      new AssociateAddressCommand({ AllocationId: EIP, NetworkInterfaceId: ENI_B, AllowReassociation: true }),
    );
    assert.equal(emu.state.addresses.get(EIP)?.association?.networkInterfaceId, ENI_B);
  });
});

void test('AssociateAddress by InstanceId, to a secondary IP, and displacing the EIP already on that IP', async () => {
  await withEmu({}, async (emu, ec2) => {
    await ec2.send(new AssociateAddressCommand({ AllocationId: EIP2, InstanceId: I_B }));
    assert.equal(emu.state.addresses.get(EIP2)?.association?.networkInterfaceId, ENI_B);
    // EIP2 takes over VIP on ENI_A: EIP, which was there, is disassociated but stays allocated.
    await ec2.send(
      new AssociateAddressCommand({ AllocationId: EIP2, NetworkInterfaceId: ENI_A, PrivateIpAddress: VIP }),
    );
    assert.deepEqual(
      [
        emu.state.addresses.get(EIP2)?.association?.privateIpAddress,
        emu.state.addresses.get(EIP)?.association,
      ],
      [VIP, null],
    );
  });
});

void test('AssociateAddress errors: unknown allocation, unknown ENI/instance, IP not on the ENI, ambiguous instance', async () => {
  await withEmu({}, async (emu, ec2) => {
    await rejectsWith(
      ec2.send(
        new AssociateAddressCommand({
          AllocationId: 'eipalloc-0ffffffffffffffff',
          NetworkInterfaceId: ENI_B,
        }),
      ),
      'InvalidAllocationID.NotFound',
      400,
    );
    await rejectsWith(
      ec2.send(
        new AssociateAddressCommand({ AllocationId: EIP, NetworkInterfaceId: 'eni-0ffffffffffffffff' }),
      ),
      'InvalidNetworkInterfaceID.NotFound',
      400,
    );
    await rejectsWith(
      ec2.send(new AssociateAddressCommand({ AllocationId: EIP, InstanceId: 'i-0ffffffffffffffff' })),
      'InvalidInstanceID.NotFound',
      400,
    );
    await rejectsWith(
      ec2.send(
        new AssociateAddressCommand({ AllocationId: EIP, NetworkInterfaceId: ENI_B, PrivateIpAddress: VIP }),
      ),
      'InvalidParameterValue',
      400,
      /not assigned to network interface/,
    );
    await rejectsWith(
      ec2.send(new AssociateAddressCommand({ AllocationId: EIP, InstanceId: I_MULTI })),
      'InvalidInstanceID',
      400,
      /multiple interfaces/,
    );
    await rejectsWith(
      ec2.send(
        new AssociateAddressCommand({ AllocationId: EIP, InstanceId: I_B, NetworkInterfaceId: ENI_B }),
      ),
      'InvalidParameterCombination',
      400,
    );
    assert.equal(
      emu.state.addresses.get(EIP)?.association?.networkInterfaceId,
      ENI_A,
      'failed calls change nothing',
    );
  });
});

void test('DisassociateAddress by association id; unknown association is InvalidAssociationID.NotFound', async () => {
  await withEmu({}, async (emu, ec2) => {
    const associationId = emu.state.addresses.get(EIP)!.association!.associationId;
    await ec2.send(new DisassociateAddressCommand({ AssociationId: associationId }));
    assert.equal(emu.state.addresses.get(EIP)?.association, null);
    await rejectsWith(
      ec2.send(new DisassociateAddressCommand({ AssociationId: associationId })),
      'InvalidAssociationID.NotFound',
      400,
    );
  });
});

// ---------------------------------------------------------------- network interfaces

void test('DescribeNetworkInterfaces shows IPs, association, attachment, sourceDestCheck and MAC', async () => {
  await withEmu({}, async (_emu, ec2) => {
    const out = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [ENI_A, ENI_B] }));
    const [a, b] = out.NetworkInterfaces ?? [];
    assert.equal(a?.NetworkInterfaceId, ENI_A);
    assert.equal(a?.MacAddress, '02:00:00:00:00:0a');
    assert.equal(a?.PrivateIpAddress, '10.0.1.10');
    assert.equal(a?.SourceDestCheck, true);
    assert.equal(a?.SubnetId, 'subnet-0a');
    assert.equal(a?.VpcId, 'vpc-0a');
    assert.deepEqual(
      {
        InstanceId: a?.Attachment?.InstanceId,
        DeviceIndex: a?.Attachment?.DeviceIndex,
        Status: a?.Attachment?.Status,
      },
      { InstanceId: I_A, DeviceIndex: 0, Status: 'attached' },
    );
    assert.deepEqual(
      a?.PrivateIpAddresses?.map((p) => [
        p.PrivateIpAddress,
        p.Primary,
        p.Association?.PublicIp,
        p.Association?.AllocationId,
      ]),
      [
        ['10.0.1.10', true, undefined, undefined],
        [VIP, false, '198.51.100.7', EIP],
      ],
    );
    assert.equal(a?.Association, undefined, 'the ENI-level association is the primary IP’s, and it has none');
    assert.equal(b?.SourceDestCheck, false);
  });
});

void test('DescribeNetworkInterfaces filters', async () => {
  await withEmu({}, async (_emu, ec2) => {
    const ids = async (Name: string, Values: string[]): Promise<string[]> =>
      (
        (await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name, Values }] })))
          .NetworkInterfaces ?? []
      ).map((n) => n.NetworkInterfaceId!);
    assert.deepEqual(await ids('addresses.private-ip-address', [VIP]), [ENI_A]);
    assert.deepEqual(await ids('private-ip-address', ['10.0.1.11']), [ENI_B]);
    assert.deepEqual(await ids('attachment.instance-id', [I_MULTI]), [ENI_C0, ENI_C1]);
    assert.deepEqual(await ids('mac-address', ['02:00:00:00:00:0b']), [ENI_B]);
    assert.deepEqual(await ids('network-interface-id', [ENI_A, ENI_B]), [ENI_A, ENI_B]);
    assert.deepEqual((await ids('subnet-id', ['subnet-0a'])).length, 4);
    assert.deepEqual(await ids('vpc-id', ['vpc-other']), []);
    // Two filters AND together.
    const both = await ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [
          { Name: 'vpc-id', Values: ['vpc-0a'] },
          { Name: 'attachment.instance-id', Values: [I_B] },
        ],
      }),
    );
    assert.deepEqual(
      both.NetworkInterfaces?.map((n) => n.NetworkInterfaceId),
      [ENI_B],
    );
    await rejectsWith(
      ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ['eni-0ffffffffffffffff'] })),
      'InvalidNetworkInterfaceID.NotFound',
      400,
    );
  });
});

void test('AssignPrivateIpAddresses: a free IP is added; one held elsewhere needs AllowReassignment and then moves with its EIP', async () => {
  await withEmu({}, async (emu, ec2) => {
    const out = await ec2.send(
      new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: ENI_B, PrivateIpAddresses: ['10.0.1.50'] }),
    );
    assert.equal(out.NetworkInterfaceId, ENI_B);
    assert.deepEqual(
      out.AssignedPrivateIpAddresses?.map((p) => p.PrivateIpAddress),
      ['10.0.1.50'],
    );

    await rejectsWith(
      ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: ENI_B, PrivateIpAddresses: [VIP] })),
      'InvalidParameterValue',
      400,
      /already assigned/,
    );
    assert.ok(emu.state.networkInterfaces.get(ENI_A)!.privateIps.some((p) => p.address === VIP));

    await ec2.send(
      new AssignPrivateIpAddressesCommand({
        NetworkInterfaceId: ENI_B,
        PrivateIpAddresses: [VIP],
        AllowReassignment: true,
      }),
    );
    assert.deepEqual(
      emu.state.networkInterfaces.get(ENI_A)!.privateIps.map((p) => p.address),
      ['10.0.1.10'],
    );
    assert.deepEqual(
      emu.state.networkInterfaces.get(ENI_B)!.privateIps.map((p) => p.address),
      ['10.0.1.11', '10.0.1.50', VIP],
    );
    assert.equal(
      emu.state.addresses.get(EIP)?.association?.networkInterfaceId,
      ENI_B,
      'the EIP follows its private IP',
    );
  });
});

void test('AssignPrivateIpAddresses errors: primary IPs never move, the subnet range holds, unknown ENI', async () => {
  await withEmu({}, async (_emu, ec2) => {
    await rejectsWith(
      ec2.send(
        new AssignPrivateIpAddressesCommand({
          NetworkInterfaceId: ENI_B,
          PrivateIpAddresses: ['10.0.1.10'],
          AllowReassignment: true,
        }),
      ),
      'InvalidParameterValue',
      400,
      /primary/,
    );
    await rejectsWith(
      ec2.send(
        new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: ENI_B, PrivateIpAddresses: ['10.0.2.5'] }),
      ),
      'InvalidParameterValue',
      400,
      /subnet/,
    );
    await rejectsWith(
      ec2.send(
        new AssignPrivateIpAddressesCommand({
          NetworkInterfaceId: 'eni-0ffffffffffffffff',
          PrivateIpAddresses: [VIP],
        }),
      ),
      'InvalidNetworkInterfaceID.NotFound',
      400,
    );
  });
});

void test('AssignPrivateIpAddresses with a count picks free addresses in the subnet', async () => {
  await withEmu({}, async (emu, ec2) => {
    const out = await ec2.send(
      new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: ENI_B, SecondaryPrivateIpAddressCount: 2 }),
    );
    assert.deepEqual(
      out.AssignedPrivateIpAddresses?.map((p) => p.PrivateIpAddress),
      ['10.0.1.4', '10.0.1.5'],
    );
    assert.equal(emu.state.networkInterfaces.get(ENI_B)?.privateIps.length, 3);
  });
});

void test('UnassignPrivateIpAddresses removes a secondary IP and releases its EIP; foreign and primary IPs are refused', async () => {
  await withEmu({}, async (emu, ec2) => {
    await rejectsWith(
      ec2.send(
        new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: ENI_B, PrivateIpAddresses: [VIP] }),
      ),
      'InvalidParameterValue',
      400,
      /not assigned to interface/,
    );
    await rejectsWith(
      ec2.send(
        new UnassignPrivateIpAddressesCommand({
          NetworkInterfaceId: ENI_A,
          PrivateIpAddresses: ['10.0.1.10'],
        }),
      ),
      'InvalidParameterValue',
      400,
      /primary/,
    );
    await ec2.send(
      new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: ENI_A, PrivateIpAddresses: [VIP] }),
    );
    assert.deepEqual(
      emu.state.networkInterfaces.get(ENI_A)!.privateIps.map((p) => p.address),
      ['10.0.1.10'],
    );
    assert.equal(emu.state.addresses.get(EIP)?.association, null);
  });
});

// ---------------------------------------------------------------- routes

void test('DescribeRouteTables shows routes with targets and state, and filters', async () => {
  await withEmu({}, async (_emu, ec2) => {
    const out = await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [RTB] }));
    const routes = out.RouteTables?.[0]?.Routes ?? [];
    assert.deepEqual(
      routes.map((r) => [r.DestinationCidrBlock, r.GatewayId ?? r.NetworkInterfaceId, r.InstanceId, r.State]),
      [
        ['10.0.0.0/16', 'local', undefined, 'active'],
        ['0.0.0.0/0', 'igw-0aaaaaaaaaaaaaaa1', undefined, 'active'],
        ['192.168.100.0/24', ENI_A, I_A, 'active'],
      ],
    );
    assert.equal(out.RouteTables?.[0]?.Associations?.[0]?.Main, true);
    const count = async (Name: string, Values: string[]): Promise<number> =>
      ((await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name, Values }] }))).RouteTables ?? [])
        .length;
    assert.equal(await count('route-table-id', [RTB]), 1);
    assert.equal(await count('vpc-id', ['vpc-0a']), 1);
    assert.equal(await count('vpc-id', ['vpc-zz']), 0);
    assert.equal(await count('route.destination-cidr-block', ['192.168.100.0/24']), 1);
    assert.equal(await count('route.destination-cidr-block', ['172.16.0.0/12']), 0);
    await rejectsWith(
      ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: ['rtb-0ffffffffffffffff'] })),
      'InvalidRouteTableID.NotFound',
      400,
    );
  });
});

void test('ReplaceRoute retargets a route; a missing route, an unknown table and the local route are refused', async () => {
  await withEmu({}, async (emu, ec2) => {
    await ec2.send(
      new ReplaceRouteCommand({
        RouteTableId: RTB,
        DestinationCidrBlock: '192.168.100.0/24',
        NetworkInterfaceId: ENI_B,
      }),
    );
    assert.deepEqual(emu.state.routeTables.get(RTB)?.routes[2]?.target, {
      kind: 'networkInterface',
      networkInterfaceId: ENI_B,
    });
    await rejectsWith(
      ec2.send(
        new ReplaceRouteCommand({
          RouteTableId: RTB,
          DestinationCidrBlock: '10.9.0.0/24',
          NetworkInterfaceId: ENI_B,
        }),
      ),
      'InvalidParameterValue',
      400,
      /There is no route defined for '10\.9\.0\.0\/24' in the route table/,
    );
    await rejectsWith(
      ec2.send(
        new ReplaceRouteCommand({
          RouteTableId: 'rtb-0ffffffffffffffff',
          DestinationCidrBlock: '192.168.100.0/24',
          NetworkInterfaceId: ENI_B,
        }),
      ),
      'InvalidRouteTableID.NotFound',
      400,
    );
    await rejectsWith(
      ec2.send(
        new ReplaceRouteCommand({
          RouteTableId: RTB,
          DestinationCidrBlock: '10.0.0.0/16',
          NetworkInterfaceId: ENI_B,
        }),
      ),
      'InvalidParameterValue',
      400,
      /local route/,
    );
    // An instance target resolves to its ENI; an instance with two ENIs is ambiguous.
    await ec2.send(
      new ReplaceRouteCommand({
        RouteTableId: RTB,
        DestinationCidrBlock: '192.168.100.0/24',
        InstanceId: I_A,
      }),
    );
    assert.deepEqual(emu.state.routeTables.get(RTB)?.routes[2]?.target, {
      kind: 'networkInterface',
      networkInterfaceId: ENI_A,
    });
    await rejectsWith(
      ec2.send(
        new ReplaceRouteCommand({
          RouteTableId: RTB,
          DestinationCidrBlock: '192.168.100.0/24',
          InstanceId: I_MULTI,
        }),
      ),
      'InvalidInstanceID',
      400,
    );
  });
});

void test('CreateRoute adds a route and refuses a duplicate; DeleteRoute removes it and refuses a missing one', async () => {
  await withEmu({}, async (emu, ec2) => {
    await ec2.send(
      new CreateRouteCommand({ RouteTableId: RTB, DestinationCidrBlock: '172.16.0.0/12', InstanceId: I_B }),
    );
    const created = await ec2.send(
      new DescribeRouteTablesCommand({
        Filters: [{ Name: 'route.destination-cidr-block', Values: ['172.16.0.0/12'] }],
      }),
    );
    const route = created.RouteTables?.[0]?.Routes?.find((r) => r.DestinationCidrBlock === '172.16.0.0/12');
    assert.deepEqual(
      [route?.NetworkInterfaceId, route?.InstanceId, route?.Origin],
      [ENI_B, I_B, 'CreateRoute'],
    );
    await rejectsWith(
      ec2.send(
        new CreateRouteCommand({
          RouteTableId: RTB,
          DestinationCidrBlock: '172.16.0.0/12',
          NetworkInterfaceId: ENI_A,
        }),
      ),
      'RouteAlreadyExists',
      400,
      /172\.16\.0\.0\/12/,
    );
    await rejectsWith(
      ec2.send(
        new CreateRouteCommand({
          RouteTableId: RTB,
          DestinationCidrBlock: '172.16.0/12',
          NetworkInterfaceId: ENI_A,
        }),
      ),
      'InvalidParameterValue',
      400,
    );
    await ec2.send(new DeleteRouteCommand({ RouteTableId: RTB, DestinationCidrBlock: '172.16.0.0/12' }));
    assert.equal(emu.state.routeTables.get(RTB)?.routes.length, 3);
    await rejectsWith(
      ec2.send(new DeleteRouteCommand({ RouteTableId: RTB, DestinationCidrBlock: '172.16.0.0/12' })),
      'InvalidRoute.NotFound',
      400,
    );
  });
});

void test('a route to the ENI of a stopped instance is a blackhole', async () => {
  await withEmu({}, async (emu, ec2) => {
    emu.state.instances.get(I_A)!.state = 'stopped';
    const out = await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [RTB] }));
    assert.equal(out.RouteTables?.[0]?.Routes?.[2]?.State, 'blackhole');
  });
});

// ---------------------------------------------------------------- instances

void test('DescribeInstances returns identity, primary IP, ENIs and public IP; unknown id is InvalidInstanceID.NotFound', async () => {
  await withEmu({}, async (_emu, ec2) => {
    await ec2.send(new AssociateAddressCommand({ AllocationId: EIP2, InstanceId: I_B }));
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [I_B] }));
    const inst = out.Reservations?.[0]?.Instances?.[0];
    assert.equal(inst?.InstanceId, I_B);
    assert.equal(inst?.State?.Name, 'running');
    assert.equal(inst?.PrivateIpAddress, '10.0.1.11');
    assert.equal(inst?.PublicIpAddress, '198.51.100.8');
    assert.equal(inst?.Placement?.AvailabilityZone, 'us-east-1a');
    assert.equal(inst?.VpcId, 'vpc-0a');
    assert.deepEqual(
      inst?.NetworkInterfaces?.map((n) => [n.NetworkInterfaceId, n.MacAddress, n.Attachment?.DeviceIndex]),
      [[ENI_B, '02:00:00:00:00:0b', 0]],
    );
    await rejectsWith(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0ffffffffffffffff'] })),
      'InvalidInstanceID.NotFound',
      400,
    );
  });
});

// ---------------------------------------------------------------- faults

void test('RequestLimitExceeded is HTTP 503, and the SDK retries it: two throttles then success is three logged calls', async () => {
  await withEmu(
    {},
    async (emu, ec2) => {
      emu.injectFault({ code: 'RequestLimitExceeded', action: 'AssociateAddress', times: 2 });
      const out = await ec2.send(
        new AssociateAddressCommand({ AllocationId: EIP, NetworkInterfaceId: ENI_B }),
      );
      assert.equal(out.$metadata.attempts, 3);
      assert.deepEqual(
        emu.calls.of('AssociateAddress').map((c) => [c.status, c.errorCode]),
        [
          [503, 'RequestLimitExceeded'],
          [503, 'RequestLimitExceeded'],
          [200, undefined],
        ],
      );
      assert.equal(emu.state.addresses.get(EIP)?.association?.networkInterfaceId, ENI_B);
      // With no retries left the throttle surfaces as the typed error.
      const once = client(emu, 1);
      emu.injectFault({ code: 'RequestLimitExceeded' });
      await rejectsWith(once.send(new DescribeAddressesCommand({})), 'RequestLimitExceeded', 503);
      once.destroy();
    },
    3,
  );
});

void test('InternalError (500) and Unavailable (503) are retried by the SDK and surface typed when attempts run out', async () => {
  await withEmu(
    {},
    async (emu, ec2) => {
      emu.injectFault({ code: 'InternalError', action: 'ReplaceRoute' });
      emu.injectFault({ code: 'Unavailable', action: 'ReplaceRoute' });
      const out = await ec2.send(
        new ReplaceRouteCommand({
          RouteTableId: RTB,
          DestinationCidrBlock: '192.168.100.0/24',
          NetworkInterfaceId: ENI_B,
        }),
      );
      assert.equal(out.$metadata.attempts, 3);
      assert.deepEqual(
        emu.calls.of('ReplaceRoute').map((c) => c.status),
        [500, 503, 200],
      );
      const single = client(emu, 1);
      emu.injectFault({ code: 'InternalError' });
      const err = await rejectsWith(single.send(new DescribeRouteTablesCommand({})), 'InternalError', 500);
      assert.equal(err.$fault, 'server');
      emu.injectFault({ code: 'Unavailable' });
      await rejectsWith(single.send(new DescribeRouteTablesCommand({})), 'Unavailable', 503);
      single.destroy();
    },
    3,
  );
});

void test('random throttling and 5xx rates are deterministic for a seed and limited to the chosen actions', async () => {
  const run = async (randomSeed: number): Promise<number[]> => {
    const statuses: number[] = [];
    await withEmu(
      {
        randomSeed,
        knobs: {
          throttleRate: 0.3,
          serverErrorRate: 0.3,
          serverErrorCode: 'mixed',
          faultActions: ['DescribeAddresses'],
        },
      },
      async (emu, ec2) => {
        for (let i = 0; i < 20; i++) {
          await ec2.send(new DescribeAddressesCommand({})).catch(() => undefined);
        }
        await ec2.send(new DescribeRouteTablesCommand({}));
        statuses.push(...emu.calls.all.map((c) => c.status));
        assert.equal(
          emu.calls.count('DescribeRouteTables', { ok: true }),
          1,
          'other actions are not faulted',
        );
      },
    );
    return statuses;
  };
  const a = await run(7);
  const b = await run(7);
  const c = await run(8);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.ok(a.includes(503) && a.includes(200), `a mix of outcomes: ${a.join(',')}`);
});

void test('the IAM allow-list refuses other actions with UnauthorizedOperation 403 and an encoded message; knobs change at run time', async () => {
  await withEmu({ knobs: { allowedActions: ['ec2:Describe*'] } }, async (emu, ec2) => {
    await ec2.send(new DescribeAddressesCommand({}));
    const err = await rejectsWith(
      ec2.send(new AssociateAddressCommand({ AllocationId: EIP, NetworkInterfaceId: ENI_B })),
      'UnauthorizedOperation',
      403,
      /You are not authorized to perform this operation\..*Encoded authorization failure message: /,
    );
    assert.equal(decodeAuthorizationMessage(err.message).action, 'ec2:AssociateAddress');
    assert.equal(emu.state.addresses.get(EIP)?.association?.networkInterfaceId, ENI_A);
    emu.setKnobs({ allowedActions: ['ec2:Describe*', 'ec2:AssociateAddress'] });
    await ec2.send(new AssociateAddressCommand({ AllocationId: EIP, NetworkInterfaceId: ENI_B }));
    assert.throws(() => emu.setKnobs({ allowedActions: ['AssociateAddress'] }), /IAM spelling/);
  });
});

void test('eventual consistency: Describe* shows the old view for the delay while conflicts see the new state', async () => {
  let now = 1_000_000;
  await withEmu({ clock: () => now, knobs: { consistencyDelayMs: 2000 } }, async (emu, ec2) => {
    await ec2.send(new AssociateAddressCommand({ AllocationId: EIP, NetworkInterfaceId: ENI_B }));
    const stale = await ec2.send(new DescribeAddressesCommand({ AllocationIds: [EIP] }));
    assert.equal(stale.Addresses?.[0]?.NetworkInterfaceId, ENI_A, 'Describe lags');
    const staleEni = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [ENI_B] }));
    assert.equal(staleEni.NetworkInterfaces?.[0]?.Association, undefined);
    // The committed state already conflicts: moving it back with AllowReassociation=false is refused.
    await rejectsWith(
      ec2.send(
        new AssociateAddressCommand({
          AllocationId: EIP,
          NetworkInterfaceId: ENI_A,
          AllowReassociation: false,
        }),
      ),
      'Resource.AlreadyAssociated',
      400,
    );
    now += 2001;
    const fresh = await ec2.send(new DescribeAddressesCommand({ AllocationIds: [EIP] }));
    assert.equal(fresh.Addresses?.[0]?.NetworkInterfaceId, ENI_B);
    const freshEni = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [ENI_B] }));
    assert.equal(freshEni.NetworkInterfaces?.[0]?.Association?.AllocationId, EIP);
  });
});

void test('eventual consistency per resource: only the resources the delay function names lag', async () => {
  let now = 5_000;
  await withEmu(
    { clock: () => now, knobs: { consistencyDelayMs: ({ kind }) => (kind === 'routeTable' ? 500 : 0) } },
    async (emu, ec2) => {
      await ec2.send(
        new ReplaceRouteCommand({
          RouteTableId: RTB,
          DestinationCidrBlock: '192.168.100.0/24',
          NetworkInterfaceId: ENI_B,
        }),
      );
      await ec2.send(
        new AssignPrivateIpAddressesCommand({
          NetworkInterfaceId: ENI_B,
          PrivateIpAddresses: [VIP],
          AllowReassignment: true,
        }),
      );
      const route = async (): Promise<string | undefined> =>
        (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [RTB] }))).RouteTables?.[0]
          ?.Routes?.[2]?.NetworkInterfaceId;
      assert.equal(await route(), ENI_A);
      const eni = await ec2.send(
        new DescribeNetworkInterfacesCommand({
          Filters: [{ Name: 'addresses.private-ip-address', Values: [VIP] }],
        }),
      );
      assert.deepEqual(
        eni.NetworkInterfaces?.map((n) => n.NetworkInterfaceId),
        [ENI_B],
        'ENIs are immediate',
      );
      now += 501;
      assert.equal(await route(), ENI_B);
      emu.setKnobs({ consistencyDelayMs: 10_000 });
      await ec2.send(new DeleteRouteCommand({ RouteTableId: RTB, DestinationCidrBlock: '192.168.100.0/24' }));
      assert.equal(await route(), ENI_B);
      emu.settle();
      assert.equal(await route(), undefined);
    },
  );
});

void test('latency per action delays the response, not the commit', async () => {
  await withEmu({ knobs: { latencyMs: { AssociateAddress: 300 } } }, async (emu, ec2) => {
    const started = Date.now();
    const pending = ec2.send(new AssociateAddressCommand({ AllocationId: EIP, NetworkInterfaceId: ENI_B }));
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(
      emu.state.addresses.get(EIP)?.association?.networkInterfaceId,
      ENI_B,
      'committed before the reply',
    );
    await pending;
    assert.ok(Date.now() - started >= 280, 'the reply waited for the configured latency');
    const quick = Date.now();
    await ec2.send(new DescribeAddressesCommand({}));
    assert.ok(Date.now() - quick < 280, 'other actions are not delayed');
  });
});

// ---------------------------------------------------------------- seed and CLI

void test('an inconsistent seed is refused with a message naming the problem', async () => {
  const bad = seed();
  bad.networkInterfaces![1]!.secondaryPrivateIpAddresses = [VIP];
  await assert.rejects(startEc2Emulator({ seed: bad }), /10\.0\.1\.100 is on both/);
  await assert.rejects(
    startEc2Emulator({ seed: { instances: [{ instanceId: 'i-1' }] } }),
    /seed ids must look like real EC2 ids/,
  );
});

void test('the standalone CLI prints its endpoint as one JSON line and serves the seed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ec2-emu-'));
  const seedFile = join(dir, 'seed.json');
  writeFileSync(seedFile, JSON.stringify(seed()));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/emulators/ec2/main.ts', '--listen', '127.0.0.1:0', '--seed', seedFile],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const lines = createInterface({ input: child.stdout });
    const [line] = (await once(lines, 'line')) as [string];
    const info = JSON.parse(line) as { endpoint: string; region: string };
    assert.match(info.endpoint, /^http:\/\/127\.0\.0\.1:[0-9]+$/);
    const ec2 = new EC2Client({
      endpoint: info.endpoint,
      region: info.region,
      credentials: { accessKeyId: 'AKIDCLI', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const out = await ec2.send(new DescribeAddressesCommand({ AllocationIds: [EIP] }));
    assert.equal(out.Addresses?.[0]?.PublicIp, '198.51.100.7');
    ec2.destroy();
  } finally {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
