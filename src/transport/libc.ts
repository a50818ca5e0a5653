/**
 * The few libc socket calls Node does not offer, through koffi: IPv6 needs recvmsg (hop limit and
 * destination arrive only as ancillary data), sendmsg (source chosen with IPV6_PKTINFO, as
 * keepalived does) and bind; interface facts need ioctl. Every call is synchronous; the one call
 * that blocks (recvmsg) runs only on the IPv6 receive thread.
 *
 * The symbols are looked up in the running process (`koffi.load(null)`), which already links the C
 * library, so this works with glibc and musl alike.
 */
import koffi from 'koffi';

const lib = koffi.load(null);

const socket_ = lib.func('int socket(int domain, int type, int protocol)') as (
  domain: number,
  type: number,
  protocol: number,
) => number;
const setsockopt_ = lib.func(
  'int setsockopt(int fd, int level, int name, const void *value, uint32_t len)',
) as (fd: number, level: number, name: number, value: Buffer, len: number) => number;
const bind_ = lib.func('int bind(int fd, const void *addr, uint32_t len)') as (
  fd: number,
  addr: Buffer,
  len: number,
) => number;
const sendmsg_ = lib.func('intptr_t sendmsg(int fd, void *msg, int flags)') as (
  fd: number,
  msg: unknown,
  flags: number,
) => number | bigint;
const recvmsg_ = lib.func('intptr_t recvmsg(int fd, void *msg, int flags)') as (
  fd: number,
  msg: unknown,
  flags: number,
) => number | bigint;
const shutdown_ = lib.func('int shutdown(int fd, int how)') as (fd: number, how: number) => number;
const close_ = lib.func('int close(int fd)') as (fd: number) => number;
const ioctl_ = lib.func('int ioctl(int fd, unsigned long request, ...)') as (
  fd: number,
  request: number,
  type: string,
  arg: Buffer,
) => number;
const strerror_ = lib.func('const char *strerror(int errnum)') as (errnum: number) => string;

export const ERRNO = koffi.os.errno;

/** An OS error from a libc call, with the errno name (`EPERM`) as `code` like Node's own errors. */
export class SysError extends Error {
  constructor(
    message: string,
    readonly errno: number,
    readonly code: string,
  ) {
    super(message);
    this.name = 'SysError';
  }
}

const errnoNames = new Map<number, string>(Object.entries(ERRNO).map(([name, n]) => [n, name]));

export function sysError(what: string, errno: number): SysError {
  const code = errnoNames.get(errno) ?? `errno ${errno}`;
  return new SysError(`${what}: ${strerror_(errno)} (${code})`, errno, code);
}

function check(rc: number | bigint, what: string): number {
  const n = Number(rc);
  if (n < 0) throw sysError(what, koffi.errno());
  return n;
}

export function socket(domain: number, type: number, protocol: number): number {
  return check(socket_(domain, type, protocol), 'socket()');
}

export function setsockopt(fd: number, level: number, name: number, value: Buffer, what: string): void {
  check(setsockopt_(fd, level, name, value, value.length), what);
}

export function bind(fd: number, addr: Buffer, what: string): void {
  check(bind_(fd, addr, addr.length), what);
}

/** Returns bytes sent, or -errno (no throw: the caller turns it into a rejected send). */
export function sendmsg(fd: number, msg: unknown, flags: number): number {
  const n = Number(sendmsg_(fd, msg, flags));
  return n < 0 ? -koffi.errno() : n;
}

/** Returns bytes received, or -errno. */
export function recvmsg(fd: number, msg: unknown, flags: number): number {
  const n = Number(recvmsg_(fd, msg, flags));
  return n < 0 ? -koffi.errno() : n;
}

/** Returns 0 or -errno. */
export function shutdown(fd: number, how: number): number {
  return shutdown_(fd, how) < 0 ? -koffi.errno() : 0;
}

export function close(fd: number): void {
  close_(fd);
}

/** ioctl(fd, request, buf) with a struct the kernel reads and fills in place. */
export function ioctl(fd: number, request: number, buf: Buffer, what: string): void {
  check(ioctl_(fd, request, 'void *', buf), what);
}

/**
 * Fixed native memory that the kernel may be handed pointers into (msghdr → iovec → data):
 * koffi only guarantees that memory from `koffi.alloc` stays put. `bytes` views it without copy.
 */
export interface NativeBlock {
  ptr: unknown;
  address: bigint;
  bytes: Buffer;
  view: DataView;
}

export function allocNative(size: number): NativeBlock {
  const ptr: unknown = koffi.alloc('uint8_t', size);
  const ab = koffi.view(ptr, size);
  const bytes = Buffer.from(ab, 0, size);
  bytes.fill(0);
  return { ptr, address: koffi.address(ptr), bytes, view: new DataView(ab, 0, size) };
}

/**
 * One struct msghdr with a single iovec, a sockaddr_in6 and a control buffer, laid out in one
 * native block and pointing into itself, so a packet costs no allocation on the native side:
 *
 *   0 msghdr (56) | 56 iovec (16) | 72 sockaddr_in6 (28, padded to 32) | 104 control | data
 */
export const MSG_OFF = 0;
export const IOV_OFF = 56;
export const NAME_OFF = 72;
export const CONTROL_OFF = 104;

// struct msghdr field offsets on LP64.
const MSGHDR_NAME = 0;
const MSGHDR_NAMELEN = 8;
const MSGHDR_IOV = 16;
const MSGHDR_IOVLEN = 24;
const MSGHDR_CONTROL = 32;
const MSGHDR_CONTROLLEN = 40;
const MSGHDR_FLAGS = 48;

export class NativeMsg {
  readonly block: NativeBlock;
  readonly dataOff: number;

  constructor(
    readonly controlSize: number,
    readonly dataSize: number,
  ) {
    this.dataOff = CONTROL_OFF + ((controlSize + 7) & ~7);
    this.block = allocNative(this.dataOff + dataSize);
    const { view, address } = this.block;
    view.setBigUint64(MSG_OFF + MSGHDR_NAME, address + BigInt(NAME_OFF), true);
    view.setBigUint64(MSG_OFF + MSGHDR_IOV, address + BigInt(IOV_OFF), true);
    view.setBigUint64(MSG_OFF + MSGHDR_IOVLEN, 1n, true);
    view.setBigUint64(MSG_OFF + MSGHDR_CONTROL, address + BigInt(CONTROL_OFF), true);
    view.setBigUint64(IOV_OFF, address + BigInt(this.dataOff), true);
  }

  /** Sets the lengths the kernel reads (and, for recvmsg, overwrites) before each call. */
  reset(nameLen: number, controlLen: number, dataLen: number): void {
    const { view } = this.block;
    view.setUint32(MSG_OFF + MSGHDR_NAMELEN, nameLen, true);
    view.setBigUint64(MSG_OFF + MSGHDR_CONTROLLEN, BigInt(controlLen), true);
    view.setInt32(MSG_OFF + MSGHDR_FLAGS, 0, true);
    view.setBigUint64(IOV_OFF + 8, BigInt(dataLen), true);
  }

  get flags(): number {
    return this.block.view.getInt32(MSG_OFF + MSGHDR_FLAGS, true);
  }

  get controlLen(): number {
    return Number(this.block.view.getBigUint64(MSG_OFF + MSGHDR_CONTROLLEN, true));
  }
}
