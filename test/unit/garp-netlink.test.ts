/** rtnetlink address requests and replies as bytes (providers/garp/netlink.ts), no kernel needed. */
import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import { test } from 'node:test';
import {
  ackError,
  delAddressMessage,
  newAddressMessage,
  parseAddress,
} from '../../providers/garp/netlink.js';

const LE = endianness() === 'LE';
const u16 = (b: Buffer, o: number): number => (LE ? b.readUInt16LE(o) : b.readUInt16BE(o));
const u32 = (b: Buffer, o: number): number => (LE ? b.readUInt32LE(o) : b.readUInt32BE(o));

/** Attributes after nlmsghdr (16) + ifaddrmsg (8), as type → data. */
function attrs(msg: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 24;
  while (off + 4 <= msg.length) {
    const len = u16(msg, off);
    out.set(u16(msg, off + 2), msg.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  assert.equal(off, msg.length, 'attributes fill the message exactly');
  return out;
}

test('RTM_NEWADDR for an IPv4 VIP: create+excl+ack, prefix, index, IFA_LOCAL, NUL-terminated label', () => {
  const m = newAddressMessage(
    { ifindex: 7, ifname: 'eth0', family: 'ipv4', address: '10.99.0.100', prefix: 24, label: 'eth0:vip' },
    42,
  );
  assert.equal(u32(m, 0), m.length, 'nlmsg_len');
  assert.equal(u16(m, 4), 20, 'RTM_NEWADDR');
  assert.equal(u16(m, 6), 0x1 | 0x4 | 0x400 | 0x200, 'REQUEST|ACK|CREATE|EXCL');
  assert.equal(u32(m, 8), 42, 'seq');
  assert.deepEqual([m[16], m[17], m[18], m[19]], [2, 24, 0, 0], 'AF_INET, /24, no flags, universe scope');
  assert.equal(u32(m, 20), 7, 'ifindex');
  const a = attrs(m);
  assert.deepEqual(a.get(2), Buffer.from([10, 99, 0, 100]), 'IFA_LOCAL');
  assert.equal(a.get(3)?.toString(), 'eth0:vip\0', 'IFA_LABEL');
  assert.equal(a.has(8), false, 'no IFA_FLAGS for IPv4');
});

test('RTM_NEWADDR for an IPv6 VIP carries IFA_F_NODAD and no label', () => {
  const m = newAddressMessage(
    { ifindex: 3, ifname: 'eth0', family: 'ipv6', address: 'fd99::100', prefix: 64, label: 'x' },
    1,
  );
  assert.deepEqual([m[16], m[17]], [10, 64]);
  const a = attrs(m);
  assert.equal(a.get(2)?.toString('hex'), 'fd990000000000000000000000000100');
  assert.equal(u32(a.get(8)!, 0), 0x02, 'IFA_FLAGS = IFA_F_NODAD');
  assert.equal(a.has(3), false, 'the kernel keeps no labels for IPv6');
});

test('RTM_DELADDR names the address and prefix (IPv4 also IFA_ADDRESS, as keepalived does)', () => {
  const m4 = delAddressMessage(
    { ifindex: 7, ifname: 'eth0', family: 'ipv4', address: '10.99.0.100', prefix: 24 },
    5,
  );
  assert.equal(u16(m4, 4), 21);
  assert.equal(u16(m4, 6), 0x1 | 0x4);
  assert.equal(m4[17], 24);
  const a4 = attrs(m4);
  assert.deepEqual(a4.get(1), Buffer.from([10, 99, 0, 100]));
  assert.deepEqual(a4.get(2), Buffer.from([10, 99, 0, 100]));
  const m6 = delAddressMessage(
    { ifindex: 7, ifname: 'eth0', family: 'ipv6', address: 'fd99::1', prefix: 64 },
    6,
  );
  assert.deepEqual([...attrs(m6).keys()], [2]);
});

function dumpEntry(
  family: number,
  prefix: number,
  ifindex: number,
  attrList: Array<[number, Buffer]>,
): Buffer {
  const parts = attrList.map(([type, data]) => {
    const b = Buffer.alloc((4 + data.length + 3) & ~3);
    if (LE) {
      b.writeUInt16LE(4 + data.length, 0);
      b.writeUInt16LE(type, 2);
    } else {
      b.writeUInt16BE(4 + data.length, 0);
      b.writeUInt16BE(type, 2);
    }
    data.copy(b, 4);
    return b;
  });
  const head = Buffer.alloc(8);
  head[0] = family;
  head[1] = prefix;
  if (LE) head.writeUInt32LE(ifindex, 4);
  else head.writeUInt32BE(ifindex, 4);
  return Buffer.concat([head, ...parts]);
}

test('parseAddress: IFA_LOCAL wins over IFA_ADDRESS (peer), label read, IPv6 canonical, others ignored', () => {
  const v4 = parseAddress(
    dumpEntry(2, 32, 4, [
      [1, Buffer.from([10, 99, 0, 9])],
      [2, Buffer.from([10, 99, 0, 100])],
      [3, Buffer.from('eth0:vip\0')],
    ]),
  );
  assert.deepEqual(v4, { ifindex: 4, family: 'ipv4', address: '10.99.0.100', prefix: 32, label: 'eth0:vip' });
  const v6 = parseAddress(
    dumpEntry(10, 64, 2, [[1, Buffer.from('fd990000000000000000000000000100', 'hex')]]),
  );
  assert.deepEqual(v6, { ifindex: 2, family: 'ipv6', address: 'fd99::100', prefix: 64 });
  assert.equal(parseAddress(dumpEntry(17, 0, 2, [])), null, 'AF_PACKET entries are not addresses');
  assert.equal(parseAddress(dumpEntry(2, 24, 2, [])), null, 'no address attribute');
  assert.equal(parseAddress(Buffer.alloc(3)), null, 'truncated');
});

test('ackError reads struct nlmsgerr.error', () => {
  const b = Buffer.alloc(20);
  if (LE) b.writeInt32LE(-17, 0);
  else b.writeInt32BE(-17, 0);
  assert.equal(ackError(b), -17);
  assert.equal(ackError(Buffer.alloc(20)), 0);
  assert.equal(ackError(Buffer.alloc(2)), -1, 'a short ack is an error, not success');
});
