/**
 * What Describe* shows for each resource, derived from the authoritative state. Views are plain
 * JSON data: the consistency layer snapshots them, filters match on them and the XML writer renders
 * them, so all three always agree.
 */
import type { Ec2State, InstanceStateName, Tag } from './model.js';

export interface AddressView {
  allocationId: string;
  publicIp: string;
  domain: 'vpc';
  associationId?: string;
  networkInterfaceId?: string;
  networkInterfaceOwnerId?: string;
  privateIpAddress?: string;
  instanceId?: string;
  tags: Tag[];
}

export interface IpAssociationView {
  allocationId: string;
  associationId: string;
  ipOwnerId: string;
  publicIp: string;
  publicDnsName: string;
}

export interface NetworkInterfaceView {
  networkInterfaceId: string;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  description: string;
  ownerId: string;
  macAddress: string;
  status: 'in-use' | 'available';
  privateIpAddress: string;
  privateDnsName: string;
  sourceDestCheck: boolean;
  interfaceType: 'interface';
  association?: IpAssociationView;
  attachment?: {
    attachmentId: string;
    instanceId: string;
    instanceOwnerId: string;
    deviceIndex: number;
    status: 'attached';
    deleteOnTermination: boolean;
  };
  privateIpAddresses: Array<{
    privateIpAddress: string;
    privateDnsName: string;
    primary: boolean;
    association?: IpAssociationView;
  }>;
  tags: Tag[];
}

export interface RouteView {
  destinationCidrBlock: string;
  gatewayId?: string;
  natGatewayId?: string;
  instanceId?: string;
  instanceOwnerId?: string;
  networkInterfaceId?: string;
  origin: 'CreateRouteTable' | 'CreateRoute';
  state: 'active' | 'blackhole';
}

export interface RouteTableView {
  routeTableId: string;
  vpcId: string;
  ownerId: string;
  routes: RouteView[];
  associations: Array<{
    routeTableAssociationId: string;
    routeTableId: string;
    subnetId?: string;
    main: boolean;
  }>;
  tags: Tag[];
}

export interface InstanceView {
  instanceId: string;
  reservationId: string;
  ownerId: string;
  imageId: string;
  instanceType: string;
  state: { code: number; name: InstanceStateName };
  availabilityZone: string;
  privateIpAddress?: string;
  privateDnsName?: string;
  publicIpAddress?: string;
  subnetId?: string;
  vpcId?: string;
  macAddress?: string;
  sourceDestCheck?: boolean;
  networkInterfaces: NetworkInterfaceView[];
  tags: Tag[];
}

export type ResourceKind = 'address' | 'networkInterface' | 'routeTable' | 'instance';

export interface ViewsByKind {
  address: AddressView;
  networkInterface: NetworkInterfaceView;
  routeTable: RouteTableView;
  instance: InstanceView;
}

const STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

function privateDnsName(region: string, ip: string): string {
  const host = `ip-${ip.replaceAll('.', '-')}`;
  return region === 'us-east-1' ? `${host}.ec2.internal` : `${host}.${region}.compute.internal`;
}

function publicDnsName(region: string, ip: string): string {
  const host = `ec2-${ip.replaceAll('.', '-')}`;
  return region === 'us-east-1'
    ? `${host}.compute-1.amazonaws.com`
    : `${host}.${region}.compute.amazonaws.com`;
}

export function renderAddress(state: Ec2State, allocationId: string): AddressView | undefined {
  const a = state.addresses.get(allocationId);
  if (!a) return undefined;
  const view: AddressView = {
    allocationId: a.allocationId,
    publicIp: a.publicIp,
    domain: 'vpc',
    tags: a.tags,
  };
  if (a.association) {
    const eni = state.networkInterfaces.get(a.association.networkInterfaceId);
    view.associationId = a.association.associationId;
    view.networkInterfaceId = a.association.networkInterfaceId;
    view.networkInterfaceOwnerId = state.accountId;
    view.privateIpAddress = a.association.privateIpAddress;
    if (eni?.attachment) view.instanceId = eni.attachment.instanceId;
  }
  return view;
}

function ipAssociation(state: Ec2State, eniId: string, ip: string): IpAssociationView | undefined {
  const a = state.addressOn(eniId, ip);
  if (!a?.association) return undefined;
  return {
    allocationId: a.allocationId,
    associationId: a.association.associationId,
    ipOwnerId: state.accountId,
    publicIp: a.publicIp,
    publicDnsName: publicDnsName(state.region, a.publicIp),
  };
}

