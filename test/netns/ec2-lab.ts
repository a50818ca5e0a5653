/**
 * Emulated EC2 on a netns lab, shared by the AWS end-to-end test and `npm run demo`: the EC2
 * emulator (test/emulators/ec2/main.ts) runs in its own lab namespace with one IMDSv2 emulator per
 * floatip node, seeded with one running instance and one ENI per node (the ENI's MAC is the node's
 * eth0 MAC, so each node finds its own ENI through IMDS exactly as on EC2) and one Elastic IP. The
 * floatip nodes get instance-role credentials from their IMDS through the SDK's default chain.
 *
 * The test reads and edits the emulator through its test-only control socket (a Unix socket,
 * reachable from the root namespace), never through the EC2 API. Every address, including the
 * Elastic IP's "public" one, is in 10.99.0.0/16; the public IP is only a string in the emulator.
 */
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallRecord } from '../emulators/ec2/call-log.js';
import type { Ec2Seed, InstanceStateName } from '../emulators/ec2/model.js';
import { roleAccessKeyId } from '../emulators/imds/from-ec2.js';
import type { Lab, LabNode, LabProcess } from './harness.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const REGION = 'us-east-1';
const VPC = 'vpc-0f10a700000000001';
const SUBNET = 'subnet-0f10a700000000001';

/** An EC2-shaped id (17 hex digits) that carries a small number, readable in logs. */
function ec2Id(prefix: string, n: number): string {
  return `${prefix}-0f10a7${n.toString(16).padStart(11, '0')}`;
}

export const ALLOCATION_ID = ec2Id('eipalloc', 1);
/** The Elastic IP's public address: a lab-range literal, never configured on an interface. */
export const PUBLIC_IP = '10.99.250.1';

export interface CloudNode {
  name: string;
  lab: LabNode;
  instanceId: string;
  eniId: string;
  /** The access key id of its role credentials, as the call log records the caller. */
  accessKeyId: string;
  /** Its own IMDSv2 endpoint (set after start). */
  imdsEndpoint: string;
}

interface InstanceDump {
  instanceId: string;
  state: InstanceStateName;
}
interface AddressDump {
  allocationId: string;
  publicIp: string;
  association: { associationId: string; networkInterfaceId: string; privateIpAddress: string } | null;
}
export interface Ec2StateDump {
  region: string;
  instances: InstanceDump[];
  addresses: AddressDump[];
  networkInterfaces: Array<{ networkInterfaceId: string; macAddress: string }>;
}

export interface Ec2Lab {
  endpoint: string;
  nodes: Record<string, CloudNode>;
  process: LabProcess;
  state(): Promise<Ec2StateDump>;
  /** Call-log records with seq > since. */
  calls(since?: number): Promise<CallRecord[]>;
  /** The ENI the Elastic IP is associated with, null when free. */
  eipHolder(): Promise<string | null>;
  /** Polls until the Elastic IP is on `eni` (null: free); resolves with the time it saw it (epoch ms). */
  waitForHolder(eni: string | null, timeoutMs: number): Promise<number>;
  setInstanceState(node: string, state: InstanceStateName): Promise<void>;
  setLatency(ms: number): Promise<void>;
  /** The node whose ENI this is. */
  nodeOfEni(eni: string | null | undefined): string | undefined;
  stop(): Promise<void>;
}

export function ec2LabSeed(nodes: readonly LabNode[]): Ec2Seed {
  return {
    region: REGION,
    subnets: [{ subnetId: SUBNET, vpcId: VPC, cidrBlock: '10.99.0.0/16', availabilityZone: `${REGION}a` }],
    instances: nodes.map((_, i) => ({ instanceId: ec2Id('i', i + 1) })),
    networkInterfaces: nodes.map((n, i) => ({
      networkInterfaceId: ec2Id('eni', i + 1),
      subnetId: SUBNET,
      vpcId: VPC,
      macAddress: n.mac,
      privateIpAddress: n.addr4,
      attachment: { instanceId: ec2Id('i', i + 1), deviceIndex: 0 },
    })),
    addresses: [{ allocationId: ALLOCATION_ID, publicIp: PUBLIC_IP }],
  };
}

