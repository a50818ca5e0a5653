/**
 * VRRP over IPv4: one raw socket (protocol 112, package `raw-socket`) for sending and receiving,
 * configured the way keepalived 2.2.7 configures its send and read sockets (vrrp.c
 * open_vrrp_send_socket / open_vrrp_read_socket, vrrp_if.c if_setsockopt_*).
 *
 * Sending uses IP_HDRINCL with a header built here exactly as keepalived builds it (TOS 0xc0, TTL
 * 255 or unicast_ttl, no DF, IP id counting 1, 2, 3…), so captures of both daemons look alike.
 *
 * Receiving: a raw socket sees whole IPv4 packets of its protocol, header included. keepalived
 * bind()s its read socket to the group (multicast) or unicast_src so the kernel filters by
 * destination; `raw-socket` has no bind(), so that filter is applied here, on the raw bytes before
 * anything is decoded, together with dropping our own packets.
 */
import { createRequire } from 'node:module';
import { familyOf, ipToBytes } from '../vrrp/addr.js';
import { VRRP_MCAST_V4, VRRP_PROTOCOL } from '../vrrp/advert.js';
import { decodeIpv4Packet, encodeIpv4Packet, IpIdCounter } from '../vrrp/ipv4-header.js';
import { interfaceInfo } from './interface-info.js';
import {
  bindToDeviceValue,
  IP_ADD_MEMBERSHIP,
  IP_HDRINCL,
  IP_MULTICAST_ALL,
  IP_MULTICAST_IF,
  IP_MULTICAST_LOOP,
  IP_TOS,
  ipMreqn,
  IPPROTO_IP,
  SO_BINDTODEVICE,
  SO_DONTROUTE,
  SOL_SOCKET,
  TOS_INTERNETCONTROL,
} from './sockopt.js';
import type { ReceivedPacket, TransportHandlers, TransportOptions, VrrpTransport } from './types.js';

const VRRP_TTL = 255;
const IPV4_HEADER_MIN = 20;

/** The part of `raw-socket` (a CommonJS addon without type declarations) used here. */
interface RawSocket {
  setOption(level: number, option: number, value: number): void;
  setOption(level: number, option: number, value: Buffer, length: number): void;
  send(
    buf: Buffer,
    offset: number,
    length: number,
    address: string,
    cb: (err: Error | null, bytes: number) => void,
  ): RawSocket;
  close(): RawSocket;
  on(event: 'message', listener: (buf: Buffer, source: string) => void): RawSocket;
  on(event: 'error', listener: (err: Error) => void): RawSocket;
  on(event: 'close', listener: () => void): RawSocket;
}

interface RawSocketModule {
  createSocket(opts: { protocol: number; addressFamily: number; bufferSize?: number }): RawSocket;
  AddressFamily: { IPv4: number; IPv6: number };
}

let rawModule: RawSocketModule | null = null;
function loadRawSocket(): RawSocketModule {
  // Loaded on first use so that merely importing the transport does not load a native addon.
  rawModule ??= createRequire(import.meta.url)('raw-socket') as RawSocketModule;
  return rawModule;
}

export function capabilityHint(ifname: string, family: string): string {
  return `raw ${family} socket on ${ifname} needs CAP_NET_RAW: run floatip as root or grant it cap_net_raw (setcap cap_net_raw,cap_net_admin+ep on the node binary, or AmbientCapabilities= in the systemd unit)`;
}

function isPermissionError(err: unknown): boolean {
  const m = err instanceof Error ? err.message : String(err);
  return /Operation not permitted|Permission denied/i.test(m);
}

export function openIpv4Transport(opts: TransportOptions, h: TransportHandlers): VrrpTransport {
  const info = interfaceInfo(opts.ifname);
  const raw = loadRawSocket();
  let sock: RawSocket;
  try {
    // 4 KiB holds any VRRP packet over IPv4 (20 + 8 + 255×4 + 8 bytes at most); a longer packet
    // is cut short by recvfrom and then fails the IP length check as packet_len_err.
    sock = raw.createSocket({
      protocol: VRRP_PROTOCOL,
      addressFamily: raw.AddressFamily.IPv4,
      bufferSize: 4096,
    });
  } catch (err) {
    if (isPermissionError(err)) throw new Error(capabilityHint(opts.ifname, 'IPv4'));
    throw new Error(`cannot open a raw IPv4 socket for VRRP on ${opts.ifname}: ${(err as Error).message}`);
  }
  const transport = new Ipv4Transport(sock, opts, h);
  try {
    transport.configure(info.index);
  } catch (err) {
    transport.close();
    throw err;
  }
  return transport;
}

