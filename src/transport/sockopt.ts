/**
 * Linux socket constants and the C structs the VRRP sockets are configured with, built as bytes.
 *
 * Neither Node nor `raw-socket` exports these, so they are spelled out here once. The numbers are
 * the asm-generic ones from the Linux UAPI headers, valid on x86_64 and arm64 (the architectures
 * floatip supports: `assertSupportedPlatform`); a few SO_* values differ on mips, sparc, alpha,
 * parisc and powerpc, and the 64-bit struct layouts below do not fit 32-bit platforms.
 */
import { endianness } from 'node:os';
import { ipToBytes } from '../vrrp/addr.js';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;

export const SOL_SOCKET = 1;
export const SO_DONTROUTE = 5;
export const SO_PRIORITY = 12;
export const SO_RCVTIMEO = 20;
export const SO_BINDTODEVICE = 25;

export const IPPROTO_IP = 0;
export const IP_TOS = 1;
export const IP_HDRINCL = 3;
export const IP_MULTICAST_IF = 32;
export const IP_MULTICAST_LOOP = 34;
export const IP_ADD_MEMBERSHIP = 35;
export const IP_MULTICAST_ALL = 49;

export const IPPROTO_IPV6 = 41;
export const IPV6_CHECKSUM = 7;
export const IPV6_UNICAST_HOPS = 16;
export const IPV6_MULTICAST_IF = 17;
export const IPV6_MULTICAST_HOPS = 18;
export const IPV6_MULTICAST_LOOP = 19;
export const IPV6_ADD_MEMBERSHIP = 20;
export const IPV6_MULTICAST_ALL = 29;
export const IPV6_RECVPKTINFO = 49;
export const IPV6_PKTINFO = 50;
export const IPV6_RECVHOPLIMIT = 51;
export const IPV6_HOPLIMIT = 52;
export const IPV6_TCLASS = 67;

export const MSG_DONTROUTE = 0x4;
export const MSG_CTRUNC = 0x8;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const SHUT_RD = 0;

export const SIOCGIFFLAGS = 0x8913;
export const SIOCGIFHWADDR = 0x8927;
export const SIOCGIFINDEX = 0x8933;
export const IFF_UP = 0x1;
export const IFF_RUNNING = 0x40;
/** IFNAMSIZ: interface names are at most 15 bytes plus the terminating NUL. */
export const IFNAMSIZ = 16;

/** Offset of the VRRP checksum in the VRRP header, for IPV6_CHECKSUM (as keepalived sets it). */
export const VRRP_CHECKSUM_OFFSET = 6;
/** IPv4 TOS / IPv6 traffic class keepalived uses: precedence "internetwork control" (CS6). */
export const TOS_INTERNETCONTROL = 0xc0;

// Struct sizes on LP64 Linux.
export const SIZEOF_IP_MREQN = 12;
export const SIZEOF_IPV6_MREQ = 20;
export const SIZEOF_SOCKADDR_IN6 = 28;
export const SIZEOF_IN6_PKTINFO = 20;
export const SIZEOF_TIMEVAL = 16;
export const SIZEOF_IFREQ = 40;
export const SIZEOF_MSGHDR = 56;
export const SIZEOF_IOVEC = 16;
export const SIZEOF_CMSGHDR = 16;

const LE = endianness() === 'LE';

export function assertSupportedPlatform(what: string): void {
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64')) {
    throw new Error(
      `${what}: raw VRRP sockets are implemented for Linux on x64 and arm64 only (this is ${process.platform}/${process.arch})`,
    );
  }
}

/** CMSG_ALIGN: control messages are padded to the size of size_t (8 on LP64). */
export function cmsgAlign(n: number): number {
  return (n + 7) & ~7;
}

/** CMSG_SPACE(n): room one control message with n data bytes takes in the control buffer. */
export function cmsgSpace(n: number): number {
  return SIZEOF_CMSGHDR + cmsgAlign(n);
}

/** CMSG_LEN(n): the cmsg_len value of a control message with n data bytes. */
export function cmsgLen(n: number): number {
  return SIZEOF_CMSGHDR + n;
}

export function writeHostU32(buf: Buffer | DataView, value: number, offset: number): void {
  if (buf instanceof DataView) buf.setUint32(offset, value, LE);
  else if (LE) buf.writeUInt32LE(value, offset);
  else buf.writeUInt32BE(value, offset);
}

export function readHostI32(view: DataView, offset: number): number {
  return view.getInt32(offset, LE);
}

export function readHostU32(view: DataView, offset: number): number {
  return view.getUint32(offset, LE);
}

export function writeHostU64(view: DataView, value: bigint, offset: number): void {
  view.setBigUint64(offset, value, LE);
}

export function readHostU64(view: DataView, offset: number): bigint {
  return view.getBigUint64(offset, LE);
}

/** An `int` option value, host byte order, for setsockopt. */
export function intOption(value: number): Buffer {
  const b = Buffer.alloc(4);
  if (LE) b.writeInt32LE(value, 0);
  else b.writeInt32BE(value, 0);
  return b;
}

