/**
 * Opens the VRRP transport for one (family, interface, source, peers) combination: raw IPv4 or
 * IPv6 sockets set up as keepalived 2.2.7 sets up its own (see ipv4-raw.ts and ipv6-raw.ts).
 */
import { familyOf } from '../vrrp/addr.js';
import { openIpv4Transport } from './ipv4-raw.js';
import { openIpv6Transport } from './ipv6-raw.js';
import { assertSupportedPlatform } from './sockopt.js';
import type { TransportHandlers, TransportOptions, VrrpTransport } from './types.js';

export type { ReceivedPacket, TransportHandlers, TransportOptions, VrrpTransport } from './types.js';
export { interfaceInfo, type InterfaceInfo } from './interface-info.js';

export async function openTransport(opts: TransportOptions, h: TransportHandlers): Promise<VrrpTransport> {
  validate(opts);
  return opts.family === 'ipv4' ? openIpv4Transport(opts, h) : openIpv6Transport(opts, h);
}

function validate(opts: TransportOptions): void {
  const where = `VRRP transport on ${opts.ifname}`;
  assertSupportedPlatform(where);
  if (opts.family !== 'ipv4' && opts.family !== 'ipv6') {
    throw new Error(`${where}: family must be 'ipv4' or 'ipv6', not ${JSON.stringify(opts.family)}`);
  }
  if (familyOf(opts.sourceIp) !== opts.family) {
    throw new Error(`${where}: source address "${opts.sourceIp}" is not an ${opts.family} address`);
  }
  for (const p of opts.unicastPeers) {
    if (familyOf(p) !== opts.family) {
      throw new Error(`${where}: unicast peer "${p}" is not an ${opts.family} address like the instance`);
    }
  }
  if (!Number.isInteger(opts.unicastTtl) || opts.unicastTtl < 1 || opts.unicastTtl > 255) {
    throw new Error(`${where}: unicast TTL must be an integer from 1 to 255, not ${opts.unicastTtl}`);
  }
}
