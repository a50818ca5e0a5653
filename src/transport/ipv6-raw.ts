/**
 * VRRPv3 over IPv6: one raw socket (protocol 112) configured as keepalived 2.2.7 configures its
 * IPv6 send and read sockets (vrrp.c open_vrrp_send_socket / open_vrrp_read_socket).
 *
 * Why not `raw-socket` as for IPv4: an IPv6 raw socket delivers only the payload, and the two
 * facts VRRP must check (hop limit = 255, RFC 5798 §5.1.2.3 / §7.1, and whether the packet was
 * sent to the group) arrive only as recvmsg ancillary data (IPV6_RECVHOPLIMIT, IPV6_RECVPKTINFO),
 * which raw-socket's recvfrom throws away. Node cannot watch a foreign descriptor for
 * readability (libuv only polls handles it created), so the socket is made with koffi and read
 * by a dedicated worker thread doing blocking recvmsg (ipv6-recv-worker.ts); the event loop never
 * blocks and needs no polling timer. close() raises a shared stop flag and shutdown(SHUT_RD)s the
 * socket, which wakes a blocked recvmsg at once; SO_RCVTIMEO (250 ms) bounds the wait even if that
 * wake-up were lost, so close() never leaves a thread that holds the process open for long.
 *
 * Sending happens on the main thread: a non-blocking sendmsg with IPV6_PKTINFO carrying our source
 * address and interface, exactly keepalived's vrrp_send_pkt, from a preallocated native msghdr.
 * The kernel computes the VRRP checksum (IPV6_CHECKSUM at offset 6) and, on receive, drops packets
 * whose checksum is wrong, as it does for keepalived.
 */
