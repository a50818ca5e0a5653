/**
 * Interface addresses through rtnetlink (RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR on a
 * NETLINK_ROUTE socket), the way keepalived's netlink_ipaddress() adds and removes VIPs, without
 * spawning `ip`. Requests are answered synchronously: the kernel handles an address request inside
 * sendto() and queues the ack before it returns, so each call costs two syscalls.
 */
import { endianness } from 'node:os';
import * as libc from '../../src/transport/libc.js';
import { bytesToIp, ipToBytes } from '../../src/vrrp/addr.js';
import {
  AF_INET,
  AF_INET6,
  SOCK_CLOEXEC,
  SOCK_RAW,
  SOL_SOCKET,
  SO_RCVTIMEO,
  timeval,
} from '../../src/transport/sockopt.js';
import { recv, sendto } from './syscalls.js';

const AF_NETLINK = 16;
const NETLINK_ROUTE = 0;
const SOL_NETLINK = 270;
const NETLINK_EXT_ACK = 11;
const NETLINK_CAP_ACK = 10;

const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const RTM_GETADDR = 22;
const NLM_F_REQUEST = 0x1;
const NLM_F_MULTI = 0x2;
const NLM_F_ACK = 0x4;
const NLM_F_DUMP = 0x300;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const NLM_F_ACK_TLVS = 0x200;
const NLMSGERR_ATTR_MSG = 1;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_FLAGS = 8;
export const IFA_F_NODAD = 0x02;

const NLMSG_HDRLEN = 16;
const IFADDRMSG_LEN = 8;
const RECV_BUF = 64 * 1024;
const LE = endianness() === 'LE';

export interface IfAddress {
  ifindex: number;
  family: 'ipv4' | 'ipv6';
  /** Canonical text, as bytesToIp prints it. */
  address: string;
  prefix: number;
  label?: string;
}

export interface AddressRequest {
  ifindex: number;
  /** For error messages only. */
  ifname: string;
  family: 'ipv4' | 'ipv6';
  address: string;
  prefix: number;
  label?: string;
}

const align4 = (n: number): number => (n + 3) & ~3;

function u16(b: Buffer, v: number, o: number): void {
  if (LE) b.writeUInt16LE(v, o);
  else b.writeUInt16BE(v, o);
}
function u32(b: Buffer, v: number, o: number): void {
  if (LE) b.writeUInt32LE(v, o);
  else b.writeUInt32BE(v, o);
}
function r16(b: Buffer, o: number): number {
  return LE ? b.readUInt16LE(o) : b.readUInt16BE(o);
}
function r32(b: Buffer, o: number): number {
  return LE ? b.readUInt32LE(o) : b.readUInt32BE(o);
}
function ri32(b: Buffer, o: number): number {
  return LE ? b.readInt32LE(o) : b.readInt32BE(o);
}

function rtattr(type: number, data: Buffer): Buffer {
  const b = Buffer.alloc(align4(4 + data.length));
  u16(b, 4 + data.length, 0);
  u16(b, type, 2);
  data.copy(b, 4);
  return b;
}

function u32Attr(type: number, v: number): Buffer {
  const d = Buffer.alloc(4);
  u32(d, v, 0);
  return rtattr(type, d);
}

/** nlmsghdr + ifaddrmsg + attributes, one request. Exported for the unit tests. */
export function addressMessage(
  type: number,
  flags: number,
  seq: number,
  ifa: { family: number; prefix: number; ifindex: number },
  attrs: Buffer[],
): Buffer {
  const body = Buffer.concat(attrs);
  const len = NLMSG_HDRLEN + IFADDRMSG_LEN + body.length;
  const b = Buffer.alloc(len);
  u32(b, len, 0);
  u16(b, type, 4);
  u16(b, flags, 6);
  u32(b, seq, 8);
  u32(b, 0, 12);
  b[16] = ifa.family;
  b[17] = ifa.prefix;
  b[18] = 0; // ifa_flags: the 32-bit IFA_FLAGS attribute carries them
  b[19] = 0; // RT_SCOPE_UNIVERSE, keepalived's default scope
  u32(b, ifa.ifindex, 20);
  body.copy(b, NLMSG_HDRLEN + IFADDRMSG_LEN);
  return b;
}

