/**
 * The libc calls the L2 provider needs beyond src/transport/libc.ts: sendto (a frame to an
 * AF_PACKET address, a request to the kernel's netlink address) and recv (netlink replies).
 * Looked up in the running process like the shared ones, so glibc and musl both work.
 */
import koffi from 'koffi';
import { sysError } from '../../src/transport/libc.js';

const lib = koffi.load(null);

const sendto_ = lib.func(
  'intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)',
) as (fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrlen: number) => number | bigint;
const recv_ = lib.func('intptr_t recv(int fd, void *buf, size_t len, int flags)') as (
  fd: number,
  buf: Buffer,
  len: number,
  flags: number,
) => number | bigint;

/** Returns bytes sent, or -errno: a lost announcement is logged, never thrown at the caller. */
export function sendto(fd: number, buf: Buffer, flags: number, addr: Buffer): number {
  const n = Number(sendto_(fd, buf, buf.length, flags, addr, addr.length));
  return n < 0 ? -koffi.errno() : n;
}

/** Bytes received; throws a SysError naming `what` on failure (EAGAIN included). */
export function recv(fd: number, buf: Buffer, flags: number, what: string): number {
  const n = Number(recv_(fd, buf, buf.length, flags));
  if (n < 0) throw sysError(what, koffi.errno());
  return n;
}
