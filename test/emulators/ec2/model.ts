/**
 * The authoritative EC2 state: what the control plane has committed, independent of what
 * Describe* shows (see consistency.ts). Records hold only facts; derived values (an address's
 * instance, a route's state) are computed in views.ts so they can never disagree.
 */
import { checkIdShape } from './errors.js';
import { cidrContains, isIpv4, parseCidr, parseIpv4 } from './ip.js';

export interface Tag {
  key: string;
  value: string;
}

export type InstanceStateName =
  'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

export interface InstanceRecord {
  instanceId: string;
  reservationId: string;
  state: InstanceStateName;
  availabilityZone: string;
  instanceType: string;
  imageId: string;
  tags: Tag[];
}

export interface PrivateIpRecord {
  address: string;
  primary: boolean;
}

export interface AttachmentRecord {
  attachmentId: string;
  instanceId: string;
  deviceIndex: number;
}

export interface NetworkInterfaceRecord {
  networkInterfaceId: string;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  macAddress: string;
  description: string;
  /** The primary address is always first. */
  privateIps: PrivateIpRecord[];
  sourceDestCheck: boolean;
  attachment: AttachmentRecord | null;
  tags: Tag[];
}

export interface AddressAssociationRecord {
  associationId: string;
  networkInterfaceId: string;
  privateIpAddress: string;
}

export interface AddressRecord {
  allocationId: string;
  publicIp: string;
  association: AddressAssociationRecord | null;
  tags: Tag[];
}

export type RouteTarget =
  | { kind: 'gateway'; gatewayId: string }
  | { kind: 'natGateway'; natGatewayId: string }
  /** Routes to an instance are stored as its ENI, as EC2 does. */
  | { kind: 'networkInterface'; networkInterfaceId: string };

export interface RouteRecord {
  destinationCidrBlock: string;
  target: RouteTarget;
  origin: 'CreateRouteTable' | 'CreateRoute';
}

export interface RouteTableAssociationRecord {
  associationId: string;
  subnetId: string | null;
  main: boolean;
}

export interface RouteTableRecord {
  routeTableId: string;
  vpcId: string;
  routes: RouteRecord[];
  associations: RouteTableAssociationRecord[];
  tags: Tag[];
}

export interface SubnetRecord {
  subnetId: string;
  vpcId: string;
  cidrBlock: string;
  availabilityZone: string;
}

// ---- seed shape: what tests pass in (JSON-compatible) ----

export interface Ec2Seed {
  accountId?: string;
  region?: string;
  /** Optional: when a subnet is listed, private IPs assigned in it must fall inside its CIDR. */
  subnets?: SubnetRecord[];
  instances?: Array<{
    instanceId: string;
    state?: InstanceStateName;
    availabilityZone?: string;
    instanceType?: string;
    imageId?: string;
    tags?: Record<string, string>;
  }>;
  networkInterfaces?: Array<{
    networkInterfaceId: string;
    subnetId: string;
    vpcId: string;
    availabilityZone?: string;
    macAddress?: string;
    description?: string;
    privateIpAddress: string;
    secondaryPrivateIpAddresses?: string[];
    sourceDestCheck?: boolean;
    attachment?: { instanceId: string; deviceIndex: number };
    tags?: Record<string, string>;
  }>;
  addresses?: Array<{
    allocationId: string;
    publicIp: string;
    /** privateIpAddress defaults to the ENI's primary address. */
    association?: { networkInterfaceId: string; privateIpAddress?: string; associationId?: string };
    tags?: Record<string, string>;
  }>;
  routeTables?: Array<{
    routeTableId: string;
    vpcId: string;
    routes?: Array<{
      destinationCidrBlock: string;
      gatewayId?: string;
      natGatewayId?: string;
      networkInterfaceId?: string;
      instanceId?: string;
    }>;
    main?: boolean;
    subnetIds?: string[];
    tags?: Record<string, string>;
  }>;
}

/** Deterministic EC2-shaped ids (`prefix-` + 17 hex digits) from a seeded generator. */
export class IdFactory {
  constructor(private readonly random: () => number) {}
  next(prefix: string): string {
    let hex = '';
    while (hex.length < 17) hex += Math.floor(this.random() * 16).toString(16);
    return `${prefix}${hex}`;
  }
}

function tagsOf(tags: Record<string, string> | undefined): Tag[] {
  return Object.entries(tags ?? {}).map(([key, value]) => ({ key, value }));
}

function seedError(what: string): Error {
  return new Error(`EC2 emulator seed: ${what}`);
}

export class Ec2State {
  readonly accountId: string;
  readonly region: string;
  readonly subnets = new Map<string, SubnetRecord>();
  readonly instances = new Map<string, InstanceRecord>();
  readonly networkInterfaces = new Map<string, NetworkInterfaceRecord>();
  readonly addresses = new Map<string, AddressRecord>();
  readonly routeTables = new Map<string, RouteTableRecord>();