export interface Ec2LabOptions {
  /** Lab node whose namespace hosts the emulators (its addr4 is where they listen). */
  emulatorNode: string;
  /** Lab nodes that run floatip, in seed order. */
  floatipNodes: string[];
  /** Scratch directory for the seed and the control socket (short path: Unix socket limit). */
  dir: string;
  latencyMs?: number;
}

export async function startEc2Lab(lab: Lab, o: Ec2LabOptions): Promise<Ec2Lab> {
  const host = lab.nodes[o.emulatorNode];
  if (!host) throw new Error(`startEc2Lab: no lab node "${o.emulatorNode}" for the emulator`);
  const labNodes = o.floatipNodes.map((n) => {
    const node = lab.nodes[n];
    if (!node) throw new Error(`startEc2Lab: no lab node "${n}"`);
    return node;
  });
  const seed = ec2LabSeed(labNodes);
  const seedFile = join(o.dir, 'ec2-seed.json');
  writeFileSync(seedFile, JSON.stringify(seed));
  const socket = join(o.dir, 'ec2-control.sock');
  // sun_path holds 108 bytes; a long TMPDIR would otherwise fail deep inside the emulator.
  if (Buffer.byteLength(socket) > 100) {
    throw new Error(
      `startEc2Lab: control socket path ${socket} is too long for a Unix socket; use a shorter dir`,
    );
  }
  const instanceIds = seed.instances!.map((i) => i.instanceId);
  const proc = lab.spawn(
    host.ns,
    [
      process.execPath,
      '--import',
      tsxLoader(),
      join(REPO_ROOT, 'test/emulators/ec2/main.ts'),
      '--listen',
      `${host.addr4}:0`,
      '--seed',
      seedFile,
      '--control',
      socket,
      ...instanceIds.flatMap((id) => ['--imds', id]),
      ...(o.latencyMs !== undefined ? ['--latency-ms', String(o.latencyMs)] : []),
    ],
    { label: 'ec2-emulator' },
  );
  const line = await proc.waitForLine((l) => l.startsWith('{"endpoint"'), 20_000);
  const started = JSON.parse(line) as { endpoint: string; imds: Record<string, string> };

  const nodes: Record<string, CloudNode> = {};
  labNodes.forEach((n, i) => {
    const instanceId = instanceIds[i]!;
    nodes[n.name] = {
      name: n.name,
      lab: n,
      instanceId,
      eniId: seed.networkInterfaces![i]!.networkInterfaceId,
      accessKeyId: roleAccessKeyId(instanceId),
      imdsEndpoint: started.imds[instanceId]!,
    };
  });

  const control = <T>(method: string, path: string, body?: unknown): Promise<T> =>
    controlCall<T>(socket, method, path, body);
  const eipHolder = async (): Promise<string | null> => {
    const s = await control<Ec2StateDump>('GET', '/_emulator/state');
    return s.addresses.find((a) => a.allocationId === ALLOCATION_ID)?.association?.networkInterfaceId ?? null;
  };

  return {
    endpoint: started.endpoint,
    nodes,
    process: proc,
    state: () => control<Ec2StateDump>('GET', '/_emulator/state'),
    calls: (since = 0) => control<CallRecord[]>('GET', `/_emulator/calls?since=${since}`),
    eipHolder,
    async waitForHolder(eni, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let last: string | null = null;
      while (Date.now() < deadline) {
        last = await eipHolder();
        if (last === eni) return Date.now();
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(
        `Elastic IP ${PUBLIC_IP} is on ${last ?? 'no ENI'}, not ${eni ?? 'free'}, after ${timeoutMs} ms`,
      );
    },
    async setInstanceState(node, state) {
      const n = nodes[node];
      if (!n) throw new Error(`setInstanceState: no cloud node "${node}"`);
      await control('POST', `/_emulator/instances/${n.instanceId}/state`, { state });
    },
    async setLatency(ms) {
      await control('POST', '/_emulator/knobs', { latencyMs: ms });
    },
    nodeOfEni(eni) {
      return Object.values(nodes).find((n) => n.eniId === eni)?.name;
    },
    async stop() {
      await proc.stop(3000);
    },
  };
}

/**
 * Environment for a floatip process on the cloud lab: the SDK's default chain must end at the
 * instance role from IMDS, never at the host's own keys or ~/.aws (empty values are skipped).
 */
export function floatipCloudEnv(dir: string): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_SESSION_TOKEN: '',
    AWS_PROFILE: '',
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
    AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
    AWS_WEB_IDENTITY_TOKEN_FILE: '',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

export interface CloudConfigOptions {
  vrid: number;
  priority: number;
  advertInterval: string;
  reconcileInterval: string;
  holdOff: string;
  providerTimeout: string;
}

/** YAML config of one floatip node: VRRPv3 unicast to its peer, the aws eip provider only. */
export function floatipCloudConfig(
  ec2: Ec2Lab,
  me: CloudNode,
  peer: CloudNode,
  o: CloudConfigOptions,
): string {
  return `global:
  provider_timeout: ${o.providerTimeout}
  reconcile_interval: ${o.reconcileInterval}
  hold_off: ${o.holdOff}
instances:
  - name: VI_CLOUD
    interface: eth0
    vrid: ${o.vrid}
    priority: ${o.priority}
    advert_interval: ${o.advertInterval}
    version: 3
    unicast: { source: ${me.lab.addr4}, peers: [${peer.lab.addr4}] }
    # VRRPv3 wants an address in its adverts; with only the aws provider listed nothing puts it
    # on an interface: the Elastic IP lives in (emulated) EC2, not on the host.
    virtual_ips: [${PUBLIC_IP}/32]
    providers:
      - type: aws
        mechanism: eip
        allocation_id: ${ALLOCATION_ID}
        endpoint: ${ec2.endpoint}
        imds_endpoint: ${me.imdsEndpoint}
        timeout: ${o.providerTimeout}
`;
}

/** floatip's JSON log lines so far (non-JSON lines skipped). */
export function logRecords(p: LabProcess): Array<Record<string, unknown> & { time: number; msg?: string }> {
  const out: Array<Record<string, unknown> & { time: number; msg?: string }> = [];
  for (const l of p.lines()) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as Record<string, unknown> & { time: number; msg?: string });
    } catch {
      // a partial or foreign line
    }
  }
  return out;
}

