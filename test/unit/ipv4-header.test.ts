/**
 * The IPv4 header keepalived builds with IP_HDRINCL (vrrp.c vrrp_build_ip4 / vrrp_update_pkt):
 * encode, decode, rejections and the IP id counter, checked against a captured packet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { KEEPALIVED_FIXTURES, readPcap, ipv4Payloads } from '../support/pcap.js';
import { decodeIpv4Packet, encodeIpv4Packet, IpIdCounter } from '../../src/vrrp/ipv4-header.js';
import { internetChecksum } from '../../src/vrrp/checksum.js';

const FIXTURES = KEEPALIVED_FIXTURES;
const first = ipv4Payloads(readPcap(join(FIXTURES, 'cap_v2.pcap')), 112)[0];
assert.ok(first, 'cap_v2.pcap has VRRP packets');

void test('a captured keepalived packet: header fields as keepalived sets them', () => {
  const d = decodeIpv4Packet(first.packet);
  assert.ok(d.ok);
  assert.deepEqual(
    { ...d.header, checksum: 0 },
    {
      headerLength: 20,
      tos: 0xc0,
      totalLength: 44,
      id: 1,
      flagsFragment: 0,
      ttl: 255,
      protocol: 112,
      checksum: 0,
      src: '10.99.0.1',
      dst: '10.99.0.2',
    },
  );
  assert.equal(
    internetChecksum(first.packet.subarray(0, 20)),
    0,
    'the kernel-filled header checksum is valid',
  );
  assert.deepEqual(d.payload, first.packet.subarray(20));
});

void test('encode: byte-identical to the capture, checksum and total length computed', () => {
  const built = encodeIpv4Packet(
    { tos: 0xc0, id: 1, ttl: 255, protocol: 112, src: '10.99.0.1', dst: '10.99.0.2' },
    first.payload,
  );
  assert.deepEqual(built, first.packet);
  assert.equal(built[0], 0x45);
  assert.equal(built.readUInt16BE(6) & 0x4000, 0, 'DF is not set');
});

void test('encode → decode round trip with a unicast TTL and another id', () => {
  const payload = Buffer.from('0102030405', 'hex');
  const pkt = encodeIpv4Packet(
    { tos: 0xc0, id: 65535, ttl: 5, protocol: 112, src: '10.99.0.3', dst: '224.0.0.18' },
    payload,
  );
  const d = decodeIpv4Packet(pkt);
  assert.ok(d.ok);
  assert.equal(d.header.ttl, 5);
  assert.equal(d.header.id, 65535);
  assert.equal(d.header.totalLength, 25);
  assert.equal(d.header.dst, '224.0.0.18');
  assert.deepEqual(d.payload, payload);
  assert.equal(internetChecksum(pkt.subarray(0, 20)), 0);
});

void test('encode throws on fields that do not fit', () => {
  const h = { tos: 0xc0, id: 1, ttl: 255, protocol: 112, src: '10.99.0.1', dst: '10.99.0.2' };
  assert.throws(() => encodeIpv4Packet({ ...h, id: 65536 }, Buffer.alloc(1)), /id/);
  assert.throws(() => encodeIpv4Packet({ ...h, ttl: 256 }, Buffer.alloc(1)), /ttl/);
  assert.throws(() => encodeIpv4Packet({ ...h, src: 'fe80::1' }, Buffer.alloc(1)), /source "fe80::1"/);
  assert.throws(() => encodeIpv4Packet({ ...h, dst: 'x' }, Buffer.alloc(1)), /destination "x"/);
  assert.throws(() => encodeIpv4Packet(h, Buffer.alloc(65516)), /does not fit/);
});

void test('decode: IP options are skipped by IHL', () => {
  // Same packet with a 4-byte option (NOPs + EOL) in a 24-byte header.
  const hdr = Buffer.from(first.packet.subarray(0, 20));
  hdr[0] = 0x46;
  const pkt = Buffer.concat([hdr, Buffer.from([1, 1, 1, 0]), first.payload]);
  pkt.writeUInt16BE(pkt.length, 2);
  const d = decodeIpv4Packet(pkt);
  assert.ok(d.ok);
  assert.equal(d.header.headerLength, 24);
  assert.deepEqual(d.payload, first.payload);
});

void test('decode: packet_len_err on short, truncated, padded, non-IPv4 and bad-IHL packets', () => {
  const reason = (b: Uint8Array): string => {
    const d = decodeIpv4Packet(b);
    return d.ok ? 'ok' : d.reason;
  };
  assert.equal(reason(first.packet), 'ok');
  assert.equal(reason(first.packet.subarray(0, 19)), 'packet_len_err');
  assert.equal(reason(first.packet.subarray(0, 43)), 'packet_len_err', 'total length says 44');
  assert.equal(reason(Buffer.concat([first.packet, Buffer.alloc(2)])), 'packet_len_err', 'trailing bytes');
  const v6 = Buffer.from(first.packet);
  v6[0] = 0x65;
  assert.equal(reason(v6), 'packet_len_err');
  const ihl4 = Buffer.from(first.packet);
  ihl4[0] = 0x44;
  assert.equal(reason(ihl4), 'packet_len_err');
  const ihl15 = Buffer.from(first.packet.subarray(0, 40));
  ihl15[0] = 0x4f;
  ihl15.writeUInt16BE(40, 2);
  assert.equal(reason(ihl15), 'packet_len_err', 'a 60-byte header in 40 bytes');
  const d = decodeIpv4Packet(first.packet.subarray(0, 43));
  assert.ok(!d.ok && /44.*43/.test(d.detail), d.ok ? '' : d.detail);
});

void test('decode works on a Uint8Array view into a larger buffer', () => {
  const big = new Uint8Array(first.packet.length + 10);
  big.set(first.packet, 5);
  const d = decodeIpv4Packet(big.subarray(5, 5 + first.packet.length));
  assert.ok(d.ok);
  assert.equal(d.header.src, '10.99.0.1');
  assert.deepEqual(d.payload, first.payload);
});

void test('IpIdCounter: 1, 2, 3… and 0 is skipped on wrap, as keepalived does', () => {
  const c = new IpIdCounter();
  assert.deepEqual([c.next(), c.next(), c.next()], [1, 2, 3]);
  const w = new IpIdCounter(0xfffe);
  assert.deepEqual([w.next(), w.next(), w.next()], [0xffff, 1, 2]);
  assert.throws(() => new IpIdCounter(70000), /0\.\.65535/);
});