function ipv4Bytes(ip: string, what: string): Buffer {
  const b = ipToBytes(ip);
  if (b.length !== 4) throw new Error(`${what}: ${ip} is not an IPv4 address`);
  return b;
}

function ipv6Bytes(ip: string, what: string): Buffer {
  const b = ipToBytes(ip);
  if (b.length !== 16) throw new Error(`${what}: ${ip} is not an IPv6 address`);
  return b;
}

/**
 * struct ip_mreqn { struct in_addr imr_multiaddr; struct in_addr imr_address; int imr_ifindex; }.
 * Addresses in network order, the index in host order. keepalived passes this (not the older
 * ip_mreq) to IP_ADD_MEMBERSHIP and IP_MULTICAST_IF so the interface is chosen by index.
 */
export function ipMreqn(multiaddr: string, ifindex: number, address = '0.0.0.0'): Buffer {
  const b = Buffer.alloc(SIZEOF_IP_MREQN);
  ipv4Bytes(multiaddr, 'ip_mreqn multiaddr').copy(b, 0);
  ipv4Bytes(address, 'ip_mreqn address').copy(b, 4);
  if (LE) b.writeInt32LE(ifindex, 8);
  else b.writeInt32BE(ifindex, 8);
  return b;
}

/** struct ipv6_mreq { struct in6_addr ipv6mr_multiaddr; unsigned int ipv6mr_interface; }. */
export function ipv6Mreq(multiaddr: string, ifindex: number): Buffer {
  const b = Buffer.alloc(SIZEOF_IPV6_MREQ);
  ipv6Bytes(multiaddr, 'ipv6_mreq multiaddr').copy(b, 0);
  writeHostU32(b, ifindex, 16);
  return b;
}

/** SO_BINDTODEVICE takes the interface name, NUL terminated (keepalived passes strlen + 1). */
export function bindToDeviceValue(ifname: string): Buffer {
  const name = Buffer.from(ifname, 'utf8');
  if (name.length === 0 || name.length >= IFNAMSIZ) {
    throw new Error(`interface name "${ifname}" must be 1 to ${IFNAMSIZ - 1} bytes long`);
  }
  const b = Buffer.alloc(name.length + 1);
  name.copy(b, 0);
  return b;
}

/** struct timeval { time_t tv_sec; suseconds_t tv_usec; } on LP64, for SO_RCVTIMEO. */
export function timeval(ms: number): Buffer {
  const b = Buffer.alloc(SIZEOF_TIMEVAL);
  const view = new DataView(b.buffer, b.byteOffset, b.length);
  writeHostU64(view, BigInt(Math.floor(ms / 1000)), 0);
  writeHostU64(view, BigInt((ms % 1000) * 1000), 8);
  return b;
}

/**
 * struct sockaddr_in6 { sa_family_t sin6_family; in_port_t sin6_port; uint32_t sin6_flowinfo;
 * struct in6_addr sin6_addr; uint32_t sin6_scope_id; } written into `out` at `offset`.
 * The port is 0: for raw sockets the kernel reads it as the protocol and 0 means the socket's own.
 */
export function writeSockaddrIn6(out: Buffer, offset: number, addr: Uint8Array, scopeId: number): void {
  out.fill(0, offset, offset + SIZEOF_SOCKADDR_IN6);
  if (LE) out.writeUInt16LE(AF_INET6, offset);
  else out.writeUInt16BE(AF_INET6, offset);
  out.set(addr.subarray(0, 16), offset + 8);
  writeHostU32(out, scopeId, offset + 24);
}

export function sockaddrIn6(ip: string, scopeId: number): Buffer {
  const b = Buffer.alloc(SIZEOF_SOCKADDR_IN6);
  writeSockaddrIn6(b, 0, ipv6Bytes(ip, 'sockaddr_in6'), scopeId);
  return b;
}

/** struct in6_pktinfo { struct in6_addr ipi6_addr; unsigned int ipi6_ifindex; }. */
export function in6Pktinfo(ip: string, ifindex: number): Buffer {
  const b = Buffer.alloc(SIZEOF_IN6_PKTINFO);
  ipv6Bytes(ip, 'in6_pktinfo').copy(b, 0);
  writeHostU32(b, ifindex, 16);
  return b;
}

/** struct ifreq with only ifr_name set, for the SIOCGIF* ioctls (the kernel fills the union). */
export function ifreq(ifname: string): Buffer {
  const b = Buffer.alloc(SIZEOF_IFREQ);
  bindToDeviceValue(ifname).copy(b, 0);
  return b;
}

/** True for fe80::/10, where an address only means something together with an interface. */
export function isIpv6LinkLocal(addr: Uint8Array): boolean {
  return addr[0] === 0xfe && ((addr[1] ?? 0) & 0xc0) === 0x80;
}

/** True for ff00::/8 multicast that is link- or interface-local, which also needs a scope id. */
export function ipv6NeedsScope(addr: Uint8Array): boolean {
  if (isIpv6LinkLocal(addr)) return true;
  return addr[0] === 0xff && ((addr[1] ?? 0) & 0x0f) <= 2;
}
