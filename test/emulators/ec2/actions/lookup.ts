/** Lookups shared by several actions, with the error EC2 returns when they fail. */
import { checkIdShape, Ec2Error, notFound } from '../errors.js';
import type { Ec2State, InstanceRecord, NetworkInterfaceRecord, RouteTableRecord } from '../model.js';

export function requireInterface(state: Ec2State, id: string): NetworkInterfaceRecord {
  checkIdShape('networkInterface', id);
  const eni = state.networkInterfaces.get(id);
  if (!eni) throw notFound('networkInterface', id);
  return eni;
}

export function requireInstance(state: Ec2State, id: string): InstanceRecord {
  checkIdShape('instance', id);
  const instance = state.instances.get(id);
  if (!instance) throw notFound('instance', id);
  return instance;
}

export function requireRouteTable(state: Ec2State, id: string): RouteTableRecord {
  checkIdShape('routeTable', id);
  const table = state.routeTables.get(id);
  if (!table) throw notFound('routeTable', id);
  return table;
}

/** EC2 resolves an instance to its ENI only when that is unambiguous. */
export function interfaceOfInstance(state: Ec2State, instanceId: string): NetworkInterfaceRecord {
  requireInstance(state, instanceId);
  const enis = state.interfacesOf(instanceId);
  if (enis.length > 1) {
    throw new Ec2Error(
      'InvalidInstanceID',
      `There are multiple interfaces attached to instance '${instanceId}'. Please specify an interface ID for the operation instead.`,
    );
  }
  const eni = enis[0];
  if (!eni)
    throw new Ec2Error('InvalidInstanceID', `The instance '${instanceId}' has no network interface attached`);
  return eni;
}
