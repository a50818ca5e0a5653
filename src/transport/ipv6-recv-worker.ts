/**
 * The IPv6 receive thread (see ipv6-raw.ts for why it exists): a loop of blocking recvmsg() on the
 * socket the main thread opened, reading the hop limit and destination from the ancillary data.
 *
 * Ownership of the descriptor passes to this thread when it posts 'ready'; from then on only this
 * thread closes it, after the main thread has raised the `stop` flag, so the number can never be
 * reused under a send still in progress on the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { bytesToIp } from '../vrrp/addr.js';
import * as libc from './libc.js';
import {
  IPPROTO_IPV6,
  IPV6_HOPLIMIT,
  IPV6_PKTINFO,
  MSG_CTRUNC,
  MSG_TRUNC,
  SIZEOF_SOCKADDR_IN6,
} from './sockopt.js';

export interface RecvWorkerData {
  fd: number;
  /** Destination accepted (ff02::12 in multicast mode, our address in unicast mode), 16 bytes. */
  acceptDst: Uint8Array;
  /** Our own source address: our packets are not for us. */
  ownSrc: Uint8Array;
  /** Int32Array[1] over a SharedArrayBuffer: non-zero once the main thread closed the transport. */
  stop: SharedArrayBuffer;
}

export type RecvWorkerMessage =
  | { kind: 'ready' }
  | { kind: 'packet'; src: string; dst: string; hopLimit: number; payload: ArrayBuffer }
  | { kind: 'truncated'; src: string; length: number }
  | { kind: 'error'; message: string };

/** A VRRPv3 IPv6 packet is at most 8 + 255 × 16 = 4088 bytes; anything bigger is MSG_TRUNC. */
const DATA_SIZE = 8192;
/** Room for IPV6_PKTINFO (CMSG_SPACE 40) and IPV6_HOPLIMIT (CMSG_SPACE 24), with slack. */
const CONTROL_SIZE = 128;
const CMSG_HDR = 16;
const EAGAIN = libc.ERRNO.EAGAIN ?? 11;
const EINTR = libc.ERRNO.EINTR ?? 4;

function run(port: NonNullable<typeof parentPort>, data: RecvWorkerData): void {
  const stop = new Int32Array(data.stop);
  const msg = new NativeMsgReader();
  const { fd } = data;
  let lastErrno = 0;
  let lastReport = 0;
  try {
    port.postMessage({ kind: 'ready' } satisfies RecvWorkerMessage);
    while (Atomics.load(stop, 0) === 0) {
      msg.m.reset(SIZEOF_SOCKADDR_IN6, CONTROL_SIZE, DATA_SIZE);
      const n = libc.recvmsg(fd, msg.m.block.ptr, 0);
      if (Atomics.load(stop, 0) !== 0) break;
      if (n < 0) {
        const errno = -n;
        // EAGAIN: SO_RCVTIMEO expired, only there so the stop flag is looked at regularly.
        if (errno === EAGAIN || errno === EINTR) continue;
        // The same error again within 10 s is not news; the daemon logs every report.
        const now = Date.now();
        if (errno !== lastErrno || now - lastReport >= 10_000) {
          lastErrno = errno;
          lastReport = now;
          port.postMessage({
            kind: 'error',
            message: libc.sysError('recvmsg on the IPv6 VRRP socket', errno).message,
          } satisfies RecvWorkerMessage);
        }
        // A persistent error must not turn into a busy loop.
        Atomics.wait(stop, 0, 0, 200);
        continue;
      }
      msg.handle(port, data, n);
    }
  } finally {
    libc.close(fd);
  }
}

class NativeMsgReader {
  readonly m = new libc.NativeMsg(CONTROL_SIZE, DATA_SIZE);
  private readonly bytes = this.m.block.bytes;
  private readonly view = this.m.block.view;

  handle(port: NonNullable<typeof parentPort>, data: RecvWorkerData, n: number): void {
    const { bytes, view } = this;
    let hopLimit = -1;
    let dstOff = -1;
    const controlLen = this.m.controlLen;
    for (let off = libc.CONTROL_OFF; off + CMSG_HDR <= libc.CONTROL_OFF + controlLen;) {
      const len = Number(view.getBigUint64(off, true));
      if (len < CMSG_HDR) break;
      const level = view.getInt32(off + 8, true);
      const type = view.getInt32(off + 12, true);
      if (level === IPPROTO_IPV6 && type === IPV6_HOPLIMIT) hopLimit = view.getInt32(off + CMSG_HDR, true);
      else if (level === IPPROTO_IPV6 && type === IPV6_PKTINFO) dstOff = off + CMSG_HDR;
      off += (len + 7) & ~7;
    }
    // Without both (MSG_CTRUNC cannot happen with this control size) the packet cannot be judged.
    if (hopLimit < 0 || dstOff < 0 || (this.m.flags & MSG_CTRUNC) !== 0) return;
    if (!sameAddr(bytes, dstOff, data.acceptDst)) return;
    const srcOff = libc.NAME_OFF + 8;
    if (sameAddr(bytes, srcOff, data.ownSrc)) return;
    const src = bytesToIp(bytes.subarray(srcOff, srcOff + 16), 'ipv6');
    if ((this.m.flags & MSG_TRUNC) !== 0) {
      port.postMessage({ kind: 'truncated', src, length: n } satisfies RecvWorkerMessage);
      return;
    }
    const payload = new ArrayBuffer(n);
    new Uint8Array(payload).set(bytes.subarray(this.m.dataOff, this.m.dataOff + n));
    port.postMessage(
      {
        kind: 'packet',
        src,
        dst: bytesToIp(bytes.subarray(dstOff, dstOff + 16), 'ipv6'),
        hopLimit,
        payload,
      } satisfies RecvWorkerMessage,
      [payload],
    );
  }
}

function sameAddr(buf: Buffer, off: number, addr: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (buf[off + i] !== addr[i]) return false;
  return true;
}

if (parentPort) run(parentPort, workerData as RecvWorkerData);
