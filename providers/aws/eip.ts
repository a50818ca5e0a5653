/**
 * mechanism: eip. Moves Elastic IPs to this node's ENI with AssociateAddress. AllowReassociation is
 * always sent: accounts that predate EC2-Classic's retirement still refuse to move an associated
 * address without it, and VPC-only accounts accept it. The holder is the association's ENI.
 */
import {
  AssociateAddressCommand,
  DescribeAddressesCommand,
  DisassociateAddressCommand,
  type Address,
} from '@aws-sdk/client-ec2';
import type { HolderId } from '../../src/notify/provider.js';
import { AwsProviderError } from './errors.js';
import { combinedHolder, type Mechanism, type MechanismEnv } from './mechanism.js';
import type { EipTarget } from './options.js';
import { mapBounded } from './retry.js';

export class EipMechanism implements Mechanism {
  constructor(
    private readonly env: MechanismEnv,
    private readonly eips: readonly EipTarget[],
    private readonly detachOnRelease: boolean,
  ) {}

  async prepare(signal: AbortSignal): Promise<void> {
    const byId = await this.describe(signal, 'prepare');
    for (const e of this.eips) {
      const a = byId.get(e.allocationId)!;
      this.env.log.info(
        {
          allocationId: e.allocationId,
          publicIp: a.PublicIp,
          holder: a.NetworkInterfaceId ?? null,
          privateIp: a.PrivateIpAddress ?? null,
        },
        `${this.env.label}: Elastic IP ${a.PublicIp ?? e.allocationId} found`,
      );
    }
  }

  async mutate(signal: AbortSignal): Promise<void> {
    const eni = this.env.identity.eniId;
    await mapBounded(this.eips, this.env.maxConcurrency, (e) =>
      this.env.api.call(
        'AssociateAddress',
        `${this.env.label}: associate ${e.allocationId} with ${eni}${e.privateIp ? ` (${e.privateIp})` : ''}`,
        signal,
        (c, abortSignal) =>
          c.send(
            new AssociateAddressCommand({
              AllocationId: e.allocationId,
              NetworkInterfaceId: eni,
              ...(e.privateIp !== undefined ? { PrivateIpAddress: e.privateIp } : {}),
              AllowReassociation: true,
            }),
            { abortSignal },
          ),
      ),
    );
  }

  async observe(signal: AbortSignal): Promise<HolderId | null> {
    const byId = await this.describe(signal, 'read back');
    const self = this.env.identity.eniId;
    return combinedHolder(
      self,
      this.eips.map((e) => holderOf(byId.get(e.allocationId)!, e, self)),
    );
  }

  /**
   * Only with detach_on_release. Disassociates by the association id seen just before, so a peer
   * that has already taken the address over (new association id) is never undone by a late release.
   */
  async release(signal: AbortSignal): Promise<void> {
    if (!this.detachOnRelease) return;
    const byId = await this.describe(signal, 'release');
    const eni = this.env.identity.eniId;
    const ours = this.eips
      .map((e) => byId.get(e.allocationId)!)
      .filter((a) => a.NetworkInterfaceId === eni && a.AssociationId !== undefined);
    await mapBounded(ours, this.env.maxConcurrency, async (a) => {
      try {
        await this.env.api.call(
          'DisassociateAddress',
          `${this.env.label}: disassociate ${a.AllocationId} from ${eni}`,
          signal,
          (c, abortSignal) =>
            c.send(new DisassociateAddressCommand({ AssociationId: a.AssociationId }), { abortSignal }),
        );
      } catch (err) {
        // Moved by a peer between our read and this call: exactly what release wants.
        if (err instanceof AwsProviderError && err.code === 'InvalidAssociationID.NotFound') return;
        throw err;
      }
    });
  }

  private async describe(signal: AbortSignal, why: string): Promise<Map<string, Address>> {
    const ids = this.eips.map((e) => e.allocationId);
    const out = await this.env.api.call(
      'DescribeAddresses',
      `${this.env.label}: ${why}: describe ${ids.join(', ')}`,
      signal,
      (c, abortSignal) => c.send(new DescribeAddressesCommand({ AllocationIds: ids }), { abortSignal }),
    );
    const byId = new Map<string, Address>();
    for (const a of out.Addresses ?? []) if (a.AllocationId) byId.set(a.AllocationId, a);
    const missing = ids.filter((id) => !byId.has(id));
    if (missing.length > 0) {
      throw new AwsProviderError(
        `aws: ${this.env.label}: allocation_id ${missing.join(', ')} not found in ${this.env.identity.region}; check the id and the region`,
        'DescribeAddresses',
        'InvalidAllocationID.NotFound',
        'client',
        1,
      );
    }
    return byId;
  }
}

/**
 * The ENI when the address sits where we want it. On our ENI but on another private IP it reads as
 * `eni/ip`, which is not selfId, so the reconcile loop moves it to the configured private IP.
 */
function holderOf(a: Address, want: EipTarget, self: string): HolderId | null {
  const eni = a.NetworkInterfaceId;
  if (eni === undefined) return null;
  if (eni === self && want.privateIp !== undefined && a.PrivateIpAddress !== want.privateIp) {
    return `${eni}/${a.PrivateIpAddress ?? 'unknown'}`;
  }
  return eni;
}