export function renderNetworkInterface(state: Ec2State, id: string): NetworkInterfaceView | undefined {
  const eni = state.networkInterfaces.get(id);
  if (!eni) return undefined;
  const primary = eni.privateIps[0]!.address;
  const view: NetworkInterfaceView = {
    networkInterfaceId: eni.networkInterfaceId,
    subnetId: eni.subnetId,
    vpcId: eni.vpcId,
    availabilityZone: eni.availabilityZone,
    description: eni.description,
    ownerId: state.accountId,
    macAddress: eni.macAddress,
    status: eni.attachment ? 'in-use' : 'available',
    privateIpAddress: primary,
    privateDnsName: privateDnsName(state.region, primary),
    sourceDestCheck: eni.sourceDestCheck,
    interfaceType: 'interface',
    privateIpAddresses: eni.privateIps.map((p) => {
      const association = ipAssociation(state, id, p.address);
      return {
        privateIpAddress: p.address,
        privateDnsName: privateDnsName(state.region, p.address),
        primary: p.primary,
        ...(association ? { association } : {}),
      };
    }),
    tags: eni.tags,
  };
  const association = ipAssociation(state, id, primary);
  if (association) view.association = association;
  if (eni.attachment) {
    view.attachment = {
      attachmentId: eni.attachment.attachmentId,
      instanceId: eni.attachment.instanceId,
      instanceOwnerId: state.accountId,
      deviceIndex: eni.attachment.deviceIndex,
      status: 'attached',
      deleteOnTermination: eni.attachment.deviceIndex === 0,
    };
  }
  return view;
}

export function renderRouteTable(state: Ec2State, id: string): RouteTableView | undefined {
  const t = state.routeTables.get(id);
  if (!t) return undefined;
  return {
    routeTableId: t.routeTableId,
    vpcId: t.vpcId,
    ownerId: state.accountId,
    routes: t.routes.map((r): RouteView => {
      const base = { destinationCidrBlock: r.destinationCidrBlock, origin: r.origin };
      switch (r.target.kind) {
        case 'gateway':
          return { ...base, gatewayId: r.target.gatewayId, state: 'active' };
        case 'natGateway':
          return { ...base, natGatewayId: r.target.natGatewayId, state: 'active' };
        case 'networkInterface': {
          // A route to an ENI that is detached, gone, or on a stopped instance drops traffic.
          const eni = state.networkInterfaces.get(r.target.networkInterfaceId);
          const instance = eni?.attachment ? state.instances.get(eni.attachment.instanceId) : undefined;
          return {
            ...base,
            networkInterfaceId: r.target.networkInterfaceId,
            ...(instance ? { instanceId: instance.instanceId, instanceOwnerId: state.accountId } : {}),
            state: instance?.state === 'running' ? 'active' : 'blackhole',
          };
        }
      }
    }),
    associations: t.associations.map((a) => ({
      routeTableAssociationId: a.associationId,
      routeTableId: t.routeTableId,
      ...(a.subnetId ? { subnetId: a.subnetId } : {}),
      main: a.main,
    })),
    tags: t.tags,
  };
}

export function renderInstance(state: Ec2State, id: string): InstanceView | undefined {
  const i = state.instances.get(id);
  if (!i) return undefined;
  const enis = state
    .interfacesOf(id)
    .map((e) => renderNetworkInterface(state, e.networkInterfaceId))
    .filter((v): v is NetworkInterfaceView => v !== undefined);
  const primary = enis[0];
  const view: InstanceView = {
    instanceId: i.instanceId,
    reservationId: i.reservationId,
    ownerId: state.accountId,
    imageId: i.imageId,
    instanceType: i.instanceType,
    state: { code: STATE_CODES[i.state], name: i.state },
    availabilityZone: i.availabilityZone,
    networkInterfaces: enis,
    tags: i.tags,
  };
  if (primary) {
    view.privateIpAddress = primary.privateIpAddress;
    view.privateDnsName = primary.privateDnsName;
    view.subnetId = primary.subnetId;
    view.vpcId = primary.vpcId;
    view.macAddress = primary.macAddress;
    view.sourceDestCheck = primary.sourceDestCheck;
    if (primary.association) view.publicIpAddress = primary.association.publicIp;
  }
  return view;
}

export function idsOf(state: Ec2State, kind: ResourceKind): string[] {
  switch (kind) {
    case 'address':
      return [...state.addresses.keys()];
    case 'networkInterface':
      return [...state.networkInterfaces.keys()];
    case 'routeTable':
      return [...state.routeTables.keys()];
    case 'instance':
      return [...state.instances.keys()];
  }
}

export function render<K extends ResourceKind>(
  state: Ec2State,
  kind: K,
  id: string,
): ViewsByKind[K] | undefined {
  switch (kind) {
    case 'address':
      return renderAddress(state, id) as ViewsByKind[K] | undefined;
    case 'networkInterface':
      return renderNetworkInterface(state, id) as ViewsByKind[K] | undefined;
    case 'routeTable':
      return renderRouteTable(state, id) as ViewsByKind[K] | undefined;
    default:
      return renderInstance(state, id) as ViewsByKind[K] | undefined;
  }
}

export const RESOURCE_KINDS: readonly ResourceKind[] = [
  'address',
  'networkInterface',
  'routeTable',
  'instance',
];