class Ipv4Transport implements VrrpTransport {
  readonly options: TransportOptions;
  private readonly multicast: boolean;
  private readonly ownSrc: Buffer;
  /** The destination we accept: the group in multicast mode, our own address in unicast mode. */
  private readonly acceptDst: Buffer;
  private readonly ids = new IpIdCounter();
  private readonly pending = new Set<(err: Error) => void>();
  private closed = false;
  private failure: Error | null = null;

  constructor(
    private readonly sock: RawSocket,
    opts: TransportOptions,
    private readonly h: TransportHandlers,
  ) {
    this.options = { ...opts, unicastPeers: [...opts.unicastPeers] };
    this.multicast = opts.unicastPeers.length === 0;
    this.ownSrc = ipToBytes(opts.sourceIp);
    this.acceptDst = this.multicast ? ipToBytes(VRRP_MCAST_V4) : this.ownSrc;

    // Listeners first: an 'error' event without one would throw out of the addon's callback.
    sock.on('error', (err) => this.report(new Error(`raw IPv4 socket on ${opts.ifname}: ${err.message}`)));
    sock.on('close', () => this.onSocketClosed());
    sock.on('message', (buf, source) => this.onMessage(buf, source));
  }

  configure(ifindex: number): void {
    const { sock } = this;
    const { ifname } = this.options;
    const set = (level: number, name: number, value: number | Buffer, what: string): void => {
      try {
        if (typeof value === 'number') sock.setOption(level, name, value);
        else sock.setOption(level, name, value, value.length);
      } catch (err) {
        if (isPermissionError(err)) throw new Error(capabilityHint(ifname, 'IPv4'));
        throw new Error(`cannot set ${what} on the VRRP socket for ${ifname}: ${(err as Error).message}`);
      }
    };

    // Only this interface's packets, and sends leave through it whatever the routing table says
    // (keepalived: if_setsockopt_bindtodevice on both sockets).
    set(SOL_SOCKET, SO_BINDTODEVICE, bindToDeviceValue(ifname), `SO_BINDTODEVICE ${ifname}`);
    // We write the IPv4 header ourselves, as keepalived does (if_setsockopt_hdrincl).
    set(IPPROTO_IP, IP_HDRINCL, 1, 'IP_HDRINCL');
    // Without this a socket receives every multicast group any socket on the host joined
    // (Linux default IP_MULTICAST_ALL=1); keepalived turns it off (if_setsockopt_mcast_all).
    set(IPPROTO_IP, IP_MULTICAST_ALL, 0, 'IP_MULTICAST_ALL');
    // The header's TOS is ours anyway (HDRINCL); IP_TOS also sets the socket priority the qdisc
    // sees, which is why keepalived sets it (if_setsockopt_priority: IPTOS_PREC_INTERNETCONTROL).
    set(IPPROTO_IP, IP_TOS, TOS_INTERNETCONTROL, 'IP_TOS');

    if (this.multicast) {
      // Join 224.0.0.18 on this interface by index (keepalived: if_join_vrrp_group, ip_mreqn).
      set(
        IPPROTO_IP,
        IP_ADD_MEMBERSHIP,
        ipMreqn(VRRP_MCAST_V4, ifindex),
        `IP_ADD_MEMBERSHIP ${VRRP_MCAST_V4}`,
      );
      // Outgoing multicast on this interface (if_setsockopt_mcast_if, also an ip_mreqn).
      set(IPPROTO_IP, IP_MULTICAST_IF, ipMreqn('0.0.0.0', ifindex), 'IP_MULTICAST_IF');
      // Our own adverts must not come back to us (if_setsockopt_mcast_loop).
      set(IPPROTO_IP, IP_MULTICAST_LOOP, 0, 'IP_MULTICAST_LOOP');
      // keepalived sends multicast adverts with MSG_DONTROUTE; raw-socket takes no send flags, and
      // this socket only ever sends to the group, so the socket-wide equivalent does the same.
      set(SOL_SOCKET, SO_DONTROUTE, 1, 'SO_DONTROUTE');
    }
  }

