/** ENIs: DescribeNetworkInterfaces, AssignPrivateIpAddresses, UnassignPrivateIpAddresses. */
import { checkIdShape, Ec2Error, invalidValue, missingParameter, notFound } from '../errors.js';
import { applyFilters, type FilterTable } from '../filters.js';
import { isIpv4, parseCidr } from '../ip.js';
import type { Ec2State, NetworkInterfaceRecord } from '../model.js';
import type { IpAssociationView, NetworkInterfaceView } from '../views.js';
import { el, set, tagSet, type XmlNode } from '../wire.js';
import type { ActionSpec } from './context.js';
import { requireInterface } from './lookup.js';

const ENI_FILTERS: FilterTable<NetworkInterfaceView> = {
  'addresses.private-ip-address': (v) => v.privateIpAddresses.map((p) => p.privateIpAddress),
  'addresses.primary': (v) => v.privateIpAddresses.map((p) => p.primary),
  'addresses.association.public-ip': (v) => v.privateIpAddresses.map((p) => p.association?.publicIp),
  'addresses.association.owner-id': (v) => v.privateIpAddresses.map((p) => p.association?.ipOwnerId),
  'association.allocation-id': (v) => v.association?.allocationId,
  'association.association-id': (v) => v.association?.associationId,
  'association.ip-owner-id': (v) => v.association?.ipOwnerId,
  'association.public-ip': (v) => v.association?.publicIp,
  'association.public-dns-name': (v) => v.association?.publicDnsName,
  'attachment.attachment-id': (v) => v.attachment?.attachmentId,
  'attachment.delete-on-termination': (v) => v.attachment?.deleteOnTermination,
  'attachment.device-index': (v) => v.attachment?.deviceIndex,
  'attachment.instance-id': (v) => v.attachment?.instanceId,
  'attachment.instance-owner-id': (v) => v.attachment?.instanceOwnerId,
  'attachment.status': (v) => v.attachment?.status,
  'availability-zone': (v) => v.availabilityZone,
  description: (v) => v.description,
  'interface-type': (v) => v.interfaceType,
  'mac-address': (v) => v.macAddress,
  'network-interface-id': (v) => v.networkInterfaceId,
  'owner-id': (v) => v.ownerId,
  'private-dns-name': (v) => v.privateDnsName,
  'private-ip-address': (v) => v.privateIpAddresses.map((p) => p.privateIpAddress),
  'source-dest-check': (v) => v.sourceDestCheck,
  status: (v) => v.status,
  'subnet-id': (v) => v.subnetId,
  'vpc-id': (v) => v.vpcId,
};

export function associationXml(a: IpAssociationView | undefined, withIds: boolean): XmlNode[] {
  if (!a) return [];
  return el('association', [
    ...el('publicIp', a.publicIp),
    ...el('publicDnsName', a.publicDnsName),
    ...el('ipOwnerId', a.ipOwnerId),
    ...(withIds ? [...el('allocationId', a.allocationId), ...el('associationId', a.associationId)] : []),
  ]);
}

/**
 * One ENI as DescribeNetworkInterfaces shows it; `instanceShape` gives the smaller
 * InstanceNetworkInterface form embedded in DescribeInstances.
 */
export function networkInterfaceXml(v: NetworkInterfaceView, instanceShape = false): XmlNode[] {
  const withIds = !instanceShape;
  return [
    ...el('networkInterfaceId', v.networkInterfaceId),
    ...el('subnetId', v.subnetId),
    ...el('vpcId', v.vpcId),
    ...(instanceShape ? [] : el('availabilityZone', v.availabilityZone)),
    ...el('description', v.description),
    ...el('ownerId', v.ownerId),
    ...(instanceShape ? [] : el('requesterManaged', false)),
    ...el('status', v.status),
    ...el('macAddress', v.macAddress),
    ...el('privateIpAddress', v.privateIpAddress),
    ...el('privateDnsName', v.privateDnsName),
    ...el('sourceDestCheck', v.sourceDestCheck),
    ...set('groupSet', [], () => []),
    ...(v.attachment
      ? el('attachment', [
          ...el('attachmentId', v.attachment.attachmentId),
          ...(instanceShape
            ? []
            : [
                ...el('instanceId', v.attachment.instanceId),
                ...el('instanceOwnerId', v.attachment.instanceOwnerId),
              ]),
          ...el('deviceIndex', v.attachment.deviceIndex),
          ...el('status', v.attachment.status),
          ...el('deleteOnTermination', v.attachment.deleteOnTermination),
        ])
      : []),
    ...associationXml(v.association, withIds),
    ...(instanceShape ? [] : tagSet(v.tags)),
    ...set('privateIpAddressesSet', v.privateIpAddresses, (p) => [
      ...el('privateIpAddress', p.privateIpAddress),
      ...el('privateDnsName', p.privateDnsName),
      ...el('primary', p.primary),
      ...associationXml(p.association, withIds),
    ]),
    ...set('ipv6AddressesSet', [], () => []),
    ...el('interfaceType', v.interfaceType),
  ];
}

export const DescribeNetworkInterfaces: ActionSpec = {
  mutating: false,
  run(ctx) {
    const visible = ctx.visible('networkInterface');
    const ids = ctx.params.list('NetworkInterfaceId');
    for (const id of ids) {
      checkIdShape('networkInterface', id);
      if (!visible.has(id)) throw notFound('networkInterface', id);
    }
    let views = [...visible.values()];
    if (ids.length > 0) views = views.filter((v) => ids.includes(v.networkInterfaceId));
    views = applyFilters(views, ctx.params.filters(), ENI_FILTERS);
    return set('networkInterfaceSet', views, (v) => networkInterfaceXml(v));
  },
};