import { extname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { familyOf, ipToBytes } from '../vrrp/addr.js';
import { VRRP_MCAST_V6, VRRP_PROTOCOL } from '../vrrp/advert.js';
import { interfaceInfo } from './interface-info.js';
import { capabilityHint } from './ipv4-raw.js';
import type { RecvWorkerData, RecvWorkerMessage } from './ipv6-recv-worker.js';
import * as libc from './libc.js';
import {
  AF_INET6,
  bindToDeviceValue,
  cmsgLen,
  cmsgSpace,
  intOption,
  ipv6Mreq,
  ipv6NeedsScope,
  IPPROTO_IPV6,
  IPV6_ADD_MEMBERSHIP,
  IPV6_CHECKSUM,
  IPV6_MULTICAST_ALL,
  IPV6_MULTICAST_HOPS,
  IPV6_MULTICAST_IF,
  IPV6_MULTICAST_LOOP,
  IPV6_PKTINFO,
  IPV6_RECVHOPLIMIT,
  IPV6_RECVPKTINFO,
  IPV6_TCLASS,
  IPV6_UNICAST_HOPS,
  MSG_DONTROUTE,
  MSG_DONTWAIT,
  SHUT_RD,
  SIZEOF_IN6_PKTINFO,
  SIZEOF_SOCKADDR_IN6,
  SO_BINDTODEVICE,
  SO_RCVTIMEO,
  SOCK_CLOEXEC,
  SOCK_RAW,
  SOL_SOCKET,
  timeval,
  TOS_INTERNETCONTROL,
  VRRP_CHECKSUM_OFFSET,
  writeSockaddrIn6,
} from './sockopt.js';
import type { TransportHandlers, TransportOptions, VrrpTransport } from './types.js';

const VRRP_HOP_LIMIT = 255;
const RECV_TIMEOUT_MS = 250;
/** Largest IPv6 payload without jumbograms. */
const SEND_DATA_SIZE = 65535;
const SEND_CONTROL_SIZE = cmsgSpace(SIZEOF_IN6_PKTINFO);

export async function openIpv6Transport(
  opts: TransportOptions,
  h: TransportHandlers,
): Promise<VrrpTransport> {
  const { ifname } = opts;
  const info = interfaceInfo(ifname);
  const multicast = opts.unicastPeers.length === 0;
  const ownSrc = ipToBytes(opts.sourceIp);
  const group = ipToBytes(VRRP_MCAST_V6);

  let fd: number;
  try {
    // Blocking on purpose: only the receive thread reads, and it wants to sleep in recvmsg.
    // Sends pass MSG_DONTWAIT.
    fd = libc.socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, VRRP_PROTOCOL);
  } catch (err) {
    if (isPermission(err)) throw new Error(capabilityHint(ifname, 'IPv6'));
    throw new Error(`cannot open a raw IPv6 socket for VRRP on ${ifname}: ${(err as Error).message}`);
  }

  try {
    const set = (level: number, name: number, value: Buffer, what: string, optional = false): void => {
      try {
        libc.setsockopt(fd, level, name, value, what);
      } catch (err) {
        if (optional && err instanceof libc.SysError && err.code === 'ENOPROTOOPT') return;
        if (isPermission(err)) throw new Error(capabilityHint(ifname, 'IPv6'));
        throw new Error(
          `cannot set ${what} on the IPv6 VRRP socket for ${ifname}: ${(err as Error).message}`,
        );
      }
    };
    // Only this interface's packets; sends leave through it (if_setsockopt_bindtodevice).
    set(SOL_SOCKET, SO_BINDTODEVICE, bindToDeviceValue(ifname), `SO_BINDTODEVICE ${ifname}`);
    // No groups joined by other sockets (if_setsockopt_mcast_all); kernels before 4.20 lack it,
    // where keepalived skips it too.
    set(IPPROTO_IPV6, IPV6_MULTICAST_ALL, intOption(0), 'IPV6_MULTICAST_ALL', true);
    // The kernel fills in the VRRP checksum on send and verifies it on receive
    // (if_setsockopt_ipv6_checksum: offset 6 in the VRRP header).
    set(IPPROTO_IPV6, IPV6_CHECKSUM, intOption(VRRP_CHECKSUM_OFFSET), 'IPV6_CHECKSUM');
    // Traffic class CS6, keepalived's if_setsockopt_priority for IPv6.
    set(IPPROTO_IPV6, IPV6_TCLASS, intOption(TOS_INTERNETCONTROL), 'IPV6_TCLASS');
    // The receive thread wakes at least this often to notice close() (see the header comment).
    set(SOL_SOCKET, SO_RCVTIMEO, timeval(RECV_TIMEOUT_MS), 'SO_RCVTIMEO');
    // Hop limit and destination of each packet as ancillary data (open_vrrp_read_socket).
    set(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, intOption(1), 'IPV6_RECVHOPLIMIT');
    set(IPPROTO_IPV6, IPV6_RECVPKTINFO, intOption(1), 'IPV6_RECVPKTINFO');

    if (multicast) {
      set(
        IPPROTO_IPV6,
        IPV6_ADD_MEMBERSHIP,
        ipv6Mreq(VRRP_MCAST_V6, info.index),
        `IPV6_ADD_MEMBERSHIP ${VRRP_MCAST_V6}`,
      );
      // Join ff02::12 on this interface (if_join_vrrp_group) and send multicast out of it
      // (if_setsockopt_mcast_if).
      set(IPPROTO_IPV6, IPV6_MULTICAST_IF, intOption(info.index), 'IPV6_MULTICAST_IF');
      // RFC 5798 §5.1.2.3: hop limit 255 (if_setsockopt_mcast_hops).
      set(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, intOption(VRRP_HOP_LIMIT), 'IPV6_MULTICAST_HOPS');
      // Our own adverts must not come back to this host (if_setsockopt_mcast_loop).
      set(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, intOption(0), 'IPV6_MULTICAST_LOOP');
      // Bound to the group, the kernel delivers only packets sent to it (keepalived binds its
      // multicast read socket the same way).
      bindOrExplain(fd, group, info.index, VRRP_MCAST_V6, ifname);
    } else {
      // keepalived puts unicast_ttl in an IPV6_HOPLIMIT cmsg on every unicast send; the option
      // is the same thing set once, since the value is fixed for this transport.
      set(IPPROTO_IPV6, IPV6_UNICAST_HOPS, intOption(opts.unicastTtl), 'IPV6_UNICAST_HOPS');
      // Bound to our address, only unicast packets sent to us arrive (open_vrrp_read_socket).
      bindOrExplain(fd, ownSrc, ipv6NeedsScope(ownSrc) ? info.index : 0, opts.sourceIp, ifname);
    }
  } catch (err) {
    libc.close(fd);
    throw err;
  }

  const stop = new SharedArrayBuffer(4);
  let worker: Worker;
  try {
    worker = await startReceiver({ fd, acceptDst: multicast ? group : ownSrc, ownSrc, stop }, ifname);
  } catch (err) {
    libc.close(fd); // the thread never took the descriptor over
    throw err;
  }
  return new Ipv6Transport(opts, h, fd, info.index, worker, new Int32Array(stop), multicast);
}

