/**
 * The emulated VPC of the cloud benchmark: one instance and ENI per lab node, 50 Elastic IPs and
 * one route table with 50 /32 routes. Every address in it, private or "public", is a 10.99.x.x
 * literal: they are rows in the emulator's tables, never configured on an interface.
 */
import type { Ec2Seed } from '../../test/emulators/ec2/index.js';

export const REGION = 'us-east-1';
export const MAX_TARGETS = 50;
const VPC = 'vpc-0be0c0000000000a1';
const SUBNET = 'subnet-0be0c0000000000a1';
export const ROUTE_TABLE = 'rtb-0be0c0000000000a1';

/** EC2-shaped id (17 hex digits) that encodes a small number, so ids are readable in logs. */
function ec2Id(prefix: string, kind: number, n: number): string {
  return `${prefix}-0be0${kind.toString(16)}${n.toString(16).padStart(12, '0')}`;
}

export interface CloudNodeIds {
  instanceId: string;
  eniId: string;
  /** The ENI's private IPs that the Elastic IPs bind to (one per EIP). */
  eipPrivateIps: string[];
}

/** Ids of the node with lab index `index` (0-based); the third octet keeps nodes apart. */
export function nodeIds(index: number): CloudNodeIds {
  return {
    instanceId: ec2Id('i', 1, index + 1),
    eniId: ec2Id('eni', 2, index + 1),
    eipPrivateIps: Array.from({ length: MAX_TARGETS }, (_, k) => `10.99.${110 + index}.${k + 1}`),
  };
}

export const allocationId = (k: number): string => ec2Id('eipalloc', 3, k + 1);
export const routeDestination = (k: number): string => `10.99.210.${k + 1}/32`;

export function cloudSeed(nodes: { index: number; addr4: string }[]): Ec2Seed {
  return {
    region: REGION,
    instances: nodes.map((n) => ({ instanceId: nodeIds(n.index).instanceId })),
    networkInterfaces: nodes.map((n) => {
      const ids = nodeIds(n.index);
      return {
        networkInterfaceId: ids.eniId,
        subnetId: SUBNET,
        vpcId: VPC,
        privateIpAddress: n.addr4,
        secondaryPrivateIpAddresses: ids.eipPrivateIps,
        // Off, as a route target needs it; the route mechanism would warn at start otherwise.
        sourceDestCheck: false,
        attachment: { instanceId: ids.instanceId, deviceIndex: 0 },
      };
    }),
    addresses: Array.from({ length: MAX_TARGETS }, (_, k) => ({
      allocationId: allocationId(k),
      publicIp: `10.99.200.${k + 1}`,
    })),
    routeTables: [
      {
        routeTableId: ROUTE_TABLE,
        vpcId: VPC,
        main: true,
        routes: [
          { destinationCidrBlock: '10.99.0.0/16', gatewayId: 'local' },
          // Every node's routes start on the first node's ENI; the first master of a cell moves them.
          ...Array.from({ length: MAX_TARGETS }, (_, k) => ({
            destinationCidrBlock: routeDestination(k),
            networkInterfaceId: nodeIds(nodes[0]!.index).eniId,
          })),
        ],
      },
    ],
  };
}

export type CloudMechanism = 'eip' | 'route';

/** The `providers:` entry of one node for `n` targets. */
export function awsProviderOptions(
  mechanism: CloudMechanism,
  n: number,
  nodeIndex: number,
  endpoint: string,
): Record<string, unknown> {
  const ids = nodeIds(nodeIndex);
  const common = {
    type: 'aws',
    mechanism,
    region: REGION,
    endpoint,
    instance_id: ids.instanceId,
    eni_id: ids.eniId,
  };
  if (mechanism === 'eip') {
    return {
      ...common,
      eips: Array.from({ length: n }, (_, k) => ({
        allocation_id: allocationId(k),
        private_ip: ids.eipPrivateIps[k]!,
      })),
    };
  }
  return {
    ...common,
    route_tables: [ROUTE_TABLE],
    destinations: Array.from({ length: n }, (_, k) => routeDestination(k)),
  };
}

/** The keys the emulator's commit events use for the first `n` targets of a mechanism. */
export function targetKeys(mechanism: CloudMechanism, n: number): string[] {
  return Array.from({ length: n }, (_, k) =>
    mechanism === 'eip' ? allocationId(k) : `${ROUTE_TABLE}/${routeDestination(k)}`,
  );
}
