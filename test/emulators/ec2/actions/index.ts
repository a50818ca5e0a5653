import { AssociateAddress, DescribeAddresses, DisassociateAddress } from './addresses.js';
import type { ActionSpec } from './context.js';
import { DescribeInstances } from './instances.js';
import {
  AssignPrivateIpAddresses,
  DescribeNetworkInterfaces,
  UnassignPrivateIpAddresses,
} from './network-interfaces.js';
import { CreateRoute, DeleteRoute, DescribeRouteTables, ReplaceRoute } from './route-tables.js';

export const ACTIONS = {
  DescribeAddresses,
  AssociateAddress,
  DisassociateAddress,
  DescribeNetworkInterfaces,
  AssignPrivateIpAddresses,
  UnassignPrivateIpAddresses,
  DescribeRouteTables,
  CreateRoute,
  ReplaceRoute,
  DeleteRoute,
  DescribeInstances,
} as const satisfies Record<string, ActionSpec>;

export type ActionName = keyof typeof ACTIONS;

export function isActionName(name: string): name is ActionName {
  return Object.prototype.hasOwnProperty.call(ACTIONS, name);
}

export type { ActionContext, ActionSpec, ReassociationMode } from './context.js';

export const SUPPORTED_ACTIONS = Object.keys(ACTIONS) as readonly ActionName[];
