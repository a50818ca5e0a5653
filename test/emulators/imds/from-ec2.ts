/**
 * Feeds the IMDS emulator from the EC2 emulator's committed state, so an instance's metadata (its
 * ENIs' local-ipv4s, public IPs) follows AssignPrivateIpAddresses and AssociateAddress the way the
 * real metadata service follows the control plane.
 */
import type { Ec2State } from '../ec2/model.js';
import type { ImdsInstance, ImdsRole } from './server.js';

export function imdsInstanceFromEc2(
  state: Ec2State,
  instanceId: string,
  role?: ImdsRole | null,
): () => ImdsInstance {
  return () => {
    const instance = state.instances.get(instanceId);
    if (!instance) throw new Error(`IMDS: instance ${instanceId} is not in the EC2 emulator state`);
    return {
      instanceId,
      region: state.region,
      availabilityZone: instance.availabilityZone,
      accountId: state.accountId,
      instanceType: instance.instanceType,
      imageId: instance.imageId,
      role: role ?? null,
      interfaces: state.interfacesOf(instanceId).map((eni) => ({
        mac: eni.macAddress,
        interfaceId: eni.networkInterfaceId,
        deviceNumber: eni.attachment?.deviceIndex ?? 0,
        localIpv4s: eni.privateIps.map((p) => p.address),
        publicIpv4s: eni.privateIps
          .map((p) => state.addressOn(eni.networkInterfaceId, p.address)?.publicIp)
          .filter((ip): ip is string => ip !== undefined),
        subnetId: eni.subnetId,
        vpcId: eni.vpcId,
      })),
    };
  };
}

/**
 * An access key id for emulated role credentials of `instanceId` (ASIA + 16 characters of its id),
 * so the EC2 emulator's call log (accessKeyId) tells which instance called.
 */
export function roleAccessKeyId(instanceId: string): string {
  return `ASIA${instanceId.replace(/^i-/, '').toUpperCase().padStart(16, '0').slice(-16)}`;
}