/** Waits for a JSON log record matching `pred` at or after `sinceMs`; resolves with it. */
export async function waitForRecord(
  p: LabProcess,
  pred: (r: Record<string, unknown> & { time: number; msg?: string }) => boolean,
  sinceMs: number,
  timeoutMs: number,
  what: string,
): Promise<Record<string, unknown> & { time: number; msg?: string }> {
  const find = () => logRecords(p).find((r) => r.time >= sinceMs && pred(r));
  try {
    await p.waitForLine((l) => l.startsWith('{') && find() !== undefined, timeoutMs);
  } catch (err) {
    throw new Error(`${p.label}: ${what} not logged within ${timeoutMs} ms: ${(err as Error).message}`);
  }
  return find()!;
}

export const isTransition =
  (to: string) =>
  (r: Record<string, unknown>): boolean =>
    r.event === 'transition' && r.to === to;

/** The provider's "is now the holder" line after a successful acquire() and read-back. */
export const isHolderConfirmed = (r: { msg?: string }): boolean => /is now the holder/.test(r.msg ?? '');

function tsxLoader(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}

function controlCall<T>(socketPath: string, method: string, path: string, body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath,
        method,
        path,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          if ((res.statusCode ?? 500) >= 300) {
            reject(new Error(`EC2 emulator control ${method} ${path}: ${res.statusCode} ${text}`));
            return;
          }
          resolve(JSON.parse(text) as T);
        });
      },
    );
    req.setTimeout(5000, () =>
      req.destroy(new Error(`EC2 emulator control ${method} ${path}: no answer in 5 s`)),
    );
    req.on('error', reject);
    req.end(payload);
  });
}
