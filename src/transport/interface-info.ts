/**
 * What the daemon needs to know about one network interface: index (for multicast membership and
 * IPv6 scope), MAC (for GARP), addresses (advert source, VIP presence) and whether it is usable.
 *
 * Index, flags and MAC come from ioctls rather than /sys/class/net, because sysfs shows the network
 * namespace it was mounted in, which is not always the process's own (containers, nsenter);
 * addresses come from getifaddrs via os.networkInterfaces(), which is per-process too.
 */
import { networkInterfaces } from 'node:os';
import { bytesToIp, ipToBytes } from '../vrrp/addr.js';
import * as libc from './libc.js';
import {
  AF_INET,
  assertSupportedPlatform,
  IFF_RUNNING,
  IFF_UP,
  ifreq,
  isIpv6LinkLocal,
  SIOCGIFFLAGS,
  SIOCGIFHWADDR,
  SIOCGIFINDEX,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
} from './sockopt.js';

export interface InterfaceInfo {
  name: string;
  index: number;
  /** "02:99:00:00:00:01", lowercase. */
  mac: string;
  /** IPv4 addresses in the order the kernel lists them: the primary address first. */
  ipv4: string[];
  /** Every IPv6 address, link-local included, canonical text without a scope suffix. */
  ipv6: string[];
  /** The first fe80::/10 address, the source keepalived uses for IPv6 adverts. */
  ipv6LinkLocal?: string;
  /** Administratively up and with carrier (IFF_UP and IFF_RUNNING), as keepalived requires. */
  up: boolean;
}

/** Throws a clear error naming the interface if it does not exist in this network namespace. */
export function interfaceInfo(ifname: string): InterfaceInfo {
  assertSupportedPlatform(`interface ${ifname}`);
  const { index, flags, mac } = kernelFacts(ifname);
  const ipv4: string[] = [];
  const ipv6: string[] = [];
  let ipv6LinkLocal: string | undefined;
  for (const a of networkInterfaces()[ifname] ?? []) {
    if (a.family === 'IPv4') {
      ipv4.push(a.address);
    } else {
      const bytes = ipToBytes(a.address.split('%')[0]!);
      const text = bytesToIp(bytes, 'ipv6');
      ipv6.push(text);
      if (ipv6LinkLocal === undefined && isIpv6LinkLocal(bytes)) ipv6LinkLocal = text;
    }
  }
  const info: InterfaceInfo = {
    name: ifname,
    index,
    mac,
    ipv4,
    ipv6,
    up: (flags & IFF_UP) !== 0 && (flags & IFF_RUNNING) !== 0,
  };
  if (ipv6LinkLocal !== undefined) info.ipv6LinkLocal = ipv6LinkLocal;
  return info;
}

function kernelFacts(ifname: string): { index: number; flags: number; mac: string } {
  let req: Buffer;
  try {
    req = ifreq(ifname);
  } catch (err) {
    throw new Error(`interface "${ifname}": ${(err as Error).message}`);
  }
  // Any socket will do for these ioctls; a datagram one needs no privilege.
  const fd = libc.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  try {
    try {
      libc.ioctl(fd, SIOCGIFINDEX, req, `SIOCGIFINDEX ${ifname}`);
    } catch (err) {
      if (err instanceof libc.SysError && err.code === 'ENODEV') {
        throw new Error(
          `interface ${ifname} does not exist in this network namespace; check the interface name in the configuration (ip link show)`,
        );
      }
      throw new Error(`cannot look up interface ${ifname}: ${(err as Error).message}`);
    }
    const index = req.readInt32LE(16);
    libc.ioctl(fd, SIOCGIFFLAGS, req, `SIOCGIFFLAGS ${ifname}`);
    const flags = req.readUInt16LE(16);
    libc.ioctl(fd, SIOCGIFHWADDR, req, `SIOCGIFHWADDR ${ifname}`);
    // ifr_hwaddr is a struct sockaddr: 2 bytes of family, then the address in sa_data.
    const mac = [...req.subarray(18, 24)].map((b) => b.toString(16).padStart(2, '0')).join(':');
    return { index, flags, mac };
  } finally {
    libc.close(fd);
  }
}
