/**
 * The aws provider's three mechanisms end to end: the real @aws-sdk/client-ec2 against the EC2
 * emulator, identity from the IMDSv2 emulator, the emulator's IAM allow-list equal to the
 * provider's `permissions`. Each takes over from the peer's ENI, reads back, and releases.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AssignPrivateIpAddressesCommand, AssociateAddressCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { Ec2Emulator } from '../emulators/ec2/index.js';
import {
  DEST,
  EIP,
  EIP2,
  ENI_A,
  ENI_B,
  RTB1,
  RTB2,
  VIP,
  VIP2,
  actions,
  never,
  withRig,
} from './aws-fixtures.js';

/** The peer (instance B) taking the address over through the API, as its own provider would. */
async function peerTakesOver(emu: Ec2Emulator, send: (c: EC2Client) => Promise<unknown>): Promise<void> {
  const c = new EC2Client({
    endpoint: emu.endpoint,
    region: emu.region,
    credentials: { accessKeyId: 'AKIDPEERB', secretAccessKey: 'not-checked' },
    maxAttempts: 1,
  });
  try {
    await send(c);
  } finally {
    c.destroy();
  }
}

const peerAssociates = (emu: Ec2Emulator) =>
  peerTakesOver(emu, (c) =>
    c.send(
      new AssociateAddressCommand({
        AllocationId: EIP,
        NetworkInterfaceId: ENI_B,
        PrivateIpAddress: '10.0.1.11',
        AllowReassociation: true,
      }),
    ),
  );

const peerAssigns = (emu: Ec2Emulator, addresses: string[]) =>
  peerTakesOver(emu, (c) =>
    c.send(
      new AssignPrivateIpAddressesCommand({
        NetworkInterfaceId: ENI_B,
        PrivateIpAddresses: addresses,
        AllowReassignment: true,
      }),
    ),
  );

void test('eip: takes the Elastic IP over from the peer ENI with AllowReassociation, reads it back, releases when detach_on_release is set', async () => {
  await withRig(
    { options: { mechanism: 'eip', allocation_id: EIP, private_ip: '10.0.1.10', detach_on_release: true } },
    async ({ emu, provider }) => {
      assert.deepEqual(provider.permissions, [
        'ec2:AssociateAddress',
        'ec2:DescribeAddresses',
        'ec2:DescribeInstances',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DisassociateAddress',
      ]);
      await provider.prepare();
      assert.equal(provider.selfId, ENI_A, 'selfId is the ENI IMDS reports for the interface MAC');
      assert.equal(await provider.holder(never()), ENI_B);
      emu.calls.clear();
      await provider.acquire(never());
      assert.deepEqual(actions(emu), ['AssociateAddress', 'DescribeAddresses']);
      const assoc = emu.calls.of('AssociateAddress')[0]!.params;
      assert.equal(assoc.AllocationId, EIP);
      assert.equal(assoc.NetworkInterfaceId, ENI_A);
      assert.equal(assoc.PrivateIpAddress, '10.0.1.10');
      assert.equal(assoc.AllowReassociation, 'true');
      assert.equal(emu.state.addresses.get(EIP)?.association?.networkInterfaceId, ENI_A);
      assert.equal(await provider.holder(never()), ENI_A);
      // Idempotent: a second acquire is one cheap repeat, the association stays.
      await provider.acquire(never());
      assert.equal(emu.state.addresses.get(EIP)?.association?.networkInterfaceId, ENI_A);
      await provider.release(never());
      assert.equal(emu.state.addresses.get(EIP)?.association, null);
      assert.equal(await provider.holder(never()), null);
    },
  );
});