function bindOrExplain(fd: number, addr: Uint8Array, scope: number, text: string, ifname: string): void {
  const sa = Buffer.alloc(SIZEOF_SOCKADDR_IN6);
  writeSockaddrIn6(sa, 0, addr, scope);
  try {
    libc.bind(fd, sa, `bind(${text})`);
  } catch (err) {
    if (err instanceof libc.SysError && err.code === 'EADDRNOTAVAIL') {
      throw new Error(
        `cannot receive VRRP on ${ifname}: ${text} is not an address of ${ifname}; add it to the interface or fix unicast_src_ip`,
      );
    }
    throw new Error(`cannot bind the IPv6 VRRP socket on ${ifname} to ${text}: ${(err as Error).message}`);
  }
}

function isPermission(err: unknown): boolean {
  return err instanceof libc.SysError && (err.code === 'EPERM' || err.code === 'EACCES');
}

/**
 * Starts the worker module beside this one: `.js` once built. Run from source (`.ts` under tsx),
 * the worker would not get tsx's loader (tsx registers its hooks in the main thread only), so a
 * two-line bootstrap registers tsx in the worker and then imports the `.ts` module.
 */
function spawnWorker(data: RecvWorkerData, name: string): Worker {
  const ext = extname(new URL(import.meta.url).pathname);
  if (ext !== '.ts')
    return new Worker(new URL('./ipv6-recv-worker.js', import.meta.url), { workerData: data, name });
  const url = new URL('./ipv6-recv-worker.ts', import.meta.url).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(url)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: data, name });
}

function startReceiver(data: RecvWorkerData, ifname: string): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const worker = spawnWorker(data, `floatip-vrrp6-${ifname}`);
    const fail = (err: Error): void => {
      cleanup();
      reject(new Error(`cannot start the IPv6 VRRP receive thread for ${ifname}: ${err.message}`));
    };
    const onExit = (code: number): void => fail(new Error(`it exited with code ${code}`));
    const onMessage = (m: RecvWorkerMessage): void => {
      if (m.kind !== 'ready') return;
      cleanup();
      resolve(worker);
    };
    const cleanup = (): void => {
      worker.off('error', fail);
      worker.off('exit', onExit);
      worker.off('message', onMessage);
    };
    worker.on('error', fail);
    worker.on('exit', onExit);
    worker.on('message', onMessage);
  });
}

class Ipv6Transport implements VrrpTransport {
  readonly options: TransportOptions;
  private readonly out = new libc.NativeMsg(SEND_CONTROL_SIZE, SEND_DATA_SIZE);
  /** Parsed destinations: the set is the group or the configured peers, so it stays tiny. */
  private readonly dstCache = new Map<string, Buffer>();
  private closed = false;

  constructor(
    opts: TransportOptions,
    private readonly h: TransportHandlers,
    private readonly fd: number,
    private readonly ifindex: number,
    private readonly worker: Worker,
    private readonly stop: Int32Array,
    private readonly multicast: boolean,
  ) {
    this.options = { ...opts, unicastPeers: [...opts.unicastPeers] };

    // The IPV6_PKTINFO control message is the same for every send: our source, our interface.
    const { bytes, view } = this.out.block;
    const c = libc.CONTROL_OFF;
    view.setBigUint64(c, BigInt(cmsgLen(SIZEOF_IN6_PKTINFO)), true);
    view.setInt32(c + 8, IPPROTO_IPV6, true);
    view.setInt32(c + 12, IPV6_PKTINFO, true);
    bytes.set(ipToBytes(opts.sourceIp), c + 16);
    view.setUint32(c + 32, ifindex, true);

    worker.on('message', (m: RecvWorkerMessage) => this.onWorkerMessage(m));
    worker.on('error', (err) => {
      if (!this.closed)
        this.h.onError(new Error(`IPv6 VRRP receive thread on ${opts.ifname} failed: ${err.message}`));
    });
    worker.on('exit', (code) => {
      if (!this.closed) {
        this.h.onError(
          new Error(
            `IPv6 VRRP receive thread on ${opts.ifname} stopped (exit code ${code}); adverts are no longer received there; restart floatip`,
          ),
        );
      }
    });
  }

