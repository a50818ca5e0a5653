/** Route tables: DescribeRouteTables, CreateRoute, ReplaceRoute, DeleteRoute. */
import { checkIdShape, Ec2Error, invalidValue, missingParameter, notFound } from '../errors.js';
import { applyFilters, type FilterTable } from '../filters.js';
import { parseCidr } from '../ip.js';
import type { RouteRecord, RouteTableRecord, RouteTarget } from '../model.js';
import type { RouteTableView } from '../views.js';
import { el, set, tagSet } from '../wire.js';
import type { ActionContext, ActionSpec } from './context.js';
import { interfaceOfInstance, requireInterface, requireRouteTable } from './lookup.js';

const ROUTE_TABLE_FILTERS: FilterTable<RouteTableView> = {
  'association.main': (v) => v.associations.map((a) => a.main),
  'association.route-table-association-id': (v) => v.associations.map((a) => a.routeTableAssociationId),
  'association.route-table-id': (v) => v.associations.map((a) => a.routeTableId),
  'association.subnet-id': (v) => v.associations.map((a) => a.subnetId),
  'owner-id': (v) => v.ownerId,
  'route-table-id': (v) => v.routeTableId,
  'route.destination-cidr-block': (v) => v.routes.map((r) => r.destinationCidrBlock),
  'route.gateway-id': (v) => v.routes.map((r) => r.gatewayId),
  'route.instance-id': (v) => v.routes.map((r) => r.instanceId),
  'route.nat-gateway-id': (v) => v.routes.map((r) => r.natGatewayId),
  'route.origin': (v) => v.routes.map((r) => r.origin),
  'route.state': (v) => v.routes.map((r) => r.state),
  'vpc-id': (v) => v.vpcId,
};

export const DescribeRouteTables: ActionSpec = {
  mutating: false,
  run(ctx) {
    const visible = ctx.visible('routeTable');
    const ids = ctx.params.list('RouteTableId');
    for (const id of ids) {
      checkIdShape('routeTable', id);
      if (!visible.has(id)) throw notFound('routeTable', id);
    }
    let views = [...visible.values()];
    if (ids.length > 0) views = views.filter((v) => ids.includes(v.routeTableId));
    views = applyFilters(views, ctx.params.filters(), ROUTE_TABLE_FILTERS);
    return set('routeTableSet', views, (v) => [
      ...el('routeTableId', v.routeTableId),
      ...el('vpcId', v.vpcId),
      ...el('ownerId', v.ownerId),
      ...set('routeSet', v.routes, (r) => [
        ...el('destinationCidrBlock', r.destinationCidrBlock),
        ...el('gatewayId', r.gatewayId),
        ...el('natGatewayId', r.natGatewayId),
        ...el('instanceId', r.instanceId),
        ...el('instanceOwnerId', r.instanceOwnerId),
        ...el('networkInterfaceId', r.networkInterfaceId),
        ...el('state', r.state),
        ...el('origin', r.origin),
      ]),
      ...set('associationSet', v.associations, (a) => [
        ...el('routeTableAssociationId', a.routeTableAssociationId),
        ...el('routeTableId', a.routeTableId),
        ...el('subnetId', a.subnetId),
        ...el('main', a.main),
        ...el('associationState', el('state', 'associated')),
      ]),
      ...set('propagatingVgwSet', [], () => []),
      ...tagSet(v.tags),
    ]);
  },
};

interface RouteRequest {
  table: RouteTableRecord;
  destination: string;
}

function routeRequest(ctx: ActionContext): RouteRequest {
  const tableId = ctx.params.str('RouteTableId');
  if (tableId === undefined) throw missingParameter('routeTableId');
  const destination = ctx.params.str('DestinationCidrBlock');
  if (destination === undefined) {
    if (
      ctx.params.str('DestinationIpv6CidrBlock') !== undefined ||
      ctx.params.str('DestinationPrefixListId') !== undefined
    ) {
      throw new Ec2Error('InvalidParameterValue', 'EC2 emulator models IPv4 destination CIDR blocks only');
    }
    throw missingParameter('destinationCidrBlock');
  }
  if (!parseCidr(destination)) {
    throw invalidValue('destinationCidrBlock', destination, 'This is not a valid CIDR block.');
  }
  return { table: requireRouteTable(ctx.state, tableId), destination };
}