void test('eip: several addresses go in parallel; holder is ours only when every one is; release with detach_on_release: false touches nothing', async () => {
  await withRig(
    {
      options: {
        mechanism: 'eip',
        eips: [
          { allocation_id: EIP, private_ip: '10.0.1.10' },
          { allocation_id: EIP2, private_ip: '10.0.1.20' },
        ],
        detach_on_release: false,
      },
    },
    async ({ emu, provider }) => {
      assert.deepEqual(provider.permissions, [
        'ec2:AssociateAddress',
        'ec2:DescribeAddresses',
        'ec2:DescribeInstances',
        'ec2:DescribeNetworkInterfaces',
      ]);
      emu.state.networkInterfaces.get(ENI_A)!.privateIps.push({ address: '10.0.1.20', primary: false });
      await provider.prepare();
      assert.equal(await provider.holder(never()), ENI_B, 'the first address not ours names its holder');
      await provider.acquire(never());
      assert.equal(emu.calls.count('AssociateAddress', { ok: true }), 2);
      assert.equal(emu.state.addresses.get(EIP2)?.association?.networkInterfaceId, ENI_A);
      assert.equal(await provider.holder(never()), ENI_A);
      // A peer steals one back: the combined holder is no longer us.
      emu.state.addresses.get(EIP2)!.association = {
        associationId: 'eipassoc-0fffffffffffffff1',
        networkInterfaceId: ENI_B,
        privateIpAddress: '10.0.1.11',
      };
      assert.equal(await provider.holder(never()), ENI_B);
      emu.calls.clear();
      await provider.release(never());
      assert.deepEqual(actions(emu), []);
    },
  );
});

void test('eip: an address on our ENI but another private IP is not ours (the reconcile loop moves it)', async () => {
  await withRig(
    { options: { mechanism: 'eip', allocation_id: EIP, private_ip: '10.0.1.10' } },
    async ({ emu, provider }) => {
      await provider.prepare();
      emu.state.networkInterfaces.get(ENI_A)!.privateIps.push({ address: '10.0.1.60', primary: false });
      emu.state.addresses.get(EIP)!.association = {
        associationId: 'eipassoc-0fffffffffffffff2',
        networkInterfaceId: ENI_A,
        privateIpAddress: '10.0.1.60',
      };
      assert.equal(await provider.holder(never()), `${ENI_A}/10.0.1.60`);
      await provider.acquire(never());
      assert.equal(emu.state.addresses.get(EIP)?.association?.privateIpAddress, '10.0.1.10');
    },
  );
});

void test('secondary-ip: one AssignPrivateIpAddresses with AllowReassignment moves the VIPs from the peer; the OS side is the garp provider without announcements; unassign_on_release: false leaves EC2 alone', async () => {
  await withRig(
    { options: { mechanism: 'secondary-ip', addresses: [VIP, VIP2], unassign_on_release: false } },
    async ({ emu, provider, os }) => {
      assert.deepEqual(provider.permissions, [
        'ec2:AssignPrivateIpAddresses',
        'ec2:DescribeInstances',
        'ec2:DescribeNetworkInterfaces',
      ]);
      await provider.prepare();
      assert.equal(os.length, 1);
      const osCtx = os[0]!.ctx;
      assert.deepEqual(osCtx.options, { announce: false, manage_addresses: true });
      assert.deepEqual(
        osCtx.virtualIps.map((v) => `${v.address}/${v.prefix}`),
        [`${VIP}/24`, `${VIP2}/32`],
        'a configured VIP keeps its prefix; an extra address is a /32',
      );
      assert.deepEqual(os[0]!.calls, ['prepare']);
      assert.equal(await provider.holder(never()), ENI_B);
      const holderCall = emu.calls.of('DescribeNetworkInterfaces').at(-1)!.params;
      assert.equal(holderCall['Filter.1.Name'], 'addresses.private-ip-address');
      emu.calls.clear();
      await provider.acquire(never());
      assert.deepEqual(actions(emu), ['AssignPrivateIpAddresses', 'DescribeNetworkInterfaces']);
      const assign = emu.calls.of('AssignPrivateIpAddresses')[0]!.params;
      assert.equal(assign.NetworkInterfaceId, ENI_A);
      assert.equal(assign.AllowReassignment, 'true');
      assert.deepEqual([assign['PrivateIpAddress.1'], assign['PrivateIpAddress.2']], [VIP, VIP2]);
      assert.deepEqual(os[0]!.calls, ['prepare', 'acquire']);
      const onA = emu.state.networkInterfaces.get(ENI_A)!.privateIps.map((p) => p.address);
      assert.deepEqual(onA, ['10.0.1.10', VIP, VIP2]);
      assert.equal(emu.state.networkInterfaces.get(ENI_B)!.privateIps.length, 1);
      assert.equal(await provider.holder(never()), ENI_A);
      // EC2 routes it here but the OS lost the address: not held, so reconcile repairs it.
      os[0]!.present = false;
      assert.equal(await provider.holder(never()), `${ENI_A}+os-address-missing`);
      os[0]!.present = true;
      emu.calls.clear();
      await provider.release(never());
      assert.deepEqual(os[0]!.calls, ['prepare', 'acquire', 'release']);
      assert.deepEqual(actions(emu), [], 'the cloud side stays until the peer reassigns it');
    },
  );
});

