/**
 * The emulated VPC of the cloud benchmark: one instance and ENI per cloud node, and for every pair
 * of nodes its own targets: N Elastic IPs (each bound to its own private IP of the ENI), or one
 * route table with N /32 routes. Every address in it, private or "public", is a 10.99.x.x literal:
 * they are rows in the emulator's tables, never configured on an interface.
 */
import type { Ec2Seed } from '../../test/emulators/ec2/index.js';

export const REGION = 'us-east-1';
const VPC = 'vpc-0be0c0000000000a1';
const SUBNET = 'subnet-0be0c0000000000a1';

export type CloudMechanism = 'eip' | 'route';

/** One failover pair of the cloud part and what it moves. */
export interface CloudPairSpec {
  mechanism: CloudMechanism;
  n: number;
  /** Lab node names, [first master, first backup]. */
  nodes: [string, string];
  /** Index of the pair: keeps its ids, VRID and targets apart from the others'. */
  index: number;
}

/** EC2-shaped id (17 hex digits) that encodes small numbers, so ids are readable in logs. */
function ec2Id(prefix: string, kind: number, a: number, b = 0): string {
  return `${prefix}-0be0${kind.toString(16)}${a.toString(16).padStart(6, '0')}${b.toString(16).padStart(6, '0')}`;
}

/** Node `side` (0 or 1) of the pair. */
export function nodeIds(pair: CloudPairSpec, side: number): { instanceId: string; eniId: string } {
  return { instanceId: ec2Id('i', 1, pair.index, side), eniId: ec2Id('eni', 2, pair.index, side) };
}

/** The private IP of node `side` that Elastic IP `k` of the pair binds to. */
const eipPrivateIp = (pair: CloudPairSpec, side: number, k: number): string =>
  `10.99.${100 + pair.index * 2 + side}.${k + 1}`;
const nodePrimaryIp = (pair: CloudPairSpec, side: number): string =>
  `10.99.${100 + pair.index * 2 + side}.250`;
const allocationId = (pair: CloudPairSpec, k: number): string => ec2Id('eipalloc', 3, pair.index, k);
const routeTable = (pair: CloudPairSpec): string => ec2Id('rtb', 4, pair.index);
const routeDestination = (pair: CloudPairSpec, k: number): string => `10.99.${200 + pair.index}.${k + 1}/32`;

export function cloudSeed(pairs: readonly CloudPairSpec[]): Ec2Seed {
  const seed: Required<Pick<Ec2Seed, 'instances' | 'networkInterfaces' | 'addresses' | 'routeTables'>> = {
    instances: [],
    networkInterfaces: [],
    addresses: [],
    routeTables: [],
  };
  for (const pair of pairs) {
    for (const side of [0, 1]) {
      const ids = nodeIds(pair, side);
      seed.instances.push({ instanceId: ids.instanceId });
      seed.networkInterfaces.push({
        networkInterfaceId: ids.eniId,
        subnetId: SUBNET,
        vpcId: VPC,
        privateIpAddress: nodePrimaryIp(pair, side),
        secondaryPrivateIpAddresses:
          pair.mechanism === 'eip'
            ? Array.from({ length: pair.n }, (_, k) => eipPrivateIp(pair, side, k))
            : [],
        // Off, as a route target needs it; the route mechanism would warn at start otherwise.
        sourceDestCheck: false,
        attachment: { instanceId: ids.instanceId, deviceIndex: 0 },
      });
    }
    if (pair.mechanism === 'eip') {
      for (let k = 0; k < pair.n; k++)
        seed.addresses.push({
          allocationId: allocationId(pair, k),
          publicIp: `10.99.${220 + pair.index}.${k + 1}`,
        });
    } else {
      seed.routeTables.push({
        routeTableId: routeTable(pair),
        vpcId: VPC,
        routes: [
          { destinationCidrBlock: '10.99.0.0/16', gatewayId: 'local' },
          // The routes start on the second node's ENI; the pair's first master moves them.
          ...Array.from({ length: pair.n }, (_, k) => ({
            destinationCidrBlock: routeDestination(pair, k),
            networkInterfaceId: nodeIds(pair, 1).eniId,
          })),
        ],
      });
    }
  }
  return { region: REGION, ...seed };
}

/** The `providers:` entry of node `side` of the pair. */
export function awsProviderOptions(
  pair: CloudPairSpec,
  side: number,
  endpoint: string,
): Record<string, unknown> {
  const ids = nodeIds(pair, side);
  const common = {
    type: 'aws',
    mechanism: pair.mechanism,
    region: REGION,
    endpoint,
    instance_id: ids.instanceId,
    eni_id: ids.eniId,
  };
  if (pair.mechanism === 'eip') {
    return {
      ...common,
      eips: Array.from({ length: pair.n }, (_, k) => ({
        allocation_id: allocationId(pair, k),
        private_ip: eipPrivateIp(pair, side, k),
      })),
    };
  }
  return {
    ...common,
    route_tables: [routeTable(pair)],
    destinations: Array.from({ length: pair.n }, (_, k) => routeDestination(pair, k)),
  };
}

/** The keys the emulator's commit events use for the pair's targets (see cloud-emulator.ts). */
export function targetKeys(pair: CloudPairSpec): string[] {
  return Array.from({ length: pair.n }, (_, k) =>
    pair.mechanism === 'eip' ? allocationId(pair, k) : `${routeTable(pair)}/${routeDestination(pair, k)}`,
  );
}