/** The request keepalived sends to add a VIP: IFA_LOCAL, IFA_FLAGS (nodad for IPv6), IFA_LABEL. */
export function newAddressMessage(req: AddressRequest, seq: number): Buffer {
  const addr = ipToBytes(req.address);
  const attrs = [rtattr(IFA_LOCAL, addr)];
  // IPv6 VIPs skip duplicate address detection: VRRP is the arbiter, and a DAD failure during
  // a split brain would leave the address unusable for good (keepalived does the same).
  if (req.family === 'ipv6') attrs.push(u32Attr(IFA_FLAGS, IFA_F_NODAD));
  // The kernel keeps labels for IPv4 only.
  if (req.label !== undefined && req.family === 'ipv4') {
    attrs.push(rtattr(IFA_LABEL, Buffer.from(`${req.label}\0`, 'utf8')));
  }
  return addressMessage(
    RTM_NEWADDR,
    NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
    seq,
    { family: req.family === 'ipv4' ? AF_INET : AF_INET6, prefix: req.prefix, ifindex: req.ifindex },
    attrs,
  );
}

export function delAddressMessage(req: AddressRequest, seq: number): Buffer {
  const addr = ipToBytes(req.address);
  const attrs = [rtattr(IFA_LOCAL, addr)];
  if (req.family === 'ipv4') attrs.push(rtattr(IFA_ADDRESS, addr));
  return addressMessage(
    RTM_DELADDR,
    NLM_F_REQUEST | NLM_F_ACK,
    seq,
    { family: req.family === 'ipv4' ? AF_INET : AF_INET6, prefix: req.prefix, ifindex: req.ifindex },
    attrs,
  );
}

interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  body: Buffer;
}

function* messages(buf: Buffer): Generator<NlMessage> {
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = r32(buf, off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) return;
    yield {
      type: r16(buf, off + 4),
      flags: r16(buf, off + 6),
      seq: r32(buf, off + 8),
      body: buf.subarray(off + NLMSG_HDRLEN, off + len),
    };
    off += align4(len);
  }
}

function* attributes(buf: Buffer): Generator<{ type: number; data: Buffer }> {
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = r16(buf, off);
    if (len < 4 || off + len > buf.length) return;
    yield { type: r16(buf, off + 2) & 0x3fff, data: buf.subarray(off + 4, off + len) };
    off += align4(len);
  }
}

/** One RTM_NEWADDR message of a dump, or null for families other than IPv4/IPv6. */
export function parseAddress(body: Buffer): IfAddress | null {
  if (body.length < IFADDRMSG_LEN) return null;
  const fam = body[0];
  if (fam !== AF_INET && fam !== AF_INET6) return null;
  const family = fam === AF_INET ? 'ipv4' : 'ipv6';
  let local: Buffer | undefined;
  let address: Buffer | undefined;
  let label: string | undefined;
  for (const a of attributes(body.subarray(IFADDRMSG_LEN))) {
    if (a.type === IFA_LOCAL) local = a.data;
    else if (a.type === IFA_ADDRESS) address = a.data;
    else if (a.type === IFA_LABEL) label = a.data.toString('utf8').replace(/\0.*$/s, '');
  }
  // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on point-to-point links.
  const own = local ?? address;
  if (!own) return null;
  const out: IfAddress = {
    ifindex: r32(body, 4),
    family,
    address: bytesToIp(own, family),
    prefix: body[1] ?? 0,
  };
  if (label !== undefined) out.label = label;
  return out;
}

/** The kernel's answer to one request (struct nlmsgerr): 0, or -errno. */
export function ackError(body: Buffer): number {
  return body.length >= 4 ? ri32(body, 0) : -1;
}

function ackMessage(body: Buffer, flags: number): string | undefined {
  if (!(flags & NLM_F_ACK_TLVS) || body.length < 4 + NLMSG_HDRLEN) return undefined;
  // With NETLINK_CAP_ACK the echoed request is only its header.
  for (const a of attributes(body.subarray(4 + NLMSG_HDRLEN))) {
    if (a.type === NLMSGERR_ATTR_MSG) return a.data.toString('utf8').replace(/\0.*$/s, '');
  }
  return undefined;
}

export class RtNetlink {
  private fd: number;
  private seq = Math.floor(Date.now() / 1000) & 0xffffff;
  private readonly rbuf = Buffer.alloc(RECV_BUF);
  private readonly kernel = Buffer.alloc(12);

