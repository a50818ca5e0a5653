/** DescribeInstances: enough of the instance shape for identity and ENI lookups. */
import { checkIdShape, notFound } from '../errors.js';
import { applyFilters, type FilterTable } from '../filters.js';
import type { InstanceView } from '../views.js';
import { el, set, tagSet, type XmlNode } from '../wire.js';
import type { ActionSpec } from './context.js';
import { networkInterfaceXml } from './network-interfaces.js';

const INSTANCE_FILTERS: FilterTable<InstanceView> = {
  'availability-zone': (v) => v.availabilityZone,
  'image-id': (v) => v.imageId,
  'instance-id': (v) => v.instanceId,
  'instance-state-code': (v) => v.state.code,
  'instance-state-name': (v) => v.state.name,
  'instance-type': (v) => v.instanceType,
  'ip-address': (v) => v.publicIpAddress,
  'network-interface.addresses.private-ip-address': (v) =>
    v.networkInterfaces.flatMap((n) => n.privateIpAddresses.map((p) => p.privateIpAddress)),
  'network-interface.mac-address': (v) => v.networkInterfaces.map((n) => n.macAddress),
  'network-interface.network-interface-id': (v) => v.networkInterfaces.map((n) => n.networkInterfaceId),
  'owner-id': (v) => v.ownerId,
  'private-ip-address': (v) => v.privateIpAddress,
  'reservation-id': (v) => v.reservationId,
  'subnet-id': (v) => v.subnetId,
  'vpc-id': (v) => v.vpcId,
};

function instanceXml(v: InstanceView): XmlNode[] {
  return [
    ...el('instanceId', v.instanceId),
    ...el('imageId', v.imageId),
    ...el('instanceState', [...el('code', v.state.code), ...el('name', v.state.name)]),
    ...el('privateDnsName', v.privateDnsName ?? ''),
    ...el('dnsName', ''),
    ...el('reason', ''),
    ...el('amiLaunchIndex', 0),
    ...el('instanceType', v.instanceType),
    ...el('placement', [...el('availabilityZone', v.availabilityZone), ...el('tenancy', 'default')]),
    ...el('monitoring', el('state', 'disabled')),
    ...el('subnetId', v.subnetId),
    ...el('vpcId', v.vpcId),
    ...el('privateIpAddress', v.privateIpAddress),
    ...el('ipAddress', v.publicIpAddress),
    ...el('sourceDestCheck', v.sourceDestCheck),
    ...set('groupSet', [], () => []),
    ...el('architecture', 'x86_64'),
    ...el('rootDeviceType', 'ebs'),
    ...el('rootDeviceName', '/dev/xvda'),
    ...el('virtualizationType', 'hvm'),
    ...tagSet(v.tags),
    ...el('hypervisor', 'xen'),
    ...set('networkInterfaceSet', v.networkInterfaces, (n) => networkInterfaceXml(n, true)),
  ];
}

export const DescribeInstances: ActionSpec = {
  mutating: false,
  run(ctx) {
    const visible = ctx.visible('instance');
    const ids = ctx.params.list('InstanceId');
    for (const id of ids) {
      checkIdShape('instance', id);
      if (!visible.has(id)) throw notFound('instance', id);
    }
    let views = [...visible.values()];
    if (ids.length > 0) views = views.filter((v) => ids.includes(v.instanceId));
    views = applyFilters(views, ctx.params.filters(), INSTANCE_FILTERS);
    const reservations = new Map<string, InstanceView[]>();
    for (const v of views)
      reservations.set(v.reservationId, [...(reservations.get(v.reservationId) ?? []), v]);
    return set('reservationSet', [...reservations.values()], (group) => [
      ...el('reservationId', group[0]!.reservationId),
      ...el('ownerId', group[0]!.ownerId),
      ...set('groupSet', [], () => []),
      ...set('instancesSet', group, instanceXml),
    ]);
  },
};