  constructor(
    seed: Ec2Seed,
    readonly ids: IdFactory,
  ) {
    this.accountId = seed.accountId ?? '123456789012';
    this.region = seed.region ?? 'us-east-1';
    this.load(seed);
    this.validate();
  }

  /** The ENI currently holding `address` in `vpcId`, if any. */
  holderOf(vpcId: string, address: string): NetworkInterfaceRecord | undefined {
    for (const eni of this.networkInterfaces.values()) {
      if (eni.vpcId === vpcId && eni.privateIps.some((p) => p.address === address)) return eni;
    }
    return undefined;
  }

  /** The address associated with `eni`'s `privateIp`, if any. */
  addressOn(networkInterfaceId: string, privateIp: string): AddressRecord | undefined {
    for (const a of this.addresses.values()) {
      if (
        a.association?.networkInterfaceId === networkInterfaceId &&
        a.association.privateIpAddress === privateIp
      ) {
        return a;
      }
    }
    return undefined;
  }

  interfacesOf(instanceId: string): NetworkInterfaceRecord[] {
    return [...this.networkInterfaces.values()]
      .filter((e) => e.attachment?.instanceId === instanceId)
      .sort((a, b) => (a.attachment?.deviceIndex ?? 0) - (b.attachment?.deviceIndex ?? 0));
  }

  /** Subnet CIDR check; subnets that were not seeded accept any address. */
  inSubnet(subnetId: string, address: string): boolean {
    const subnet = this.subnets.get(subnetId);
    if (!subnet) return true;
    const cidr = parseCidr(subnet.cidrBlock);
    const ip = parseIpv4(address);
    return cidr !== null && ip !== null && cidrContains(cidr, ip);
  }

  private load(seed: Ec2Seed): void {
    for (const s of seed.subnets ?? []) {
      if (!parseCidr(s.cidrBlock))
        throw seedError(`subnet ${s.subnetId} has an invalid cidrBlock '${s.cidrBlock}'`);
      this.subnets.set(s.subnetId, { ...s });
    }
    const az = `${this.region}a`;
    for (const i of seed.instances ?? []) {
      checkSeedId('instance', i.instanceId);
      if (this.instances.has(i.instanceId)) throw seedError(`duplicate instance ${i.instanceId}`);
      this.instances.set(i.instanceId, {
        instanceId: i.instanceId,
        reservationId: this.ids.next('r-'),
        state: i.state ?? 'running',
        availabilityZone: i.availabilityZone ?? az,
        instanceType: i.instanceType ?? 't3.micro',
        imageId: i.imageId ?? 'ami-0123456789abcdef0',
        tags: tagsOf(i.tags),
      });
    }
    for (const n of seed.networkInterfaces ?? []) {
      checkSeedId('networkInterface', n.networkInterfaceId);
      if (this.networkInterfaces.has(n.networkInterfaceId)) {
        throw seedError(`duplicate network interface ${n.networkInterfaceId}`);
      }
      this.networkInterfaces.set(n.networkInterfaceId, {
        networkInterfaceId: n.networkInterfaceId,
        subnetId: n.subnetId,
        vpcId: n.vpcId,
        availabilityZone: n.availabilityZone ?? this.subnets.get(n.subnetId)?.availabilityZone ?? az,
        macAddress: n.macAddress ?? this.macFor(),
        description: n.description ?? '',
        privateIps: [
          { address: n.privateIpAddress, primary: true },
          ...(n.secondaryPrivateIpAddresses ?? []).map((address) => ({ address, primary: false })),
        ],
        sourceDestCheck: n.sourceDestCheck ?? true,
        attachment: n.attachment ? { ...n.attachment, attachmentId: this.ids.next('eni-attach-') } : null,
        tags: tagsOf(n.tags),
      });
    }
    for (const a of seed.addresses ?? []) {
      checkSeedId('allocation', a.allocationId);
      if (this.addresses.has(a.allocationId)) throw seedError(`duplicate address ${a.allocationId}`);
      let association: AddressAssociationRecord | null = null;
      if (a.association) {
        const eni = this.networkInterfaces.get(a.association.networkInterfaceId);
        if (!eni) {
          throw seedError(
            `address ${a.allocationId} is associated with unknown ENI ${a.association.networkInterfaceId}`,
          );
        }
        association = {
          associationId: a.association.associationId ?? this.ids.next('eipassoc-'),
          networkInterfaceId: eni.networkInterfaceId,
          privateIpAddress: a.association.privateIpAddress ?? eni.privateIps[0]!.address,
        };
      }
      this.addresses.set(a.allocationId, {
        allocationId: a.allocationId,
        publicIp: a.publicIp,
        association,
        tags: tagsOf(a.tags),
      });
    }
    for (const t of seed.routeTables ?? []) {
      checkSeedId('routeTable', t.routeTableId);
      if (this.routeTables.has(t.routeTableId)) throw seedError(`duplicate route table ${t.routeTableId}`);
      const routes: RouteRecord[] = (t.routes ?? []).map((r) => ({
        destinationCidrBlock: r.destinationCidrBlock,
        target: this.seedRouteTarget(t.routeTableId, r),
        origin: r.gatewayId === 'local' ? 'CreateRouteTable' : 'CreateRoute',
      }));
      const associations: RouteTableAssociationRecord[] = [];
      if (t.main)
        associations.push({ associationId: this.ids.next('rtbassoc-'), subnetId: null, main: true });
      for (const subnetId of t.subnetIds ?? []) {
        associations.push({ associationId: this.ids.next('rtbassoc-'), subnetId, main: false });
      }
      this.routeTables.set(t.routeTableId, {
        routeTableId: t.routeTableId,
        vpcId: t.vpcId,
        routes,
        associations,
        tags: tagsOf(t.tags),
      });
    }
  }