  constructor() {
    try {
      this.fd = libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    } catch (err) {
      throw new Error(`garp: cannot open a rtnetlink socket: ${(err as Error).message}`);
    }
    u16(this.kernel, AF_NETLINK, 0);
    try {
      const local = Buffer.alloc(12);
      u16(local, AF_NETLINK, 0);
      libc.bind(this.fd, local, 'bind rtnetlink socket');
      // A reply that never comes must not hang the daemon: recv gives up after 2 s.
      libc.setsockopt(this.fd, SOL_SOCKET, SO_RCVTIMEO, timeval(2000), 'SO_RCVTIMEO on rtnetlink socket');
      // Best effort: the kernel's own words for a refusal, and acks without the echoed request.
      for (const opt of [NETLINK_EXT_ACK, NETLINK_CAP_ACK]) {
        try {
          const one = Buffer.alloc(4);
          u32(one, 1, 0);
          libc.setsockopt(this.fd, SOL_NETLINK, opt, one, 'netlink ack option');
        } catch {
          // older kernels: plain acks are enough
        }
      }
    } catch (err) {
      libc.close(this.fd);
      this.fd = -1;
      throw new Error(`garp: cannot set up the rtnetlink socket: ${(err as Error).message}`);
    }
  }

  /** Adds the address; 'exists' when it is already there with this prefix (not an error). */
  addAddress(req: AddressRequest): 'added' | 'exists' {
    const err = this.request(
      newAddressMessage(req, this.nextSeq()),
      `add ${req.address}/${req.prefix} to ${req.ifname}`,
    );
    if (err === null) return 'added';
    if (err.code === 'EEXIST') return 'exists';
    const hint =
      err.code === 'EPERM'
        ? '; floatip needs CAP_NET_ADMIN (run as root or grant the capability) to manage addresses'
        : '';
    throw new Error(`garp: cannot add ${req.address}/${req.prefix} to ${req.ifname}: ${err.message}${hint}`);
  }

  /** Removes the address; 'absent' when it was not there. */
  deleteAddress(req: AddressRequest): 'deleted' | 'absent' {
    const err = this.request(
      delAddressMessage(req, this.nextSeq()),
      `remove ${req.address}/${req.prefix} from ${req.ifname}`,
    );
    if (err === null) return 'deleted';
    // EADDRNOTAVAIL: no such address; ENODEV: the interface is gone, and the address with it.
    if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENODEV') return 'absent';
    throw new Error(`garp: cannot remove ${req.address}/${req.prefix} from ${req.ifname}: ${err.message}`);
  }

  /** Every IPv4 and IPv6 address in this network namespace, optionally of one interface. */
  listAddresses(ifindex?: number): IfAddress[] {
    const seq = this.nextSeq();
    const msg = addressMessage(
      RTM_GETADDR,
      NLM_F_REQUEST | NLM_F_DUMP,
      seq,
      { family: 0, prefix: 0, ifindex: 0 },
      [],
    );
    this.send(msg, 'list addresses');
    const out: IfAddress[] = [];
    for (;;) {
      const n = this.recv('list addresses');
      for (const m of messages(this.rbuf.subarray(0, n))) {
        if (m.seq !== seq) continue;
        if (m.type === NLMSG_DONE) return out;
        if (m.type === NLMSG_ERROR) {
          const error = ackError(m.body);
          throw new Error(`garp: listing addresses failed: ${libc.sysError('RTM_GETADDR', -error).message}`);
        }
        if (m.type !== RTM_NEWADDR) continue;
        const a = parseAddress(m.body);
        if (a && (ifindex === undefined || a.ifindex === ifindex)) out.push(a);
        if (!(m.flags & NLM_F_MULTI)) return out;
      }
    }
  }

  close(): void {
    if (this.fd >= 0) libc.close(this.fd);
    this.fd = -1;
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  private send(msg: Buffer, what: string): void {
    if (this.fd < 0) throw new Error(`garp: ${what}: the rtnetlink socket is closed`);
    const n = sendto(this.fd, msg, 0, this.kernel);
    if (n < 0) throw new Error(`garp: ${what}: ${libc.sysError('sendto rtnetlink', -n).message}`);
  }

  private recv(what: string): number {
    try {
      return recv(this.fd, this.rbuf, 0, `recv rtnetlink (${what})`);
    } catch (err) {
      if (err instanceof libc.SysError && err.code === 'EAGAIN') {
        throw new Error(`garp: ${what}: the kernel did not answer within 2 s`);
      }
      throw err;
    }
  }

  /** Sends a request with NLM_F_ACK and waits for its ack: null on success, else the error. */
  private request(msg: Buffer, what: string): libc.SysError | null {
    const seq = r32(msg, 8);
    this.send(msg, what);
    for (;;) {
      const n = this.recv(what);
      for (const m of messages(this.rbuf.subarray(0, n))) {
        if (m.seq !== seq || m.type !== NLMSG_ERROR) continue;
        const error = ackError(m.body);
        if (error === 0) return null;
        const e = libc.sysError(what, -error);
        const detail = ackMessage(m.body, m.flags);
        if (detail) e.message += ` (kernel: ${detail})`;
        return e;
      }
    }
  }
}
