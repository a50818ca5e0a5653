/**
 * The announcement frames against keepalived 2.2.7's own: the GARPs in the shared capture
 * cap_v2.pcap, and an unsolicited NA keepalived sent in a lab (recorded below as hex).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  garpFrame,
  parseMac,
  unsolicitedNaFrame,
  GARP_FRAME_LEN,
  NA_FRAME_LEN,
} from '../../providers/garp/frames.js';
import { arpFrames, KEEPALIVED_FIXTURES, readPcap } from '../support/pcap.js';

const CAP = `${KEEPALIVED_FIXTURES}/cap_v2.pcap`;

/**
 * keepalived 2.2.7 (Debian) as master of a v3 instance with `fd99::200/64` on an interface with MAC
 * 02:99:00:00:00:02, IPv6 forwarding off, captured with tcpdump in a netns lab.
 */
const KEEPALIVED_NA_HEX =
  '33330000000102990000000286dd6000000000203aff' +
  'fd990000000000000000000000000200' +
  'ff020000000000000000000000000001' +
  '880054d120000000fd990000000000000000000000000200' +
  '0201029900000002';

function onesComplement(buf: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2) sum += buf[buf.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

test('GARP frames equal keepalived 2.2.7 frames from cap_v2.pcap byte for byte', () => {
  const records = readPcap(CAP);
  const garps = arpFrames(records).filter((a) => a.op === 1 && a.senderIp === a.targetIp);
  assert.equal(garps.length, 8, 'the capture holds 2 bursts of 4');
  for (const g of garps) {
    const captured = records[g.index]!.frame;
    const built = garpFrame(parseMac(g.srcMac), g.senderIp);
    assert.equal(built.length, GARP_FRAME_LEN);
    assert.deepEqual(built, captured, `GARP for ${g.senderIp}`);
  }
});

test('GARP frames follow the MAC and the VIP', () => {
  const f = garpFrame(parseMac('02:99:00:00:00:01'), '10.99.0.100');
  assert.equal(
    f.toString('hex'),
    'ffffffffffff029900000001080600010800060400010299000000010a630064ffffffffffff0a630064',
  );
  assert.throws(() => garpFrame(parseMac('02:99:00:00:00:01'), 'fd99::1'), /not an IPv4 address/);
});

test('unsolicited NA equals keepalived 2.2.7 byte for byte', () => {
  const built = unsolicitedNaFrame(parseMac('02:99:00:00:00:02'), 'fd99::200', false);
  assert.equal(built.length, NA_FRAME_LEN);
  assert.equal(built.toString('hex'), KEEPALIVED_NA_HEX);
});

test('unsolicited NA: router flag when forwarding, checksum over the pseudo-header, target option', () => {
  const mac = parseMac('02:99:00:00:00:07');
  const f = unsolicitedNaFrame(mac, 'fd99::1:7', true);
  const icmp = f.subarray(54);
  assert.equal(icmp[0], 136);
  assert.equal(icmp[4], 0xa0, 'router + override, not solicited');
  assert.equal(f[21], 255, 'hop limit');
  assert.deepEqual(f.subarray(22, 38), icmp.subarray(8, 24), 'source is the target address');
  assert.deepEqual(icmp.subarray(26, 32), mac);
  const pseudo = Buffer.alloc(40);
  f.copy(pseudo, 0, 22, 54);
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo[39] = 58;
  assert.equal(onesComplement(Buffer.concat([pseudo, icmp])), 0xffff, 'checksum verifies');
  assert.throws(() => unsolicitedNaFrame(mac, '10.99.0.1', false), /not an IPv6 address/);
});

test('parseMac rejects what is not a MAC address', () => {
  assert.deepEqual(parseMac('2:99:0:0:0:a'), Buffer.from([2, 0x99, 0, 0, 0, 10]));
  for (const bad of ['', '02:99:00:00:00', '02:99:00:00:00:01:02', '02:99:00:00:00:zz', '0299.0000.0001']) {
    assert.throws(() => parseMac(bad), /not an Ethernet MAC address/, bad);
  }
});
