/**
 * An AF_PACKET SOCK_RAW socket bound to one interface, for sending whole Ethernet frames the way
 * keepalived sends its gratuitous ARPs and neighbour advertisements. It is opened with protocol 0
 * so the kernel never queues received frames on it: floatip only ever writes here.
 */
import { endianness } from 'node:os';
import * as libc from '../../src/transport/libc.js';
import { SOCK_CLOEXEC, SOCK_RAW } from '../../src/transport/sockopt.js';
import { sendto } from './syscalls.js';

export const AF_PACKET = 17;
const SOCK_NONBLOCK = 0o4000;
const SIZEOF_SOCKADDR_LL = 20;
const ARPHRD_ETHER = 1;
const LE = endianness() === 'LE';

/**
 * struct sockaddr_ll { u16 family; be16 protocol; int ifindex; u16 hatype; u8 pkttype; u8 halen;
 * u8 addr[8]; }: family, hatype and ifindex in host order, the protocol in network order.
 */
export function sockaddrLl(ifindex: number, protocol: number, mac?: Buffer): Buffer {
  const b = Buffer.alloc(SIZEOF_SOCKADDR_LL);
  if (LE) {
    b.writeUInt16LE(AF_PACKET, 0);
    b.writeInt32LE(ifindex, 4);
    b.writeUInt16LE(ARPHRD_ETHER, 8);
  } else {
    b.writeUInt16BE(AF_PACKET, 0);
    b.writeInt32BE(ifindex, 4);
    b.writeUInt16BE(ARPHRD_ETHER, 8);
  }
  b.writeUInt16BE(protocol, 2);
  if (mac) {
    b[11] = 6;
    mac.copy(b, 12, 0, 6);
  }
  return b;
}

export class PacketSocket {
  private fd: number;
  private readonly dest = new Map<number, Buffer>();

  /** Throws an error naming the interface and the privilege to grant when the socket cannot open. */
  constructor(
    readonly ifname: string,
    readonly ifindex: number,
  ) {
    try {
      this.fd = libc.socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    } catch (err) {
      const e = err as libc.SysError;
      const hint =
        e.code === 'EPERM' || e.code === 'EACCES'
          ? '; floatip needs CAP_NET_RAW (run as root or grant the capability) to send gratuitous ARP / neighbour advertisements'
          : '';
      throw new Error(`garp: cannot open a packet socket for ${ifname}: ${e.message}${hint}`);
    }
    try {
      libc.bind(this.fd, sockaddrLl(ifindex, 0), `bind packet socket to ${ifname}`);
    } catch (err) {
      libc.close(this.fd);
      this.fd = -1;
      throw new Error(
        `garp: cannot bind a packet socket to ${ifname} (index ${ifindex}): ${(err as Error).message}; check that the interface exists in this network namespace`,
      );
    }
  }

  /** Sends one frame; returns null, or the errno name (EAGAIN when the device queue is full). */
  send(frame: Buffer, ethertype: number): string | null {
    if (this.fd < 0) return 'EBADF';
    let addr = this.dest.get(ethertype);
    if (!addr) {
      addr = sockaddrLl(this.ifindex, ethertype);
      this.dest.set(ethertype, addr);
    }
    const n = sendto(this.fd, frame, 0, addr);
    if (n >= 0) return null;
    return errnoName(-n);
  }

  close(): void {
    if (this.fd >= 0) libc.close(this.fd);
    this.fd = -1;
  }
}

const errnoNames = new Map<number, string>(Object.entries(libc.ERRNO).map(([name, n]) => [n, name]));

function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}