/** Lowest free host addresses in the ENI's subnet; AWS reserves the first four and the last. */
function pickFreeAddresses(state: Ec2State, eni: NetworkInterfaceRecord, count: number): string[] {
  const subnet = state.subnets.get(eni.subnetId);
  const cidr = subnet ? parseCidr(subnet.cidrBlock) : null;
  if (!subnet || !cidr) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `EC2 emulator: SecondaryPrivateIpAddressCount needs subnet ${eni.subnetId} (with its cidrBlock) in the seed's subnets`,
    );
  }
  const size = 2 ** (32 - cidr.prefix);
  const network = Math.floor(cidr.base / size) * size;
  const out: string[] = [];
  for (let n = network + 4; n < network + size - 1 && out.length < count; n++) {
    const ip = [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
    if (!state.holderOf(eni.vpcId, ip)) out.push(ip);
  }
  if (out.length < count) {
    throw new Ec2Error(
      'InsufficientFreeAddressesInSubnet',
      `The specified subnet ${eni.subnetId} does not have enough free addresses to satisfy the request.`,
    );
  }
  return out;
}

export const AssignPrivateIpAddresses: ActionSpec = {
  mutating: true,
  run(ctx) {
    const eniId = ctx.params.str('NetworkInterfaceId');
    if (eniId === undefined) throw missingParameter('NetworkInterfaceId');
    const eni = requireInterface(ctx.state, eniId);
    const requested = ctx.params.list('PrivateIpAddress');
    const countText = ctx.params.str('SecondaryPrivateIpAddressCount');
    if (requested.length > 0 && countText !== undefined) {
      throw new Ec2Error(
        'InvalidParameterCombination',
        'Specify either PrivateIpAddress or SecondaryPrivateIpAddressCount, not both',
      );
    }
    let ips: string[];
    if (countText !== undefined) {
      const count = Number(countText);
      if (!Number.isInteger(count) || count < 1) {
        throw invalidValue('SecondaryPrivateIpAddressCount', countText, 'It must be a positive integer.');
      }
      ips = pickFreeAddresses(ctx.state, eni, count);
    } else if (requested.length > 0) {
      ips = requested;
    } else {
      throw missingParameter('PrivateIpAddress');
    }
    const allowReassignment = ctx.params.bool('AllowReassignment') === true;
    // Validate everything first: EC2 applies all addresses or none.
    const moves: Array<{ ip: string; from: NetworkInterfaceRecord | undefined }> = [];
    for (const ip of ips) {
      if (!isIpv4(ip)) throw invalidValue('PrivateIpAddress', ip, 'It is not a valid IPv4 address.');
      const subnetCidr = ctx.state.subnets.get(eni.subnetId)?.cidrBlock;
      if (!ctx.state.inSubnet(eni.subnetId, ip)) {
        throw new Ec2Error(
          'InvalidParameterValue',
          `Address ${ip} does not fall within the subnet's address range${subnetCidr ? ` (${subnetCidr})` : ''}`,
        );
      }
      const holder = ctx.state.holderOf(eni.vpcId, ip);
      if (holder === eni) continue;
      if (holder) {
        if (holder.privateIps.find((p) => p.address === ip)?.primary) {
          throw new Ec2Error(
            'InvalidParameterValue',
            `Address ${ip} is the primary private IP address of ${holder.networkInterfaceId} and cannot be reassigned`,
          );
        }
        if (!allowReassignment) {
          throw new Ec2Error(
            'InvalidParameterValue',
            `Address ${ip} is already assigned to another network interface`,
          );
        }
      }
      moves.push({ ip, from: holder });
    }
    for (const { ip, from } of moves) {
      if (from) {
        from.privateIps = from.privateIps.filter((p) => p.address !== ip);
        // A reassigned secondary IP keeps its Elastic IP association.
        const eip = ctx.state.addressOn(from.networkInterfaceId, ip);
        if (eip?.association) eip.association.networkInterfaceId = eni.networkInterfaceId;
      }
      eni.privateIps.push({ address: ip, primary: false });
    }
    return [
      ...el('networkInterfaceId', eni.networkInterfaceId),
      ...set('assignedPrivateIpAddressesSet', ips, (ip) => el('privateIpAddress', ip)),
      ...el('return', true),
    ];
  },
};

export const UnassignPrivateIpAddresses: ActionSpec = {
  mutating: true,
  run(ctx) {
    const eniId = ctx.params.str('NetworkInterfaceId');
    if (eniId === undefined) throw missingParameter('NetworkInterfaceId');
    const eni = requireInterface(ctx.state, eniId);
    const ips = ctx.params.list('PrivateIpAddress');
    if (ips.length === 0) throw missingParameter('PrivateIpAddress');
    for (const ip of ips) {
      const held = eni.privateIps.find((p) => p.address === ip);
      if (!held) {
        throw new Ec2Error(
          'InvalidParameterValue',
          `Some of the specified addresses are not assigned to interface ${eni.networkInterfaceId}`,
        );
      }
      if (held.primary) {
        throw new Ec2Error(
          'InvalidParameterValue',
          `The primary private IP address ${ip} of ${eni.networkInterfaceId} cannot be unassigned`,
        );
      }
    }
    for (const ip of ips) {
      // Releasing a secondary IP releases the Elastic IP bound to it.
      const eip = ctx.state.addressOn(eni.networkInterfaceId, ip);
      if (eip) eip.association = null;
      eni.privateIps = eni.privateIps.filter((p) => p.address !== ip);
    }
    return el('return', true);
  },
};