function routeTarget(ctx: ActionContext, table: RouteTableRecord): RouteTarget {
  const candidates = {
    GatewayId: ctx.params.str('GatewayId'),
    NatGatewayId: ctx.params.str('NatGatewayId'),
    NetworkInterfaceId: ctx.params.str('NetworkInterfaceId'),
    InstanceId: ctx.params.str('InstanceId'),
  };
  const given = Object.entries(candidates).filter(([, v]) => v !== undefined);
  if (given.length === 0) {
    throw new Ec2Error(
      'MissingParameter',
      'The request must contain exactly one of gatewayId, natGatewayId, networkInterfaceId or instanceId',
    );
  }
  if (given.length > 1) {
    throw new Ec2Error(
      'InvalidParameterCombination',
      `Only one route target may be given, got ${given.map(([k]) => k).join(', ')}`,
    );
  }
  if (candidates.GatewayId !== undefined) {
    if (candidates.GatewayId === 'local') {
      throw new Ec2Error(
        'InvalidParameterValue',
        'The local route target is created by EC2 and cannot be set',
      );
    }
    return { kind: 'gateway', gatewayId: candidates.GatewayId };
  }
  if (candidates.NatGatewayId !== undefined)
    return { kind: 'natGateway', natGatewayId: candidates.NatGatewayId };
  const eni =
    candidates.NetworkInterfaceId !== undefined
      ? requireInterface(ctx.state, candidates.NetworkInterfaceId)
      : interfaceOfInstance(ctx.state, candidates.InstanceId!);
  if (eni.vpcId !== table.vpcId) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `route table ${table.routeTableId} and network interface ${eni.networkInterfaceId} belong to different networks`,
    );
  }
  return { kind: 'networkInterface', networkInterfaceId: eni.networkInterfaceId };
}

function findRoute(table: RouteTableRecord, destination: string): RouteRecord | undefined {
  return table.routes.find((r) => r.destinationCidrBlock === destination);
}

function refuseLocal(route: RouteRecord, table: RouteTableRecord, verb: string): void {
  if (route.target.kind === 'gateway' && route.target.gatewayId === 'local') {
    throw new Ec2Error(
      'InvalidParameterValue',
      `cannot ${verb} local route ${route.destinationCidrBlock} in route table ${table.routeTableId}`,
    );
  }
}

export const CreateRoute: ActionSpec = {
  mutating: true,
  run(ctx) {
    const { table, destination } = routeRequest(ctx);
    const target = routeTarget(ctx, table);
    if (findRoute(table, destination)) {
      throw new Ec2Error('RouteAlreadyExists', `The route identified by ${destination} already exists.`);
    }
    table.routes.push({ destinationCidrBlock: destination, target, origin: 'CreateRoute' });
    return el('return', true);
  },
};

export const ReplaceRoute: ActionSpec = {
  mutating: true,
  run(ctx) {
    const { table, destination } = routeRequest(ctx);
    const target = routeTarget(ctx, table);
    const route = findRoute(table, destination);
    if (!route) {
      throw new Ec2Error(
        'InvalidParameterValue',
        `There is no route defined for '${destination}' in the route table. Use CreateRoute instead.`,
      );
    }
    refuseLocal(route, table, 'replace');
    route.target = target;
    return el('return', true);
  },
};

export const DeleteRoute: ActionSpec = {
  mutating: true,
  run(ctx) {
    const { table, destination } = routeRequest(ctx);
    const route = findRoute(table, destination);
    if (!route) {
      throw new Ec2Error(
        'InvalidRoute.NotFound',
        `no route with destination-cidr-block ${destination} in route table ${table.routeTableId}`,
      );
    }
    refuseLocal(route, table, 'remove');
    table.routes = table.routes.filter((r) => r !== route);
    return el('return', true);
  },
};