void test('secondary-ip: addresses default to the instance IPv4 VIPs on its interface; unassign_on_release gives them back', async () => {
  await withRig(
    {
      options: { mechanism: 'secondary-ip', unassign_on_release: true },
      virtualIps: [
        { address: VIP, prefix: 24, family: 'ipv4' },
        { address: '10.0.9.9', prefix: 24, family: 'ipv4', dev: 'eth1' },
        { address: 'fd00::50', prefix: 64, family: 'ipv6' },
      ],
    },
    async ({ emu, provider }) => {
      assert.ok(provider.permissions.includes('ec2:UnassignPrivateIpAddresses'));
      await provider.acquire(never());
      assert.deepEqual(
        emu.state.networkInterfaces.get(ENI_A)!.privateIps.map((p) => p.address),
        ['10.0.1.10', VIP],
      );
      assert.deepEqual(
        emu.state.networkInterfaces.get(ENI_B)!.privateIps.map((p) => p.address),
        ['10.0.1.11', VIP2],
      );
      await provider.release(never());
      assert.deepEqual(
        emu.state.networkInterfaces.get(ENI_A)!.privateIps.map((p) => p.address),
        ['10.0.1.10'],
      );
      assert.equal(await provider.holder(never()), null);
    },
  );
});

void test('route: ReplaceRoute where the route exists, CreateRoute where it does not, in every table; warns about source/dest check', async () => {
  await withRig(
    { options: { mechanism: 'route', route_tables: [RTB1, RTB2], destination: DEST } },
    async ({ emu, provider, logs }) => {
      assert.deepEqual(provider.permissions, [
        'ec2:CreateRoute',
        'ec2:DescribeInstances',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeRouteTables',
        'ec2:ReplaceRoute',
      ]);
      await provider.prepare();
      const warn = logs.find((l) => l.level === 40 && /source\/destination check is on/.test(l.msg));
      assert.ok(warn, 'prepare() warns: ENI A has source/dest check on');
      assert.match(warn.msg, /--no-source-dest-check/);
      assert.equal(await provider.holder(never()), ENI_B);
      emu.calls.clear();
      await provider.acquire(never());
      assert.deepEqual(actions(emu).slice(0, 2).sort(), ['CreateRoute', 'ReplaceRoute']);
      assert.deepEqual(actions(emu).slice(2), ['DescribeRouteTables']);
      assert.equal(emu.calls.of('ReplaceRoute')[0]!.params.RouteTableId, RTB1);
      assert.equal(emu.calls.of('CreateRoute')[0]!.params.RouteTableId, RTB2);
      for (const t of [RTB1, RTB2]) {
        const r = emu.state.routeTables.get(t)!.routes.find((x) => x.destinationCidrBlock === DEST);
        assert.deepEqual(r?.target, { kind: 'networkInterface', networkInterfaceId: ENI_A });
      }
      assert.equal(await provider.holder(never()), ENI_A);
      emu.calls.clear();
      await provider.release(never());
      assert.deepEqual(actions(emu), [], 'a route is never withdrawn: it must point somewhere');
    },
  );
});