  send(payload: Buffer, dst: string): Promise<void> {
    const ifname = this.options.ifname;
    if (this.closed)
      return Promise.reject(new Error(`VRRP transport on ${ifname} is closed; cannot send to ${dst}`));
    const addr = this.destination(dst);
    if (!addr)
      return Promise.reject(new Error(`VRRP transport on ${ifname} is IPv6; cannot send to "${dst}"`));
    if (payload.length > SEND_DATA_SIZE) {
      return Promise.reject(
        new Error(`VRRP payload of ${payload.length} bytes to ${dst} is too big for IPv6`),
      );
    }
    const { bytes } = this.out.block;
    writeSockaddrIn6(bytes, libc.NAME_OFF, addr, ipv6NeedsScope(addr) ? this.ifindex : 0);
    bytes.set(payload, this.out.dataOff);
    this.out.reset(SIZEOF_SOCKADDR_IN6, SEND_CONTROL_SIZE, payload.length);
    // keepalived sends multicast adverts with MSG_DONTROUTE and unicast ones without.
    const flags = MSG_DONTWAIT | (addr[0] === 0xff ? MSG_DONTROUTE : 0);
    const n = libc.sendmsg(this.fd, this.out.block.ptr, flags);
    if (n < 0) {
      const e = libc.sysError(`sending VRRP to ${dst} on ${ifname} failed`, -n);
      const hint =
        e.code === 'EAGAIN'
          ? ' (socket send buffer full; is the interface stalled?)'
          : e.code === 'EINVAL'
            ? ` (is ${this.options.sourceIp} configured on ${ifname}?)`
            : e.code === 'EPERM'
              ? ' (a firewall rule may be dropping IP protocol 112)'
              : '';
      return Promise.reject(new Error(e.message + hint));
    }
    return Promise.resolve();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.stop, 0, 1);
    // Wakes the blocked recvmsg now; the receive thread then closes the descriptor. The socket is
    // unconnected, so shutdown() reports ENOTCONN, but it still marks it and wakes the sleeper.
    libc.shutdown(this.fd, SHUT_RD);
    // Whatever the thread still does must not keep the process alive.
    this.worker.unref();
  }

  private destination(dst: string): Buffer | null {
    let addr = this.dstCache.get(dst);
    if (addr) return addr;
    if (familyOf(dst) !== 'ipv6') return null;
    addr = ipToBytes(dst);
    if (this.dstCache.size >= 64) this.dstCache.clear();
    this.dstCache.set(dst, addr);
    return addr;
  }

  private onWorkerMessage(m: RecvWorkerMessage): void {
    if (this.closed) return;
    const ifname = this.options.ifname;
    switch (m.kind) {
      case 'packet':
        // RFC 5798 §7.1: hop limit must be 255 on multicast; unicast is not checked (keepalived).
        if (this.multicast && m.hopLimit !== VRRP_HOP_LIMIT) {
          this.h.onReject(
            'ip_ttl_err',
            `multicast advert from ${m.src} on ${ifname} has hop limit ${m.hopLimit}, expected ${VRRP_HOP_LIMIT}`,
            m.src,
          );
          return;
        }
        try {
          this.h.onPacket({
            family: 'ipv6',
            src: m.src,
            dst: m.dst,
            ttl: m.hopLimit,
            ifname,
            payload: Buffer.from(m.payload),
          });
        } catch (err) {
          this.h.onError(new Error(`VRRP packet handler failed on ${ifname}: ${(err as Error).message}`));
        }
        return;
      case 'truncated':
        this.h.onReject(
          'packet_len_err',
          `packet from ${m.src} on ${ifname} is too long for VRRP (truncated at ${m.length} bytes)`,
          m.src,
        );
        return;
      case 'error':
        this.h.onError(new Error(`${m.message} (${ifname})`));
        return;
      case 'ready':
        return;
    }
  }
}
