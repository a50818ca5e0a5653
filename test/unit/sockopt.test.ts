import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import {
  bindToDeviceValue,
  cmsgLen,
  cmsgSpace,
  ifreq,
  in6Pktinfo,
  intOption,
  IP_HDRINCL,
  IP_TOS,
  ipMreqn,
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPV6_UNICAST_HOPS,
  ipv6Mreq,
  ipv6NeedsScope,
  isIpv6LinkLocal,
  SIZEOF_IFREQ,
  SIZEOF_IP_MREQN,
  SIZEOF_IPV6_MREQ,
  SIZEOF_SOCKADDR_IN6,
  SO_BINDTODEVICE,
  SO_RCVTIMEO,
  SOL_SOCKET,
  sockaddrIn6,
  timeval,
} from '../../src/transport/sockopt.js';
import { ipToBytes } from '../../src/vrrp/addr.js';

// The struct layouts are those of little-endian LP64 Linux (x64, arm64), the supported platforms.
const hex = (b: Buffer): string => b.toString('hex');

void test('ip_mreqn: group, local address (network order), then the ifindex as a host int', () => {
  const m = ipMreqn('224.0.0.18', 3);
  assert.equal(m.length, SIZEOF_IP_MREQN);
  assert.equal(hex(m), 'e0000012' + '00000000' + '03000000');
  assert.equal(hex(ipMreqn('0.0.0.0', 0x0107, '10.99.0.1')), '00000000' + '0a630001' + '07010000');
  assert.throws(() => ipMreqn('ff02::12', 1), /ip_mreqn multiaddr: ff02::12 is not an IPv4 address/);
});

void test('ipv6_mreq: 16-byte group then an unsigned int interface index', () => {
  const m = ipv6Mreq('ff02::12', 5);
  assert.equal(m.length, SIZEOF_IPV6_MREQ);
  assert.equal(hex(m), 'ff02' + '0000'.repeat(6) + '0012' + '05000000');
  assert.throws(() => ipv6Mreq('224.0.0.18', 5), /not an IPv6 address/);
});

void test('SO_BINDTODEVICE value: the name with its NUL, and IFNAMSIZ enforced', () => {
  assert.deepEqual(bindToDeviceValue('eth0'), Buffer.from('eth0\0'));
  assert.throws(() => bindToDeviceValue(''), /must be 1 to 15 bytes/);
  assert.throws(() => bindToDeviceValue('a'.repeat(16)), /must be 1 to 15 bytes/);
  assert.equal(bindToDeviceValue('a'.repeat(15)).length, 16);
});

void test('int options and struct timeval', () => {
  assert.equal(hex(intOption(255)), 'ff000000');
  assert.equal(hex(intOption(0)), '00000000');
  assert.equal(hex(intOption(-1)), 'ffffffff');
  assert.equal(hex(timeval(250)), '0000000000000000' + '90d0030000000000'); // 0 s, 250000 µs
  assert.equal(hex(timeval(1500)), '0100000000000000' + '20a1070000000000'); // 1 s, 500000 µs
});

void test('sockaddr_in6: family, zero port and flowinfo, address, scope id', () => {
  const sa = sockaddrIn6('fe80::1', 4);
  assert.equal(sa.length, SIZEOF_SOCKADDR_IN6);
  assert.equal(sa.readUInt16LE(0), 10); // AF_INET6
  assert.equal(sa.readUInt16BE(2), 0);
  assert.equal(sa.readUInt32BE(4), 0);
  assert.deepEqual(sa.subarray(8, 24), ipToBytes('fe80::1'));
  assert.equal(sa.readUInt32LE(24), 4);
});

void test('in6_pktinfo and ifreq', () => {
  const p = in6Pktinfo('fd99::1', 2);
  assert.equal(hex(p), 'fd99' + '0000'.repeat(6) + '0001' + '02000000');
  const r = ifreq('eth0');
  assert.equal(r.length, SIZEOF_IFREQ);
  assert.equal(r.subarray(0, 16).toString('latin1'), 'eth0' + '\0'.repeat(12));
  assert.ok(r.subarray(16).every((b) => b === 0));
});

void test('CMSG_LEN / CMSG_SPACE for IPV6_PKTINFO (20 bytes) and IPV6_HOPLIMIT (an int)', () => {
  assert.equal(cmsgLen(20), 36);
  assert.equal(cmsgSpace(20), 40);
  assert.equal(cmsgLen(4), 20);
  assert.equal(cmsgSpace(4), 24);
});

void test('which IPv6 addresses need a scope id', () => {
  assert.equal(isIpv6LinkLocal(ipToBytes('fe80::1')), true);
  assert.equal(isIpv6LinkLocal(ipToBytes('febf::1')), true);
  assert.equal(isIpv6LinkLocal(ipToBytes('fec0::1')), false);
  assert.equal(ipv6NeedsScope(ipToBytes('ff02::12')), true);
  assert.equal(ipv6NeedsScope(ipToBytes('ff05::12')), false);
  assert.equal(ipv6NeedsScope(ipToBytes('fd99::1')), false);
});

void test('constants agree with the values raw-socket compiled from the C headers', (t) => {
  if (process.platform !== 'linux') {
    t.skip('Linux constants');
    return;
  }
  const raw = createRequire(import.meta.url)('raw-socket') as {
    SocketLevel: Record<string, number>;
    SocketOption: Record<string, number>;
  };
  assert.equal(raw.SocketLevel.SOL_SOCKET, SOL_SOCKET);
  assert.equal(raw.SocketLevel.IPPROTO_IP, IPPROTO_IP);
  assert.equal(raw.SocketLevel.IPPROTO_IPV6, IPPROTO_IPV6);
  assert.equal(raw.SocketOption.SO_BINDTODEVICE, SO_BINDTODEVICE);
  assert.equal(raw.SocketOption.SO_RCVTIMEO, SO_RCVTIMEO);
  assert.equal(raw.SocketOption.IP_HDRINCL, IP_HDRINCL);
  assert.equal(raw.SocketOption.IP_TOS, IP_TOS);
  assert.equal(raw.SocketOption.IPV6_UNICAST_HOPS, IPV6_UNICAST_HOPS);
});