void test('route: a route deleted after prepare() is created (ReplaceRoute answers InvalidParameterValue); one added is replaced', async () => {
  await withRig(
    { options: { mechanism: 'route', route_tables: [RTB1, RTB2], destinations: [DEST] } },
    async ({ emu, provider }) => {
      await provider.prepare();
      const t1 = emu.state.routeTables.get(RTB1)!;
      t1.routes = t1.routes.filter((r) => r.destinationCidrBlock !== DEST);
      emu.state.routeTables.get(RTB2)!.routes.push({
        destinationCidrBlock: DEST,
        target: { kind: 'networkInterface', networkInterfaceId: ENI_B },
        origin: 'CreateRoute',
      });
      emu.calls.clear();
      await provider.acquire(never());
      assert.equal(emu.calls.count('ReplaceRoute', { errorCode: 'InvalidParameterValue' }), 1);
      assert.equal(emu.calls.count('CreateRoute', { errorCode: 'RouteAlreadyExists' }), 1);
      assert.equal(emu.calls.count('ReplaceRoute', { ok: true }), 1);
      assert.equal(emu.calls.count('CreateRoute', { ok: true }), 1);
      assert.equal(await provider.holder(never()), ENI_A);
    },
  );
});

void test('route: no warning when source/dest check is off', async () => {
  await withRig(
    { options: { mechanism: 'route', route_tables: RTB1, destination: DEST } },
    async ({ emu, provider, logs }) => {
      emu.state.networkInterfaces.get(ENI_A)!.sourceDestCheck = false;
      await provider.prepare();
      assert.ok(!logs.some((l) => /source\/destination/.test(l.msg)));
    },
  );
});

void test('secondary-ip: by default the OS side is the real garp provider (its prepare() checks the interface)', async () => {
  await withRig(
    {
      options: { mechanism: 'secondary-ip', addresses: [VIP] },
      deps: { osAddresses: undefined },
      iface: 'nosuchif9',
    },
    async ({ emu, provider, os }) => {
      await assert.rejects(provider.prepare(), /nosuchif9/);
      assert.equal(os.length, 0, 'the fake was not used');
      assert.equal(
        emu.calls.count('DescribeNetworkInterfaces', { ok: true }),
        1,
        'EC2 side was prepared first',
      );
    },
  );
});

void test('eip: by default release gives the Elastic IP back, by the association id we hold, so the winner reads no holder', async () => {
  await withRig(
    { options: { mechanism: 'eip', allocation_id: EIP, private_ip: '10.0.1.10' } },
    async ({ emu, provider }) => {
      assert.ok(provider.permissions.includes('ec2:DisassociateAddress'));
      await provider.acquire(never());
      const ours = emu.state.addresses.get(EIP)!.association!;
      assert.equal(ours.networkInterfaceId, ENI_A);
      emu.calls.clear();
      await provider.release(never());
      assert.deepEqual(actions(emu), ['DescribeAddresses', 'DisassociateAddress']);
      assert.equal(emu.calls.of('DisassociateAddress')[0]!.params.AssociationId, ours.associationId);
      assert.equal(emu.state.addresses.get(EIP)?.association, null);
      assert.equal(await provider.holder(never()), null);
    },
  );
});

void test('eip: a default release after the peer took the Elastic IP over leaves the peer association intact, even when our read is stale', async () => {
  await withRig(
    { options: { mechanism: 'eip', allocation_id: EIP, private_ip: '10.0.1.10' } },
    async ({ emu, provider }) => {
      await provider.acquire(never());
      const ours = emu.state.addresses.get(EIP)!.association!.associationId;
      // The peer's call landed after ours and we see it: nothing to give back.
      await peerAssociates(emu);
      const peers = emu.state.addresses.get(EIP)!.association!;
      assert.equal(peers.networkInterfaceId, ENI_B);
      assert.notEqual(peers.associationId, ours);
      emu.calls.clear();
      await provider.release(never());
      assert.deepEqual(actions(emu), ['DescribeAddresses'], 'no mutating call');
      assert.deepEqual(emu.state.addresses.get(EIP)?.association, peers);

      // Again, but DescribeAddresses still shows our old association when we release: the
      // disassociation names that old id, finds nothing, and the peer keeps the address.
      await provider.acquire(never());
      const ours2 = emu.state.addresses.get(EIP)!.association!.associationId;
      emu.setKnobs({ consistencyDelayMs: 60_000 });
      await peerAssociates(emu);
      const peers2 = emu.state.addresses.get(EIP)!.association!;
      assert.equal(peers2.networkInterfaceId, ENI_B);
      emu.calls.clear();
      await provider.release(never());
      assert.deepEqual(actions(emu), ['DescribeAddresses', 'DisassociateAddress']);
      assert.equal(emu.calls.of('DisassociateAddress')[0]!.params.AssociationId, ours2);
      assert.equal(emu.calls.count('DisassociateAddress', { errorCode: 'InvalidAssociationID.NotFound' }), 1);
      assert.deepEqual(emu.state.addresses.get(EIP)?.association, peers2);
    },
  );
});

