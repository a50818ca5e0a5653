/**
 * mechanism: route. Points each destination CIDR in each listed route table at this node's ENI:
 * ReplaceRoute where the route exists, CreateRoute where it does not, every table in parallel. The
 * ENI must have source/destination checking off to forward traffic it is not the address of;
 * prepare() warns when it is on (turning it off needs ec2:ModifyNetworkInterfaceAttribute, a
 * one-time setup step better left to Terraform than to a failover path).
 */
import {
  CreateRouteCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  ReplaceRouteCommand,
  type RouteTable,
} from '@aws-sdk/client-ec2';
import type { HolderId } from '../../src/notify/provider.js';
import { AwsProviderError } from './errors.js';
import { combinedHolder, type Mechanism, type MechanismEnv } from './mechanism.js';
import { mapBounded } from './retry.js';

interface RouteItem {
  table: string;
  destination: string;
}

export class RouteMechanism implements Mechanism {
  private readonly items: RouteItem[];
  /** Routes seen to exist, so acquire picks the right call first; a miss falls back to the other. */
  private readonly existing = new Set<string>();

  constructor(
    private readonly env: MechanismEnv,
    private readonly tables: readonly string[],
    destinations: readonly string[],
  ) {
    this.items = tables.flatMap((table) => destinations.map((destination) => ({ table, destination })));
  }

  async prepare(signal: AbortSignal): Promise<void> {
    const eni = this.env.identity.eniId;
    const [tables, nis] = await Promise.all([
      this.describe(signal, 'prepare'),
      this.env.api.call(
        'DescribeNetworkInterfaces',
        `${this.env.label}: prepare: describe ${eni}`,
        signal,
        (c, abortSignal) =>
          c.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] }), { abortSignal }),
      ),
    ]);
    for (const it of this.items) {
      if (routeOf(tables.get(it.table)!, it.destination)) this.existing.add(key(it));
    }
    const ni = nis.NetworkInterfaces?.[0];
    if (ni?.SourceDestCheck === true) {
      this.env.log.warn(
        { eni },
        `${this.env.label}: source/destination check is on for ${eni}: traffic routed to it for ` +
          `${this.items.map((i) => i.destination).join(', ')} will be dropped; turn it off ` +
          `(aws ec2 modify-network-interface-attribute --network-interface-id ${eni} --no-source-dest-check)`,
      );
    }
  }

  async mutate(signal: AbortSignal): Promise<void> {
    await mapBounded(this.items, this.env.maxConcurrency, (it) => this.point(it, signal));
  }

  async observe(signal: AbortSignal): Promise<HolderId | null> {
    const tables = await this.describe(signal, 'read back');
    return combinedHolder(
      this.env.identity.eniId,
      this.items.map((it) => {
        const r = routeOf(tables.get(it.table)!, it.destination);
        if (!r) return null;
        return (
          r.NetworkInterfaceId ?? r.InstanceId ?? r.GatewayId ?? r.NatGatewayId ?? r.TransitGatewayId ?? null
        );
      }),
    );
  }

  /** Nothing to undo: a route must keep pointing somewhere until the peer points it at itself. */
  release(): Promise<void> {
    return Promise.resolve();
  }

  private async point(it: RouteItem, signal: AbortSignal): Promise<void> {
    const first = this.existing.has(key(it)) ? 'replace' : 'create';
    try {
      await this.send(first, it, signal);
    } catch (err) {
      // Someone deleted or added the route since prepare(): the other call does the job.
      const code = err instanceof AwsProviderError ? err.code : '';
      const miss = first === 'replace' ? code === 'InvalidParameterValue' : code === 'RouteAlreadyExists';
      if (!miss) throw err;
      await this.send(first === 'replace' ? 'create' : 'replace', it, signal);
    }
    this.existing.add(key(it));
  }

  private async send(how: 'replace' | 'create', it: RouteItem, signal: AbortSignal): Promise<void> {
    const input = {
      RouteTableId: it.table,
      DestinationCidrBlock: it.destination,
      NetworkInterfaceId: this.env.identity.eniId,
    };
    const what = `${this.env.label}: route ${it.destination} in ${it.table} → ${input.NetworkInterfaceId}`;
    if (how === 'replace') {
      await this.env.api.call('ReplaceRoute', what, signal, (c, abortSignal) =>
        c.send(new ReplaceRouteCommand(input), { abortSignal }),
      );
    } else {
      await this.env.api.call('CreateRoute', what, signal, (c, abortSignal) =>
        c.send(new CreateRouteCommand(input), { abortSignal }),
      );
    }
  }

  private async describe(signal: AbortSignal, why: string): Promise<Map<string, RouteTable>> {
    const out = await this.env.api.call(
      'DescribeRouteTables',
      `${this.env.label}: ${why}: describe ${this.tables.join(', ')}`,
      signal,
      (c, abortSignal) =>
        c.send(new DescribeRouteTablesCommand({ RouteTableIds: [...this.tables] }), { abortSignal }),
    );
    const byId = new Map<string, RouteTable>();
    for (const t of out.RouteTables ?? []) if (t.RouteTableId) byId.set(t.RouteTableId, t);
    const missing = this.tables.filter((t) => !byId.has(t));
    if (missing.length > 0) {
      throw new AwsProviderError(
        `aws: ${this.env.label}: route_tables ${missing.join(', ')} not found in ${this.env.identity.region}; check the ids and the region`,
        'DescribeRouteTables',
        'InvalidRouteTableID.NotFound',
        'client',
        1,
      );
    }
    return byId;
  }
}

function key(it: RouteItem): string {
  return `${it.table}|${it.destination}`;
}

function routeOf(t: RouteTable, destination: string): NonNullable<RouteTable['Routes']>[number] | undefined {
  return t.Routes?.find((r) => r.DestinationCidrBlock === destination);
}
