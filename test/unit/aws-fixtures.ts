/**
 * Shared set-up for the aws provider tests: an EC2 emulator seeded with two instances (A: us, B:
 * the peer) in one VPC, an IMDSv2 emulator following A's live EC2 state, and a provider on A whose
 * IAM allow-list in the emulator is exactly its `permissions`.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { AwsProvider, type AwsProviderDeps } from '../../providers/aws/index.js';
import type { HolderId, Provider, ProviderContext } from '../../src/notify/provider.js';
import { startEc2Emulator, type Ec2Emulator, type Ec2Knobs, type Ec2Seed } from '../emulators/ec2/index.js';
import { imdsInstanceFromEc2, startImdsEmulator, type ImdsEmulator } from '../emulators/imds/index.js';

// The SDK's default chain reads these first, so no test reaches ~/.aws or a real metadata service.
process.env.AWS_ACCESS_KEY_ID = 'AKIDFLOATIPTEST';
process.env.AWS_SECRET_ACCESS_KEY = 'not-checked';
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_PROFILE;
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const I_A = 'i-0aaaaaaaaaaaaaaa1';
export const I_B = 'i-0bbbbbbbbbbbbbbb2';
export const ENI_A = 'eni-0aaaaaaaaaaaaaaa1';
export const ENI_B = 'eni-0bbbbbbbbbbbbbbb2';
export const MAC_A = '02:00:00:00:00:0a';
export const EIP = 'eipalloc-0aaaaaaaaaaaaaaa1';
export const EIP2 = 'eipalloc-0bbbbbbbbbbbbbbb2';
export const RTB1 = 'rtb-0aaaaaaaaaaaaaaa1';
export const RTB2 = 'rtb-0bbbbbbbbbbbbbbb2';
export const VIP = '10.0.1.50';
export const VIP2 = '10.0.1.51';
export const DEST = '10.0.1.50/32';

export function seed(): Ec2Seed {
  return {
    subnets: [
      { subnetId: 'subnet-0a', vpcId: 'vpc-0a', cidrBlock: '10.0.1.0/24', availabilityZone: 'us-east-1a' },
    ],
    instances: [{ instanceId: I_A }, { instanceId: I_B }],
    networkInterfaces: [
      {
        networkInterfaceId: ENI_A,
        subnetId: 'subnet-0a',
        vpcId: 'vpc-0a',
        macAddress: MAC_A,
        privateIpAddress: '10.0.1.10',
        attachment: { instanceId: I_A, deviceIndex: 0 },
      },
      {
        networkInterfaceId: ENI_B,
        subnetId: 'subnet-0a',
        vpcId: 'vpc-0a',
        macAddress: '02:00:00:00:00:0b',
        privateIpAddress: '10.0.1.11',
        secondaryPrivateIpAddresses: [VIP, VIP2],
        sourceDestCheck: false,
        attachment: { instanceId: I_B, deviceIndex: 0 },
      },
    ],
    addresses: [
      {
        allocationId: EIP,
        publicIp: '198.51.100.7',
        association: { networkInterfaceId: ENI_B, privateIpAddress: '10.0.1.11' },
      },
      { allocationId: EIP2, publicIp: '198.51.100.8' },
    ],
    routeTables: [
      {
        routeTableId: RTB1,
        vpcId: 'vpc-0a',
        main: true,
        routes: [
          { destinationCidrBlock: '10.0.0.0/16', gatewayId: 'local' },
          { destinationCidrBlock: DEST, networkInterfaceId: ENI_B },
        ],
      },
      {
        routeTableId: RTB2,
        vpcId: 'vpc-0a',
        subnetIds: ['subnet-0a'],
        routes: [{ destinationCidrBlock: '10.0.0.0/16', gatewayId: 'local' }],
      },
    ],
  };
}

/** Stands in for the garp provider (announce off) in secondary-ip: records what it is asked. */
export class FakeOsAddresses implements Provider {
  readonly name = 'fake-os';
  readonly selfId = 'host/eth0';
  readonly permissions: readonly string[] = [];
  readonly calls: string[] = [];
  present = false;
  constructor(readonly ctx: ProviderContext) {}
  prepare(): Promise<void> {
    this.calls.push('prepare');
    return Promise.resolve();
  }
  acquire(): Promise<void> {
    this.calls.push('acquire');
    this.present = true;
    return Promise.resolve();
  }
  release(): Promise<void> {
    this.calls.push('release');
    this.present = false;
    return Promise.resolve();
  }
  holder(): Promise<HolderId | null> {
    return Promise.resolve(this.present ? this.selfId : null);
  }
}

export interface Rig {
  emu: Ec2Emulator;
  imds: ImdsEmulator;
  provider: AwsProvider;
  os: FakeOsAddresses[];
  /** Every log line the provider wrote, parsed. */
  logs: Array<{ level: number; msg: string }>;
  close(): Promise<void>;
}

export interface RigOptions {
  options: Record<string, unknown>;
  knobs?: Partial<Ec2Knobs>;
  seed?: Ec2Seed;
  /** Allow-list for the emulator; default: exactly the provider's permissions. */
  allow?: (permissions: readonly string[]) => readonly string[] | null;
  deps?: AwsProviderDeps;
  virtualIps?: ProviderContext['virtualIps'];
  /** OS interface name; default eth0 (only the real garp side looks at it). */
  iface?: string;
}

export async function rig(o: RigOptions): Promise<Rig> {
  const emu = await startEc2Emulator({ seed: o.seed ?? seed(), ...(o.knobs ? { knobs: o.knobs } : {}) });
  const imds = await startImdsEmulator({ instance: imdsInstanceFromEc2(emu.state, I_A) });
  const logs: Rig['logs'] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) logs.push(JSON.parse(line) as Rig['logs'][number]);
      cb();
    },
  });
  const os: FakeOsAddresses[] = [];
  const ctx: ProviderContext = {
    instance: 'VI_1',
    interface: o.iface ?? 'eth0',
    family: 'ipv4',
    virtualIps: o.virtualIps ?? [{ address: VIP, prefix: 24, family: 'ipv4' }],
    options: { ...o.options, endpoint: emu.endpoint, imds_endpoint: imds.endpoint },
    garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1 },
    log: pino({ level: 'debug' }, sink),
  };
  const provider = new AwsProvider(ctx, {
    interfaceMac: () => MAC_A,
    osAddresses: (c) => {
      const f = new FakeOsAddresses(c);
      os.push(f);
      return f;
    },
    ...o.deps,
  });
  emu.setKnobs({ allowedActions: o.allow ? o.allow(provider.permissions) : provider.permissions });
  return {
    emu,
    imds,
    provider,
    os,
    logs,
    async close() {
      provider.close();
      await Promise.all([emu.close(), imds.close()]);
    },
  };
}

export async function withRig(o: RigOptions, fn: (r: Rig) => Promise<void>): Promise<void> {
  const r = await rig(o);
  try {
    await fn(r);
  } finally {
    await r.close();
  }
}

/** A signal that never aborts, for calls whose deadline is the provider's own `timeout`. */
export const never = (): AbortSignal => new AbortController().signal;

/** Action names of the calls the emulator received, in order. */
export function actions(emu: Ec2Emulator): string[] {
  return emu.calls.all.map((c) => c.action);
}