  send(payload: Buffer, dst: string, ipId?: number): Promise<void> {
    const ifname = this.options.ifname;
    if (this.closed)
      return Promise.reject(new Error(`VRRP transport on ${ifname} is closed; cannot send to ${dst}`));
    if (this.failure) return Promise.reject(this.failure);
    if (familyOf(dst) !== 'ipv4') {
      return Promise.reject(new Error(`VRRP transport on ${ifname} is IPv4; cannot send to "${dst}"`));
    }
    let packet: Buffer;
    try {
      packet = encodeIpv4Packet(
        {
          tos: TOS_INTERNETCONTROL,
          id: ipId ?? this.ids.next(),
          // RFC 3768/5798: adverts leave with TTL 255 so receivers can tell they were not routed;
          // keepalived lets unicast_ttl override it for unicast peers only.
          ttl: isIpv4Multicast(dst) ? VRRP_TTL : this.options.unicastTtl,
          protocol: VRRP_PROTOCOL,
          src: this.options.sourceIp,
          dst,
        },
        payload,
      );
    } catch (err) {
      return Promise.reject(
        new Error(`cannot build the IPv4 packet to ${dst} on ${ifname}: ${(err as Error).message}`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.add(reject);
      this.sock.send(packet, 0, packet.length, dst, (err) => {
        if (!this.pending.delete(reject)) return; // settled by close()
        if (err) reject(sendError(err, dst, ifname));
        else resolve();
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
    this.rejectPending(
      new Error(`VRRP transport on ${this.options.ifname} closed before the advert was sent`),
    );
  }

  private onMessage(buf: Buffer, source: string): void {
    if (this.closed) return;
    if (buf.length < IPV4_HEADER_MIN) {
      this.h.onReject(
        'packet_len_err',
        `${buf.length}-byte packet on ${this.options.ifname} is shorter than an IPv4 header`,
        source,
      );
      return;
    }
    // Cheap checks on the raw header first: most protocol-112 traffic a busy segment carries is
    // for other routers or is our own.
    if (buf[9] !== VRRP_PROTOCOL) return;
    if (buf.compare(this.acceptDst, 0, 4, 16, 20) !== 0) return;
    if (buf.compare(this.ownSrc, 0, 4, 12, 16) === 0) return;

    const d = decodeIpv4Packet(buf);
    if (!d.ok) {
      this.h.onReject('packet_len_err', `${d.detail} (from ${source} on ${this.options.ifname})`, source);
      return;
    }
    const { ttl, src, dst } = d.header;
    // RFC 3768 §7.1 / RFC 5798 §7.1: a multicast advert with TTL ≠ 255 may have been routed in
    // from elsewhere. keepalived skips the check in unicast mode (per-peer min/max TTL only when
    // configured), and so do we.
    if (this.multicast && ttl !== VRRP_TTL) {
      this.h.onReject(
        'ip_ttl_err',
        `multicast advert from ${src} on ${this.options.ifname} has TTL ${ttl}, expected ${VRRP_TTL}`,
        src,
      );
      return;
    }
    // The addon reuses its receive buffer for the next packet, so the payload needs its own copy.
    this.deliver({
      family: 'ipv4',
      src,
      dst,
      ttl,
      ifname: this.options.ifname,
      payload: Buffer.from(d.payload),
    });
  }

  private deliver(p: ReceivedPacket): void {
    try {
      this.h.onPacket(p);
    } catch (err) {
      this.h.onError(new Error(`VRRP packet handler failed on ${p.ifname}: ${(err as Error).message}`));
    }
  }

  private onSocketClosed(): void {
    if (this.closed) return;
    // raw-socket closes the socket itself after a poll error; sending on it again would make it
    // open a fresh, unconfigured socket, so the transport stays failed from here on.
    this.failure = new Error(
      `raw IPv4 socket on ${this.options.ifname} closed after an error; adverts can no longer be sent or received there; restart floatip`,
    );
    this.closed = true;
    this.rejectPending(this.failure);
    this.report(this.failure);
  }

  private rejectPending(err: Error): void {
    const pending = [...this.pending];
    this.pending.clear();
    for (const reject of pending) reject(err);
  }

  private report(err: Error): void {
    if (/Resource temporarily unavailable/.test(err.message)) return; // a spurious wake-up, not a fault
    this.h.onError(err);
  }
}

function sendError(err: Error, dst: string, ifname: string): Error {
  let hint = '';
  if (isPermissionError(err)) hint = ' (a firewall rule may be dropping IP protocol 112)';
  else if (/unreachable/i.test(err.message)) hint = ` (is ${dst} on the subnet of ${ifname}?)`;
  return new Error(`sending VRRP to ${dst} on ${ifname} failed: ${err.message}${hint}`);
}

function isIpv4Multicast(ip: string): boolean {
  const first = Number.parseInt(ip, 10);
  return first >= 224 && first <= 239;
}