void test('secondary-ip: by default release unassigns the addresses from our ENI, so the winner reads no holder', async () => {
  await withRig(
    { options: { mechanism: 'secondary-ip', addresses: [VIP, VIP2] } },
    async ({ emu, provider, os }) => {
      assert.ok(provider.permissions.includes('ec2:UnassignPrivateIpAddresses'));
      await provider.acquire(never());
      emu.calls.clear();
      await provider.release(never());
      assert.deepEqual(os[0]!.calls, ['prepare', 'acquire', 'release']);
      assert.deepEqual(actions(emu), ['DescribeNetworkInterfaces', 'UnassignPrivateIpAddresses']);
      const un = emu.calls.of('UnassignPrivateIpAddresses')[0]!.params;
      assert.equal(un.NetworkInterfaceId, ENI_A);
      assert.deepEqual([un['PrivateIpAddress.1'], un['PrivateIpAddress.2']], [VIP, VIP2]);
      assert.deepEqual(
        emu.state.networkInterfaces.get(ENI_A)!.privateIps.map((p) => p.address),
        ['10.0.1.10'],
      );
      assert.deepEqual(
        emu.state.networkInterfaces.get(ENI_B)!.privateIps.map((p) => p.address),
        ['10.0.1.11'],
      );
      assert.equal(await provider.holder(never()), null);
    },
  );
});

void test('secondary-ip: a default release after the peer took the addresses over leaves them on the peer ENI', async () => {
  await withRig(
    { options: { mechanism: 'secondary-ip', addresses: [VIP, VIP2] } },
    async ({ emu, provider }) => {
      const onB = () => emu.state.networkInterfaces.get(ENI_B)!.privateIps.map((p) => p.address);
      await provider.acquire(never());
      await peerAssigns(emu, [VIP, VIP2]);
      assert.deepEqual(onB(), ['10.0.1.11', VIP, VIP2]);
      emu.calls.clear();
      await provider.release(never());
      assert.deepEqual(actions(emu), ['DescribeNetworkInterfaces'], 'no mutating call');
      assert.deepEqual(onB(), ['10.0.1.11', VIP, VIP2]);
      assert.equal(await provider.holder(never()), ENI_B);

      // Again, but DescribeNetworkInterfaces still shows both on us when we release, and the peer
      // took only one: the unassign names only our own ENI, so EC2 refuses the pair; we then give
      // back what is still ours, one by one, and the peer keeps its address.
      await provider.acquire(never());
      emu.setKnobs({ consistencyDelayMs: 60_000 });
      await peerAssigns(emu, [VIP]);
      emu.calls.clear();
      await provider.release(never());
      assert.deepEqual(actions(emu), [
        'DescribeNetworkInterfaces',
        'UnassignPrivateIpAddresses',
        'UnassignPrivateIpAddresses',
        'UnassignPrivateIpAddresses',
      ]);
      assert.ok(
        emu.calls.of('UnassignPrivateIpAddresses').every((c) => c.params.NetworkInterfaceId === ENI_A),
        'never from the peer ENI',
      );
      assert.equal(emu.calls.count('UnassignPrivateIpAddresses', { errorCode: 'InvalidParameterValue' }), 2);
      assert.deepEqual(onB(), ['10.0.1.11', VIP]);
      assert.deepEqual(
        emu.state.networkInterfaces.get(ENI_A)!.privateIps.map((p) => p.address),
        ['10.0.1.10'],
      );
    },
  );
});
