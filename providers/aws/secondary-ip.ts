/**
 * mechanism: secondary-ip. Moves private IPs to this node's ENI with one AssignPrivateIpAddresses
 * (all-or-nothing, AllowReassignment so they leave the peer's ENI in the same call; an EIP bound to
 * such an IP follows it). EC2 only routes the address; the OS must also hold it, which the garp
 * provider already knows how to do: it is composed here with announce off (GARP is useless in a
 * VPC) and manage_addresses on.
 */
import {
  AssignPrivateIpAddressesCommand,
  DescribeNetworkInterfacesCommand,
  UnassignPrivateIpAddressesCommand,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import type { HolderId, Provider } from '../../src/notify/provider.js';
import { AwsProviderError } from './errors.js';
import { combinedHolder, type Mechanism, type MechanismEnv } from './mechanism.js';

export class SecondaryIpMechanism implements Mechanism {
  private vpcId = '';

  constructor(
    private readonly env: MechanismEnv,
    private readonly addresses: readonly string[],
    /** The OS side (the garp provider with announce off); null with manage_os_address: false. */
    private readonly os: Provider | null,
    private readonly unassignOnRelease: boolean,
  ) {}

  async prepare(signal: AbortSignal): Promise<void> {
    const eni = this.env.identity.eniId;
    const out = await this.env.api.call(
      'DescribeNetworkInterfaces',
      `${this.env.label}: prepare: describe ${eni}`,
      signal,
      (c, abortSignal) =>
        c.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] }), { abortSignal }),
    );
    const ni = out.NetworkInterfaces?.[0];
    if (!ni?.VpcId) {
      throw new AwsProviderError(
        `aws: ${this.env.label}: ENI ${eni} was not found; check eni_id or the interface`,
        'DescribeNetworkInterfaces',
        'InvalidNetworkInterfaceID.NotFound',
        'client',
        1,
      );
    }
    this.vpcId = ni.VpcId;
    await this.os?.prepare();
  }

  async mutate(signal: AbortSignal): Promise<void> {
    const eni = this.env.identity.eniId;
    // The EC2 call goes out first; the OS side is a few local syscalls done while it is in flight.
    const cloud = this.env.api.call(
      'AssignPrivateIpAddresses',
      `${this.env.label}: assign ${this.addresses.join(', ')} to ${eni}`,
      signal,
      (c, abortSignal) =>
        c.send(
          new AssignPrivateIpAddressesCommand({
            NetworkInterfaceId: eni,
            PrivateIpAddresses: [...this.addresses],
            AllowReassignment: true,
          }),
          { abortSignal },
        ),
    );
    const local = this.os ? this.os.acquire(signal) : Promise.resolve();
    const [c, l] = await Promise.allSettled([cloud, local]);
    if (c.status === 'rejected') throw c.reason;
    if (l.status === 'rejected') {
      throw new Error(
        `aws: ${this.env.label}: EC2 assigned ${this.addresses.join(', ')} but adding them to the interface failed: ${(l.reason as Error).message}`,
        { cause: l.reason },
      );
    }
  }

  async observe(signal: AbortSignal): Promise<HolderId | null> {
    const holders = await this.holders(signal);
    const self = this.env.identity.eniId;
    const cloud = combinedHolder(
      self,
      this.addresses.map((a) => holders.get(a) ?? null),
    );
    if (cloud !== self || !this.os) return cloud;
    // EC2 routes the address here, but the reconcile loop must also see a missing OS address.
    const local = await this.os.holder(signal);
    return local === this.os.selfId ? self : `${self}+os-address-missing`;
  }

  async release(signal: AbortSignal): Promise<void> {
    await this.os?.release?.(signal);
    if (!this.unassignOnRelease) return;
    const eni = this.env.identity.eniId;
    const holders = await this.holders(signal);
    const ours = this.addresses.filter((a) => holders.get(a) === eni);
    if (ours.length === 0) return;
    try {
      await this.unassign(ours, signal);
    } catch (err) {
      if (!notAssigned(err)) throw err;
      // A peer took some of them between our (possibly stale) read and this call, and EC2 refuses
      // the whole list: give back one by one whatever is still ours; the peer's stay where they are.
      for (const a of ours) {
        try {
          await this.unassign([a], signal);
        } catch (e) {
          if (!notAssigned(e)) throw e;
        }
      }
    }
  }

  /** Only ever from our own ENI, so it cannot take an address away from a peer. */
  private async unassign(addresses: string[], signal: AbortSignal): Promise<void> {
    const eni = this.env.identity.eniId;
    await this.env.api.call(
      'UnassignPrivateIpAddresses',
      `${this.env.label}: unassign ${addresses.join(', ')} from ${eni}`,
      signal,
      (c, abortSignal) =>
        c.send(
          new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: eni, PrivateIpAddresses: addresses }),
          { abortSignal },
        ),
    );
  }

  /** Address → ENI holding it, within our VPC (the same private IP may exist in another VPC). */
  private async holders(signal: AbortSignal): Promise<Map<string, string>> {
    const out = await this.env.api.call(
      'DescribeNetworkInterfaces',
      `${this.env.label}: read back ${this.addresses.join(', ')}`,
      signal,
      (c, abortSignal) =>
        c.send(
          new DescribeNetworkInterfacesCommand({
            Filters: [
              { Name: 'addresses.private-ip-address', Values: [...this.addresses] },
              { Name: 'vpc-id', Values: [this.vpcId] },
            ],
          }),
          { abortSignal },
        ),
    );
    const map = new Map<string, string>();
    for (const ni of out.NetworkInterfaces ?? []) addHeld(map, ni, this.addresses);
    return map;
  }
}

/** EC2's answer when an address to unassign is no longer on the ENI (a peer has it now). */
function notAssigned(err: unknown): boolean {
  return (
    err instanceof AwsProviderError &&
    err.code === 'InvalidParameterValue' &&
    /not assigned to interface/.test(err.message)
  );
}

function addHeld(map: Map<string, string>, ni: NetworkInterface, wanted: readonly string[]): void {
  if (!ni.NetworkInterfaceId) return;
  for (const p of ni.PrivateIpAddresses ?? []) {
    if (p.PrivateIpAddress && wanted.includes(p.PrivateIpAddress))
      map.set(p.PrivateIpAddress, ni.NetworkInterfaceId);
  }
}