  private seedRouteTarget(
    table: string,
    r: NonNullable<NonNullable<Ec2Seed['routeTables']>[number]['routes']>[number],
  ): RouteTarget {
    const given = [r.gatewayId, r.natGatewayId, r.networkInterfaceId, r.instanceId].filter(
      (x) => x !== undefined,
    );
    if (given.length !== 1) {
      throw seedError(
        `route ${r.destinationCidrBlock} in ${table} needs exactly one target, got ${given.length}`,
      );
    }
    if (r.gatewayId !== undefined) return { kind: 'gateway', gatewayId: r.gatewayId };
    if (r.natGatewayId !== undefined) return { kind: 'natGateway', natGatewayId: r.natGatewayId };
    if (r.networkInterfaceId !== undefined)
      return { kind: 'networkInterface', networkInterfaceId: r.networkInterfaceId };
    const enis = this.interfacesOf(r.instanceId!);
    if (enis.length !== 1) {
      throw seedError(
        `route ${r.destinationCidrBlock} in ${table} targets instance ${r.instanceId} which has ${enis.length} ENIs; use networkInterfaceId`,
      );
    }
    return { kind: 'networkInterface', networkInterfaceId: enis[0]!.networkInterfaceId };
  }

  private macFor(): string {
    const bytes = [0x02];
    const hex = this.ids.next('').slice(0, 10);
    for (let i = 0; i < 10; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
    return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
  }

  private validate(): void {
    const seen = new Map<string, string>();
    for (const eni of this.networkInterfaces.values()) {
      if (eni.attachment && !this.instances.has(eni.attachment.instanceId)) {
        throw seedError(
          `ENI ${eni.networkInterfaceId} is attached to unknown instance ${eni.attachment.instanceId}`,
        );
      }
      for (const ip of eni.privateIps) {
        if (!isIpv4(ip.address))
          throw seedError(`ENI ${eni.networkInterfaceId} has invalid IP '${ip.address}'`);
        if (!this.inSubnet(eni.subnetId, ip.address)) {
          throw seedError(`ENI ${eni.networkInterfaceId}: ${ip.address} is outside subnet ${eni.subnetId}`);
        }
        const key = `${eni.vpcId}/${ip.address}`;
        const other = seen.get(key);
        if (other) throw seedError(`${ip.address} is on both ${other} and ${eni.networkInterfaceId}`);
        seen.set(key, eni.networkInterfaceId);
      }
    }
    const devices = new Set<string>();
    for (const eni of this.networkInterfaces.values()) {
      if (!eni.attachment) continue;
      const key = `${eni.attachment.instanceId}/${eni.attachment.deviceIndex}`;
      if (devices.has(key)) throw seedError(`two ENIs use device index ${key}`);
      devices.add(key);
    }
    const boundIps = new Set<string>();
    for (const a of this.addresses.values()) {
      if (!a.association) continue;
      const eni = this.networkInterfaces.get(a.association.networkInterfaceId)!;
      if (!eni.privateIps.some((p) => p.address === a.association!.privateIpAddress)) {
        throw seedError(
          `address ${a.allocationId} is associated with ${a.association.privateIpAddress}, which ${eni.networkInterfaceId} does not hold`,
        );
      }
      const key = `${eni.networkInterfaceId}/${a.association.privateIpAddress}`;
      if (boundIps.has(key)) throw seedError(`two addresses are associated with ${key}`);
      boundIps.add(key);
    }
    for (const t of this.routeTables.values()) {
      for (const r of t.routes) {
        if (!parseCidr(r.destinationCidrBlock)) {
          throw seedError(
            `route table ${t.routeTableId} has invalid destination '${r.destinationCidrBlock}'`,
          );
        }
        if (
          r.target.kind === 'networkInterface' &&
          !this.networkInterfaces.has(r.target.networkInterfaceId)
        ) {
          throw seedError(
            `route ${r.destinationCidrBlock} in ${t.routeTableId} targets unknown ENI ${r.target.networkInterfaceId}`,
          );
        }
      }
    }
  }
}

function checkSeedId(kind: Parameters<typeof checkIdShape>[0], id: string): void {
  try {
    checkIdShape(kind, id);
  } catch (e) {
    throw seedError(
      `${(e as Error).message}; seed ids must look like real EC2 ids (8 or 17 lowercase hex digits)`,
    );
  }
}
