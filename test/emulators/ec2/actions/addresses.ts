/** Elastic IPs: DescribeAddresses, AssociateAddress, DisassociateAddress. */
import { checkIdShape, Ec2Error, missingParameter, notFound } from '../errors.js';
import type { AddressRecord, NetworkInterfaceRecord } from '../model.js';
import { applyFilters, type FilterTable } from '../filters.js';
import type { AddressView } from '../views.js';
import { el, set, tagSet, type XmlNode } from '../wire.js';
import type { ActionContext, ActionSpec } from './context.js';
import { interfaceOfInstance, requireInterface } from './lookup.js';

const ADDRESS_FILTERS: FilterTable<AddressView> = {
  'allocation-id': (v) => v.allocationId,
  'association-id': (v) => v.associationId,
  domain: (v) => v.domain,
  'instance-id': (v) => v.instanceId,
  'network-interface-id': (v) => v.networkInterfaceId,
  'network-interface-owner-id': (v) => v.networkInterfaceOwnerId,
  'private-ip-address': (v) => v.privateIpAddress,
  'public-ip': (v) => v.publicIp,
};

function addressXml(v: AddressView, region: string): XmlNode[] {
  return [
    ...el('publicIp', v.publicIp),
    ...el('allocationId', v.allocationId),
    ...el('domain', v.domain),
    ...el('instanceId', v.instanceId),
    ...el('associationId', v.associationId),
    ...el('networkInterfaceId', v.networkInterfaceId),
    ...el('networkInterfaceOwnerId', v.networkInterfaceOwnerId),
    ...el('privateIpAddress', v.privateIpAddress),
    ...tagSet(v.tags),
    ...el('publicIpv4Pool', 'amazon'),
    ...el('networkBorderGroup', region),
  ];
}

export const DescribeAddresses: ActionSpec = {
  mutating: false,
  run(ctx) {
    const visible = ctx.visible('address');
    const ids = ctx.params.list('AllocationId');
    const ips = ctx.params.list('PublicIp');
    for (const id of ids) {
      checkIdShape('allocation', id);
      if (!visible.has(id)) throw notFound('allocation', id);
    }
    const all = [...visible.values()];
    for (const ip of ips) {
      if (!all.some((a) => a.publicIp === ip))
        throw new Ec2Error('InvalidAddress.NotFound', `Address '${ip}' not found.`);
    }
    let views = all;
    if (ids.length > 0) views = views.filter((v) => ids.includes(v.allocationId));
    if (ips.length > 0) views = views.filter((v) => ips.includes(v.publicIp));
    views = applyFilters(views, ctx.params.filters(), ADDRESS_FILTERS);
    return set('addressesSet', views, (v) => addressXml(v, ctx.state.region));
  },
};

function resolveAddress(ctx: ActionContext): AddressRecord {
  const allocationId = ctx.params.str('AllocationId');
  const publicIp = ctx.params.str('PublicIp');
  if (allocationId !== undefined) {
    checkIdShape('allocation', allocationId);
    const a = ctx.state.addresses.get(allocationId);
    if (!a) throw notFound('allocation', allocationId);
    return a;
  }
  if (publicIp !== undefined) {
    const a = [...ctx.state.addresses.values()].find((x) => x.publicIp === publicIp);
    if (!a) throw new Ec2Error('InvalidAddress.NotFound', `Address '${publicIp}' not found.`);
    return a;
  }
  throw missingParameter('AllocationId');
}

function resolveTarget(ctx: ActionContext): NetworkInterfaceRecord {
  const eniId = ctx.params.str('NetworkInterfaceId');
  const instanceId = ctx.params.str('InstanceId');
  if (eniId !== undefined && instanceId !== undefined) {
    throw new Ec2Error(
      'InvalidParameterCombination',
      'You may specify either an instance ID or a network interface ID, but not both',
    );
  }
  if (eniId !== undefined) return requireInterface(ctx.state, eniId);
  if (instanceId !== undefined) return interfaceOfInstance(ctx.state, instanceId);
  throw new Ec2Error('MissingParameter', 'Either an instance ID or a network interface ID must be specified');
}

export const AssociateAddress: ActionSpec = {
  mutating: true,
  run(ctx) {
    const address = resolveAddress(ctx);
    const eni = resolveTarget(ctx);
    const privateIp = ctx.params.str('PrivateIpAddress') ?? eni.privateIps[0]!.address;
    if (!eni.privateIps.some((p) => p.address === privateIp)) {
      throw new Ec2Error(
        'InvalidParameterValue',
        `The private IP address ${privateIp} is not assigned to network interface ${eni.networkInterfaceId}`,
      );
    }
    const current = address.association;
    if (
      current &&
      current.networkInterfaceId === eni.networkInterfaceId &&
      current.privateIpAddress === privateIp
    ) {
      // EC2 documents AssociateAddress as idempotent: repeating it is not an error.
      return el('associationId', current.associationId);
    }
    if (current) {
      const allow = ctx.params.bool('AllowReassociation');
      const refused = ctx.reassociation === 'automatic' ? allow === false : allow !== true;
      if (refused) {
        throw new Ec2Error(
          'Resource.AlreadyAssociated',
          `resource ${address.allocationId} is already associated with associate-id ${current.associationId}`,
        );
      }
    }
    // An ENI private IP holds at most one EIP: the one already there is disassociated.
    const displaced = ctx.state.addressOn(eni.networkInterfaceId, privateIp);
    if (displaced && displaced !== address) displaced.association = null;
    address.association = {
      associationId: ctx.state.ids.next('eipassoc-'),
      networkInterfaceId: eni.networkInterfaceId,
      privateIpAddress: privateIp,
    };
    return el('associationId', address.association.associationId);
  },
};

export const DisassociateAddress: ActionSpec = {
  mutating: true,
  run(ctx) {
    const associationId = ctx.params.str('AssociationId');
    const publicIp = ctx.params.str('PublicIp');
    if (associationId !== undefined) {
      checkIdShape('association', associationId);
      const a = [...ctx.state.addresses.values()].find((x) => x.association?.associationId === associationId);
      if (!a) throw notFound('association', associationId);
      a.association = null;
    } else if (publicIp !== undefined) {
      const a = [...ctx.state.addresses.values()].find((x) => x.publicIp === publicIp);
      if (!a) throw new Ec2Error('InvalidAddress.NotFound', `Address '${publicIp}' not found.`);
      a.association = null;
    } else {
      throw missingParameter('AssociationId');
    }
    return el('return', true);
  },
};
