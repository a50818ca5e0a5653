/**
 * The two announcement frames, byte for byte as keepalived 2.2.7 builds them (vrrp_arp.c,
 * vrrp_ndisc.c), so a capture of floatip and one of keepalived differ only in MAC addresses:
 *
 * - gratuitous ARP: Ethernet broadcast, ARP request (op 1), sender = target = the VIP, target
 *   hardware address ff:ff:ff:ff:ff:ff; 42 bytes, no padding (the kernel pads on real NICs).
 * - unsolicited neighbour advertisement: to 33:33:00:00:00:01 / ff02::1 from the VIP itself,
 *   hop limit 255, override flag, router flag when the interface forwards IPv6, solicited flag
 *   clear, and a target link-layer address option; 86 bytes.
 */
import { internetChecksum } from '../../src/vrrp/checksum.js';
import { ipToBytes } from '../../src/vrrp/addr.js';

export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;
export const GARP_FRAME_LEN = 42;
export const NA_FRAME_LEN = 86;

const ETH_HLEN = 14;
const IPV6_HLEN = 40;
const IPPROTO_ICMPV6 = 58;
const ICMPV6_NEIGHBOUR_ADVERT = 136;
const ND_OPT_TARGET_LINKADDR = 2;
const NA_FLAG_ROUTER = 0x80;
const NA_FLAG_OVERRIDE = 0x20;
/** NA header (24) + option header (2) + MAC (6). */
const NA_PAYLOAD_LEN = 32;
const ALL_NODES = ipToBytes('ff02::1');

/** "02:99:00:00:00:01" → 6 bytes; throws naming the text when it is not a MAC address. */
export function parseMac(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new Error(
      `"${mac}" is not an Ethernet MAC address (expected six hex bytes like 02:99:00:00:00:01)`,
    );
  }
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

function addressBytes(ip: string, len: 4 | 16, what: string): Buffer {
  const b = ipToBytes(ip);
  if (b.length !== len) throw new Error(`${what}: ${ip} is not an IPv${len === 4 ? 4 : 6} address`);
  return b;
}

/** keepalived's gratuitous ARP for `vip` from the interface with MAC `mac`. */
export function garpFrame(mac: Buffer, vip: string): Buffer {
  const ip = addressBytes(vip, 4, 'gratuitous ARP');
  const f = Buffer.alloc(GARP_FRAME_LEN);
  f.fill(0xff, 0, 6);
  mac.copy(f, 6, 0, 6);
  f.writeUInt16BE(ETH_P_ARP, 12);
  const a = ETH_HLEN;
  f.writeUInt16BE(1, a); // hardware type Ethernet
  f.writeUInt16BE(0x0800, a + 2);
  f[a + 4] = 6;
  f[a + 5] = 4;
  f.writeUInt16BE(1, a + 6); // request: what Linux and keepalived use, RFC 5227 section 3
  mac.copy(f, a + 8, 0, 6);
  ip.copy(f, a + 14);
  f.fill(0xff, a + 18, a + 24);
  ip.copy(f, a + 24);
  return f;
}

/** keepalived's unsolicited neighbour advertisement for `vip` from the interface with MAC `mac`. */
export function unsolicitedNaFrame(mac: Buffer, vip: string, router: boolean): Buffer {
  const target = addressBytes(vip, 16, 'neighbour advertisement');
  const f = Buffer.alloc(NA_FRAME_LEN);
  f[0] = 0x33;
  f[1] = 0x33;
  f[5] = 0x01;
  mac.copy(f, 6, 0, 6);
  f.writeUInt16BE(ETH_P_IPV6, 12);
  const ip = ETH_HLEN;
  f[ip] = 0x60; // version 6, traffic class and flow label 0
  f.writeUInt16BE(NA_PAYLOAD_LEN, ip + 4);
  f[ip + 6] = IPPROTO_ICMPV6;
  f[ip + 7] = 255; // RFC 4861 7.1.2: receivers drop NAs with any other hop limit
  target.copy(f, ip + 8);
  ALL_NODES.copy(f, ip + 24);
  const icmp = ip + IPV6_HLEN;
  f[icmp] = ICMPV6_NEIGHBOUR_ADVERT;
  f[icmp + 4] = (router ? NA_FLAG_ROUTER : 0) | NA_FLAG_OVERRIDE;
  target.copy(f, icmp + 8);
  f[icmp + 24] = ND_OPT_TARGET_LINKADDR;
  f[icmp + 25] = 1; // option length in units of 8 bytes
  mac.copy(f, icmp + 26, 0, 6);
  const pseudo = Buffer.alloc(40);
  target.copy(pseudo, 0);
  ALL_NODES.copy(pseudo, 16);
  pseudo.writeUInt32BE(NA_PAYLOAD_LEN, 32);
  pseudo[39] = IPPROTO_ICMPV6;
  f.writeUInt16BE(internetChecksum(pseudo, f.subarray(icmp, icmp + NA_PAYLOAD_LEN)), icmp + 2);
  return f;
}
