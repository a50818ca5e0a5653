/** What the provider needs to know about an interface it announces on. */
import { readFileSync } from 'node:fs';
import { interfaceInfo } from '../../src/transport/interface-info.js';
import * as libc from '../../src/transport/libc.js';
import { AF_INET, ifreq, SIOCGIFFLAGS, SOCK_CLOEXEC, SOCK_DGRAM } from '../../src/transport/sockopt.js';
import { parseMac } from './frames.js';

const IFF_NOARP = 0x80;

export interface LinkFacts {
  name: string;
  index: number;
  mac: Buffer;
  /** IFF_NOARP: keepalived sends no gratuitous ARP on such interfaces, and neither does floatip. */
  noArp: boolean;
}

/** Throws an error naming the interface when it does not exist or has no Ethernet address. */
export function linkFacts(ifname: string): LinkFacts {
  const info = interfaceInfo(ifname);
  const mac = parseMac(info.mac);
  if (mac.every((b) => b === 0)) {
    throw new Error(
      `garp: interface ${ifname} has no Ethernet address (loopback, tunnel or similar); gratuitous ARP needs an Ethernet interface, or set announce: false`,
    );
  }
  const fd = libc.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  try {
    const req = ifreq(ifname);
    libc.ioctl(fd, SIOCGIFFLAGS, req, `SIOCGIFFLAGS ${ifname}`);
    return { name: ifname, index: info.index, mac, noArp: (req.readUInt16LE(16) & IFF_NOARP) !== 0 };
  } finally {
    libc.close(fd);
  }
}

/**
 * Whether the interface forwards IPv6, which decides the NA router flag as in keepalived; read at
 * most every 5 s per interface, as keepalived rechecks it. /proc/sys/net shows the reading
 * process's own network namespace.
 */
export class Ipv6Forwarding {
  private readonly cache = new Map<string, { at: number; value: boolean }>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  get(ifname: string): boolean {
    const t = this.now();
    const c = this.cache.get(ifname);
    if (c && t - c.at < 5000) return c.value;
    let value = false;
    try {
      value = readFileSync(`/proc/sys/net/ipv6/conf/${ifname}/forwarding`, 'utf8').trim() === '1';
    } catch {
      // IPv6 disabled on the interface: no router flag
    }
    this.cache.set(ifname, { at: t, value });
    return value;
  }
}
