/**
 * The VRRP codec against real keepalived 2.2.7 traffic: every VRRP packet of the four shared
 * captures is decoded (IPv4 header and advert), checked against what the README and the configs
 * say, and re-encoded byte for byte. Then each rejection decodeAdvert can give is provoked with a
 * hand-mutated copy of a captured packet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  KEEPALIVED_FIXTURES,
  readPcap,
  parsePcap,
  ipv4Payloads,
  ipv6Payloads,
  arpFrames,
  type CapturedIpv4,
} from '../support/pcap.js';
import {
  decodeAdvert,
  encodeAdvert,
  rejectCounterName,
  keepalivedStatsLabel,
  VRRP_MCAST_V4,
  VRRP_PROTOCOL,
  type Advert,
  type PacketAddresses,
  type RejectReason,
} from '../../src/vrrp/advert.js';
import { encodeIpv4Packet } from '../../src/vrrp/ipv4-header.js';
import { internetChecksum } from '../../src/vrrp/checksum.js';
import { bytesToIp, compareIp, familyOf, ipToBytes } from '../../src/vrrp/addr.js';

const FIXTURES = KEEPALIVED_FIXTURES;
const A = '10.99.0.1';
const B = '10.99.0.2';
const PW = Buffer.from('secretpw'); // auth_pass secretpw9, truncated by keepalived to 8 bytes

function vrrpPackets(file: string): CapturedIpv4[] {
  return ipv4Payloads(readPcap(join(FIXTURES, file)), VRRP_PROTOCOL);
}

function addrsOf(p: CapturedIpv4): PacketAddresses {
  return { family: 'ipv4', src: p.header.src, dst: p.header.dst };
}

/** Decodes, expecting success, and returns the advert. */
function mustDecode(p: CapturedIpv4): { advert: Advert; legacyChecksum: boolean } {
  const r = decodeAdvert(p.payload, addrsOf(p));
  assert.ok(
    r.ok,
    `packet #${p.index} (IP id ${p.header.id}) rejected: ${r.ok ? '' : `${r.reason}: ${r.detail}`}`,
  );
  return r;
}

/** The keepalived IPv4 header facts (vrrp_build_ip4) and a byte-identical re-encode. */
function assertKeepalivedIpHeader(p: CapturedIpv4, ttl = 255): void {
  const h = p.header;
  assert.equal(h.headerLength, 20);
  assert.equal(h.tos, 0xc0);
  assert.equal(h.flagsFragment, 0, 'no DF, no fragmentation');
  assert.equal(h.ttl, ttl);
  assert.equal(h.protocol, 112);
  assert.equal(h.totalLength, p.packet.length);
  assertIpReencodes(p);
}

function assertIpReencodes(p: CapturedIpv4): void {
  const re = encodeIpv4Packet(p.header, p.payload);
  assert.deepEqual(re, p.packet, `IPv4 packet #${p.index} (id ${p.header.id}) re-encodes differently`);
}

function assertAdvertReencodes(p: CapturedIpv4, advert: Advert): void {
  assert.deepEqual(encodeAdvert(advert, addrsOf(p)), p.payload, `advert #${p.index} re-encodes differently`);
}

/** Each keepalived instance counts its IP ids 1, 2, 3… (a restart starts over at 1). */
function assertIdsCount(packets: CapturedIpv4[], firstId: number): void {
  let expected = firstId;
  for (const p of packets) {
    if (p.header.id === 1 && expected !== 1) expected = 1; // daemon restarted
    assert.equal(p.header.id, expected, `IP id of packet #${p.index}`);
    expected++;
  }
}

void test('cap_v2: every advert is A\'s VRRPv2 vrid 51 prio 150 PASS "secretpw", 1 s, 2 VIPs, and re-encodes', () => {
  const packets = vrrpPackets('cap_v2.pcap');
  assert.equal(packets.length, 11);
  for (const p of packets) {
    assert.equal(p.header.src, A);
    assert.equal(p.header.dst, B);
    assertKeepalivedIpHeader(p);
    const { advert, legacyChecksum } = mustDecode(p);
    assert.equal(legacyChecksum, false);
    assert.deepEqual(advert, {
      version: 2,
      type: 1,
      vrid: 51,
      priority: 150,
      intervalCs: 100,
      addresses: ['10.99.0.100', '10.99.0.101'],
      authType: 1,
      authData: PW,
    });
    assert.equal(p.payload.length, 8 + 2 * 4 + 8);
    assertAdvertReencodes(p, advert);
  }
  assertIdsCount(packets, 1);
});

void test('cap_v2: the pcap helper finds the 8 GARP frames (4 at T, 4 at T+1 s) among the ARP frames', () => {
  const arps = arpFrames(readPcap(join(FIXTURES, 'cap_v2.pcap')));
  const garps = arps.filter((a) => a.op === 1 && a.senderIp === a.targetIp);
  assert.equal(garps.length, 8);
  for (const g of garps) {
    assert.ok(['10.99.0.100', '10.99.0.101'].includes(g.senderIp));
    assert.equal(g.targetMac, 'ff:ff:ff:ff:ff:ff');
    assert.equal(g.dstMac, 'ff:ff:ff:ff:ff:ff');
  }
  const t0 = garps[0]?.tsMicros ?? 0;
  const t4 = garps[4]?.tsMicros ?? 0;
  assert.ok(Math.abs(t4 - t0 - 1_000_000) < 50_000, `second burst ${(t4 - t0) / 1e6} s after the first`);
});

/** A pcap file in memory: global header in the given byte order and time resolution, then frames. */
function pcapBytes(
  frames: Buffer[],
  opts: { bigEndian: boolean; nanos: boolean; linktype?: number },
): Buffer {
  const w32 = (b: Buffer, v: number, off: number): void => {
    if (opts.bigEndian) b.writeUInt32BE(v, off);
    else b.writeUInt32LE(v, off);
  };
  const gh = Buffer.alloc(24);
  w32(gh, opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  w32(gh, 65535, 16);
  w32(gh, opts.linktype ?? 1, 20);
  const recs = frames.map((f, i) => {
    const rh = Buffer.alloc(16);
    w32(rh, 1700000000 + i, 0);
    w32(rh, opts.nanos ? 123456789 : 123456, 4);
    w32(rh, f.length, 8);
    w32(rh, f.length, 12);
    return Buffer.concat([rh, f]);
  });
  return Buffer.concat([gh, ...recs]);
}

void test('pcap helper: Ethernet padding is cut off, both byte orders and nanosecond files read, IPv6 found', () => {
  const eth = (type: number): Buffer => {
    const h = Buffer.alloc(14, 0xaa);
    h.writeUInt16BE(type, 12);
    return h;
  };
  const v3 = vrrpPackets('cap_mc.pcap')[0];
  assert.ok(v3);
  // A 32-byte IPv4 packet on the wire is padded to the 60-byte Ethernet minimum.
  const padded = Buffer.concat([eth(0x0800), v3.packet, Buffer.alloc(60 - 14 - v3.packet.length)]);
  const ip6 = Buffer.alloc(40 + 8);
  ip6[0] = 0x60;
  ip6.writeUInt16BE(8, 4);
  ip6[6] = 112;
  ip6[7] = 255;
  ipToBytes('fe80::1').copy(ip6, 8);
  ipToBytes('ff02::12').copy(ip6, 24);
  const v6frame = Buffer.concat([eth(0x86dd), ip6]);
  for (const bigEndian of [false, true]) {
    for (const nanos of [false, true]) {
      const recs = parsePcap(pcapBytes([padded, v6frame], { bigEndian, nanos }));
      assert.equal(recs.length, 2);
      assert.equal(recs[0]?.tsMicros, 1700000000_123456);
      assert.equal(recs[0]?.frame.length, 60);
      const got = ipv4Payloads(recs, 112);
      assert.equal(got.length, 1);
      assert.deepEqual(got[0]?.packet, v3.packet);
      assert.deepEqual(got[0]?.payload, v3.payload);
      const six = ipv6Payloads(recs, 112);
      assert.deepEqual(
        six.map((x) => [x.src, x.dst, x.hopLimit, x.payload.length]),
        [['fe80::1', 'ff02::12', 255, 8]],
      );
    }
  }
  assert.throws(
    () => parsePcap(pcapBytes([], { bigEndian: false, nanos: false, linktype: 113 })),
    /link type 113/,
  );
  assert.throws(() => parsePcap(Buffer.alloc(24)), /not a classic pcap/);
  const cut = pcapBytes([padded], { bigEndian: false, nanos: false });
  assert.throws(() => parsePcap(cut.subarray(0, cut.length - 1)), /runs past the end/);
});

void test('cap_fail: A (prio 150, then 0 on stop) and B (prio 100) adverts decode with their facts and re-encode', () => {
  const packets = vrrpPackets('cap_fail.pcap');
  assert.equal(packets.length, 74);
  const fromA = packets.filter((p) => p.header.src === A);
  const fromB = packets.filter((p) => p.header.src === B);
  assert.equal(fromA.length + fromB.length, packets.length);
  for (const p of packets) {
    assert.equal(p.header.dst, p.header.src === A ? B : A);
    assertKeepalivedIpHeader(p);
    const { advert, legacyChecksum } = mustDecode(p);
    assert.equal(legacyChecksum, false);
    const prios = p.header.src === A ? [150, 0] : [100];
    assert.ok(prios.includes(advert.priority), `priority ${advert.priority} from ${p.header.src}`);
    assert.deepEqual(
      { ...advert, priority: 0 },
      {
        version: 2,
        type: 1,
        vrid: 51,
        priority: 0,
        intervalCs: 100,
        addresses: ['10.99.0.100', '10.99.0.101'],
        authType: 1,
        authData: PW,
      },
    );
    assertAdvertReencodes(p, advert);
  }
  // Two SIGTERMs of A: each sends exactly one priority-0 advert.
  assert.equal(fromA.filter((p) => p.payload[2] === 0).length, 2);
  assertIdsCount(fromA, fromA[0]?.header.id ?? 1);
  assertIdsCount(fromB, 1);
});

/**
 * The crafted packets from 10.99.0.1 (prio 200) in cap_v3, keyed by IP id: what decodeAdvert must
 * say about each. Everything from 10.99.0.1 not listed is a well-formed advert that decodes.
 */
const CRAFTED_V3_DECODE: Record<number, RejectReason | 'legacy'> = {
  615: 'checksum_err', // checksum field corrupted (0x8eff; correct is 0xdbaa)
  1104: 'invalid_type_rcvd', // type 2
  1273: 'invalid_authtype', // v2 auth type 5
  1323: 'legacy', // v3 checksum computed with 224.0.0.18 in the pseudo-header
};

void test("cap_v3: B's keepalived adverts (v2 vrid 51 PASS, v3 vrid 52 at 0.5 s) decode, re-encode, use the real dst", () => {
  const packets = vrrpPackets('cap_v3.pcap').filter((p) => p.header.src === B);
  assert.equal(packets.length, 123);
  for (const p of packets) {
    assert.equal(p.header.dst, A);
    assertKeepalivedIpHeader(p);
    const { advert, legacyChecksum } = mustDecode(p);
    assert.equal(legacyChecksum, false);
    assert.ok([100, 0].includes(advert.priority));
    if (advert.vrid === 51) {
      assert.deepEqual(
        { ...advert, priority: 100 },
        {
          version: 2,
          type: 1,
          vrid: 51,
          priority: 100,
          intervalCs: 100,
          addresses: ['10.99.0.100', '10.99.0.101'],
          authType: 1,
          authData: PW,
        },
      );
    } else {
      assert.deepEqual(
        { ...advert, priority: 100 },
        {
          version: 3,
          type: 1,
          vrid: 52,
          priority: 100,
          intervalCs: 50,
          addresses: ['10.99.0.110', '10.99.0.111'],
          authType: 0,
          authData: Buffer.alloc(0),
        },
      );
      assert.equal(p.payload.length, 8 + 2 * 4, 'v3 has no auth bytes');
      // keepalived 2.2.7 puts the unicast peer in the pseudo-header, not 224.0.0.18.
      const asMulticast = decodeAdvert(p.payload, { ...addrsOf(p), dst: VRRP_MCAST_V4 });
      assert.equal(asMulticast.ok ? 'ok' : asMulticast.reason, 'checksum_err');
    }
    assertAdvertReencodes(p, advert);
  }
  // One IP id counter per instance, each starting at 1.
  assertIdsCount(
    packets.filter((p) => p.payload[1] === 51),
    1,
  );
  assertIdsCount(
    packets.filter((p) => p.payload[1] === 52),
    1,
  );
});

void test('cap_v3: the crafted packets from 10.99.0.1 decode (or are rejected) as crafted, and re-encode', () => {
  const packets = vrrpPackets('cap_v3.pcap').filter((p) => p.header.src === A);
  assert.equal(packets.length, 52);
  const seen = new Set<number>();
  for (const p of packets) {
    assert.equal(p.header.dst, B);
    assertIpReencodes(p); // the script built its headers like keepalived, TTL 64 on one of them
    assert.equal(p.header.ttl, p.header.id === 696 ? 64 : 255);
    assert.equal(p.payload[2], 200);
    const r = decodeAdvert(p.payload, addrsOf(p));
    const expected = CRAFTED_V3_DECODE[p.header.id];
    if (expected === undefined || expected === 'legacy') {
      assert.ok(r.ok, `crafted id ${p.header.id}: ${r.ok ? '' : r.detail}`);
      assert.equal(r.legacyChecksum, expected === 'legacy', `legacyChecksum of id ${p.header.id}`);
      if (expected === 'legacy') {
        // Never produced: our encoding uses the real destination and differs only in the checksum.
        const ours = encodeAdvert(r.advert, addrsOf(p));
        assert.notDeepEqual(ours, p.payload);
        assert.deepEqual(ours.subarray(8), p.payload.subarray(8));
        assert.deepEqual(encodeAdvert(r.advert, { ...addrsOf(p), dst: VRRP_MCAST_V4 }), p.payload);
      } else {
        assertAdvertReencodes(p, r.advert);
      }
    } else {
      assert.equal(r.ok ? 'ok' : r.reason, expected, `crafted id ${p.header.id}`);
      seen.add(p.header.id);
    }
    if (expected) seen.add(p.header.id);
  }
  assert.deepEqual(
    [...seen].sort((x, y) => x - y),
    Object.keys(CRAFTED_V3_DECODE).map(Number),
  );
});

void test("cap_mc: B's VRRPv3 multicast adverts to 224.0.0.18 (vrid 53, 1 s, one VIP) decode and re-encode", () => {
  const packets = vrrpPackets('cap_mc.pcap');
  assert.equal(packets.length, 14);
  const fromB = packets.filter((p) => p.header.src === B);
  assert.equal(fromB.length, 10);
  for (const p of packets) {
    assert.equal(p.header.dst, VRRP_MCAST_V4);
    assertKeepalivedIpHeader(p);
    // A 32-byte IPv4 packet: the pcap helper must have cut the Ethernet padding off.
    assert.equal(p.packet.length, 20 + 8 + 4);
    const { advert, legacyChecksum } = mustDecode(p);
    assert.equal(legacyChecksum, false);
    assert.deepEqual(advert, {
      version: 3,
      type: 1,
      vrid: 53,
      priority: p.header.src === B ? 100 : 200,
      intervalCs: 100,
      addresses: ['10.99.0.120'],
      authType: 0,
      authData: Buffer.alloc(0),
    });
    assertAdvertReencodes(p, advert);
  }
  assertIdsCount(fromB, 1);
});

// ---- rejections, each from a hand-mutated captured packet ----

function firstPacket(file: string, pred: (p: CapturedIpv4) => boolean): CapturedIpv4 {
  const p = vrrpPackets(file).find(pred);
  assert.ok(p, `no matching packet in ${file}`);
  return p;
}

const v2Real = firstPacket('cap_v2.pcap', () => true);
const v3Real = firstPacket('cap_v3.pcap', (p) => p.header.src === B && p.payload[0] === 0x31);
const v3Mcast = firstPacket('cap_mc.pcap', (p) => p.header.src === B);

/** A copy of the packet's VRRP bytes, changed by `edit`, with the checksum made right again. */
function mutate(p: CapturedIpv4, edit: (b: Buffer) => void, fixChecksum = true): Buffer {
  const b = Buffer.from(p.payload);
  edit(b);
  if (fixChecksum) {
    b.writeUInt16BE(0, 6);
    const v3 = b[0] !== undefined && b[0] >> 4 === 3;
    const sum = v3 ? internetChecksum(pseudo4(p.header.src, p.header.dst, b.length), b) : internetChecksum(b);
    b.writeUInt16BE(sum, 6);
  }
  return b;
}

function pseudo4(src: string, dst: string, len: number): Buffer {
  const ph = Buffer.alloc(12);
  ipToBytes(src).copy(ph, 0);
  ipToBytes(dst).copy(ph, 4);
  ph[9] = 112;
  ph.writeUInt16BE(len, 10);
  return ph;
}

function reasonOf(bytes: Uint8Array, addrs: PacketAddresses): string {
  const r = decodeAdvert(bytes, addrs);
  return r.ok ? 'ok' : r.reason;
}

void test('mutation control: an unchanged copy with a recomputed checksum still decodes', () => {
  for (const p of [v2Real, v3Real, v3Mcast]) {
    assert.deepEqual(
      mutate(p, () => undefined),
      p.payload,
    );
    assert.equal(
      reasonOf(
        mutate(p, () => undefined),
        addrsOf(p),
      ),
      'ok',
    );
  }
});

void test('packet_len_err: one byte short, one byte long, shorter than the header, count too high', () => {
  for (const p of [v2Real, v3Real]) {
    assert.equal(reasonOf(p.payload.subarray(0, p.payload.length - 1), addrsOf(p)), 'packet_len_err');
    assert.equal(reasonOf(Buffer.concat([p.payload, Buffer.alloc(1)]), addrsOf(p)), 'packet_len_err');
    assert.equal(reasonOf(p.payload.subarray(0, 7), addrsOf(p)), 'packet_len_err');
    assert.equal(reasonOf(Buffer.alloc(0), addrsOf(p)), 'packet_len_err');
    const moreAddrs = mutate(p, (b) => {
      b[3] = 3;
    });
    assert.equal(reasonOf(moreAddrs, addrsOf(p)), 'packet_len_err');
  }
  // A v2 packet whose trailing 8 auth bytes are missing (as if it were v3) is too short.
  assert.equal(reasonOf(v2Real.payload.subarray(0, 16), addrsOf(v2Real)), 'packet_len_err');
  const r = decodeAdvert(v2Real.payload.subarray(0, 23), addrsOf(v2Real));
  assert.ok(!r.ok && /23 bytes, expected 24/.test(r.detail), r.ok ? '' : r.detail);
});

void test('version_err: version nibble 1 or 4 on a v3 packet (length still matches)', () => {
  for (const v of [1, 4, 15]) {
    const b = mutate(v3Real, (x) => {
      x[0] = (v << 4) | 1;
    });
    assert.equal(reasonOf(b, addrsOf(v3Real)), 'version_err');
  }
  // keepalived computes the expected length from the version nibble first, so a v2 packet turned
  // into "v4" has the wrong length for a non-v2 packet: packet_len_err, as keepalived counts it.
  const b = mutate(v2Real, (x) => {
    x[0] = 0x41;
  });
  assert.equal(reasonOf(b, addrsOf(v2Real)), 'packet_len_err');
});

void test('invalid_type_rcvd: type 0, 2 and 15 on v2 and v3 packets', () => {
  for (const p of [v2Real, v3Real]) {
    for (const t of [0, 2, 15]) {
      const b = mutate(p, (x) => {
        x[0] = ((x[0] ?? 0) & 0xf0) | t;
      });
      assert.equal(reasonOf(b, addrsOf(p)), 'invalid_type_rcvd');
    }
  }
});

void test('invalid_authtype: v2 auth type 3 and 255 (0, 1, 2 are known types)', () => {
  for (const t of [3, 255]) {
    const b = mutate(v2Real, (x) => {
      x[4] = t;
    });
    assert.equal(reasonOf(b, addrsOf(v2Real)), 'invalid_authtype');
  }
  for (const t of [0, 1, 2]) {
    const b = mutate(v2Real, (x) => {
      x[4] = t;
    });
    assert.equal(reasonOf(b, addrsOf(v2Real)), 'ok');
  }
  // v3 has no auth type: byte 4 is part of the interval field.
  const v3 = mutate(v3Real, (x) => {
    x[4] = 0x05;
  });
  assert.equal(reasonOf(v3, addrsOf(v3Real)), 'ok');
});

void test('checksum_err: corrupted checksum, corrupted body, wrong src/dst in the v3 pseudo-header', () => {
  for (const p of [v2Real, v3Real, v3Mcast]) {
    const badSum = mutate(
      p,
      (x) => {
        x[7] = (x[7] ?? 0) ^ 0x01;
      },
      false,
    );
    assert.equal(reasonOf(badSum, addrsOf(p)), 'checksum_err');
    const badPrio = mutate(
      p,
      (x) => {
        x[2] = 99;
      },
      false,
    );
    assert.equal(reasonOf(badPrio, addrsOf(p)), 'checksum_err');
  }
  // Auth bytes are covered by the v2 checksum.
  const badPw = mutate(
    v2Real,
    (x) => {
      x[16] = 0x58;
    },
    false,
  );
  assert.equal(reasonOf(badPw, addrsOf(v2Real)), 'checksum_err');
  // v3 covers src and dst through the pseudo-header; v2 has none, so they do not matter there.
  assert.equal(reasonOf(v3Real.payload, { ...addrsOf(v3Real), src: '10.99.0.3' }), 'checksum_err');
  assert.equal(reasonOf(v3Real.payload, { ...addrsOf(v3Real), dst: '10.99.0.3' }), 'checksum_err');
  assert.equal(reasonOf(v2Real.payload, { family: 'ipv4', src: '10.99.0.3', dst: '10.99.0.4' }), 'ok');
  // The detail names the checksum the packet should have carried.
  const right = mutate(v2Real, (x) => {
    x[16] = 0x58;
  }).readUInt16BE(6);
  const r = decodeAdvert(badPw, addrsOf(v2Real));
  assert.ok(
    !r.ok && r.detail.includes(`expected 0x${right.toString(16).padStart(4, '0')}`),
    r.ok ? '' : r.detail,
  );
});

void test('family_err: packet addresses that are not of the stated family, or no family at all', () => {
  assert.equal(reasonOf(v3Real.payload, { family: 'ipv6', src: A, dst: B }), 'family_err');
  assert.equal(reasonOf(v3Real.payload, { family: 'ipv4', src: 'fe80::1', dst: B }), 'family_err');
  assert.equal(reasonOf(v3Real.payload, { family: 'ipv4', src: A, dst: 'not-an-ip' }), 'family_err');
  const weird = { family: 'ipx', src: A, dst: B } as unknown as PacketAddresses;
  assert.equal(reasonOf(v3Real.payload, weird), 'family_err');
});

void test('legacy checksum: a v3 unicast advert summed with 224.0.0.18 is accepted and flagged, v2/multicast never', () => {
  const legacy = mutate(v3Real, () => undefined, false);
  legacy.writeUInt16BE(0, 6);
  legacy.writeUInt16BE(internetChecksum(pseudo4(B, VRRP_MCAST_V4, legacy.length), legacy), 6);
  const r = decodeAdvert(legacy, addrsOf(v3Real));
  assert.ok(r.ok);
  assert.equal(r.legacyChecksum, true);
  // The same bytes sent to the group are simply correct, not legacy.
  const m = decodeAdvert(legacy, { family: 'ipv4', src: B, dst: VRRP_MCAST_V4 });
  assert.ok(m.ok);
  assert.equal(m.legacyChecksum, false);
  // A multicast advert with a checksum for some unicast dst is not rescued the other way round.
  assert.equal(reasonOf(v3Real.payload, { family: 'ipv4', src: B, dst: VRRP_MCAST_V4 }), 'checksum_err');
});

void test('decode keeps priority 0 and VRID 0 (they are for the caller to judge)', () => {
  const prio0 = mutate(v2Real, (x) => {
    x[2] = 0;
  });
  const r0 = decodeAdvert(prio0, addrsOf(v2Real));
  assert.ok(r0.ok && r0.advert.priority === 0);
  const vrid0 = mutate(v3Real, (x) => {
    x[1] = 0;
  });
  const r1 = decodeAdvert(vrid0, addrsOf(v3Real));
  assert.ok(r1.ok && r1.advert.vrid === 0);
});

void test('v3 reserved interval bits are ignored on receive and sent as zero', () => {
  const b = mutate(v3Real, (x) => {
    x[4] = 0xf0 | ((x[4] ?? 0) & 0x0f);
  });
  const r = decodeAdvert(b, addrsOf(v3Real));
  assert.ok(r.ok);
  assert.equal(r.advert.intervalCs, 50);
  assert.deepEqual(encodeAdvert(r.advert, addrsOf(v3Real)), v3Real.payload);
});

void test('decoded authData is a copy, not a view of the receive buffer', () => {
  const b = Buffer.from(v2Real.payload);
  const r = decodeAdvert(b, addrsOf(v2Real));
  assert.ok(r.ok);
  b.fill(0);
  assert.deepEqual(r.advert.authData, PW);
});

// ---- IPv6 ----

void test('IPv6 v3: 16-byte addresses and the IPv6 pseudo-header checksum (RFC 5798 5.2.8, RFC 8200 8.1)', () => {
  const addrs: PacketAddresses = { family: 'ipv6', src: 'fe80::1', dst: 'ff02::12' };
  const advert: Advert = {
    version: 3,
    type: 1,
    vrid: 7,
    priority: 100,
    intervalCs: 100,
    addresses: ['fd99::100', 'fd99::101'],
    authType: 0,
    authData: Buffer.alloc(0),
  };
  const b = encodeAdvert(advert, addrs);
  assert.equal(b.length, 8 + 2 * 16);
  // Checksum by hand: src, dst, 32-bit length, 3 zero bytes, next header 112.
  const ph = Buffer.concat([
    ipToBytes('fe80::1'),
    ipToBytes('ff02::12'),
    Buffer.from([0, 0, 0, 40, 0, 0, 0, 112]),
  ]);
  const zeroed = Buffer.from(b);
  zeroed.writeUInt16BE(0, 6);
  assert.equal(b.readUInt16BE(6), internetChecksum(ph, zeroed));
  assert.deepEqual(decodeAdvert(b, addrs), { ok: true, advert, legacyChecksum: false });
  assert.equal(reasonOf(b, { ...addrs, src: 'fe80::2' }), 'checksum_err');
  assert.equal(reasonOf(b.subarray(0, 39), addrs), 'packet_len_err');
  // A zone on a link-local source names the interface; it is not part of the checksum.
  assert.equal(reasonOf(b, { ...addrs, src: 'fe80::1%eth0' }), 'ok');
});

void test('IPv6 v2 (keepalived outside strict mode): no auth trailer, kernel-style checksum', () => {
  const addrs: PacketAddresses = { family: 'ipv6', src: 'fe80::1', dst: 'fe80::2' };
  const advert: Advert = {
    version: 2,
    type: 1,
    vrid: 9,
    priority: 50,
    intervalCs: 300,
    addresses: ['fd99::1'],
    authType: 0,
    authData: Buffer.alloc(0),
  };
  const b = encodeAdvert(advert, addrs);
  assert.equal(b.length, 8 + 16);
  assert.deepEqual(decodeAdvert(b, addrs), { ok: true, advert, legacyChecksum: false });
  // A configured PASS password has nowhere to go over IPv6: the auth type byte is sent, no bytes.
  const pass = encodeAdvert({ ...advert, authType: 1, authData: PW }, addrs);
  assert.equal(pass.length, 8 + 16);
  assert.equal(pass[4], 1);
  assert.throws(() => encodeAdvert({ ...advert, authData: Buffer.alloc(3) }, addrs), /8 bytes, got 3/);
});

// ---- encode refuses what cannot be put on the wire ----

void test('encodeAdvert throws a clear RangeError on fields that do not fit', () => {
  const ok = decodeAdvert(v2Real.payload, addrsOf(v2Real));
  assert.ok(ok.ok);
  const base = ok.advert;
  const bad: [Partial<Advert>, RegExp][] = [
    [{ vrid: 256 }, /vrid/],
    [{ priority: -1 }, /priority/],
    [{ intervalCs: 150 }, /whole seconds/],
    [{ intervalCs: 25600 }, /whole seconds/],
    [{ authData: Buffer.from('short') }, /auth data must be 8 bytes/],
    [{ addresses: ['fd00::1', '10.0.0.1'] }, /not an ipv4 address/],
    [{ addresses: new Array<string>(256).fill('10.0.0.1') }, /at most 255/],
    [{ version: 4 as 2 }, /version/],
  ];
  for (const [patch, re] of bad) {
    assert.throws(() => encodeAdvert({ ...base, ...patch }, addrsOf(v2Real)), re);
  }
  const v3: Advert = { ...base, version: 3, authType: 0, authData: Buffer.alloc(0), intervalCs: 4095 };
  assert.doesNotThrow(() => encodeAdvert(v3, addrsOf(v2Real)));
  assert.throws(() => encodeAdvert({ ...v3, intervalCs: 4096 }, addrsOf(v2Real)), /intervalCs/);
  assert.throws(() => encodeAdvert({ ...v3, authType: 1 }, addrsOf(v2Real)), /no authentication/);
  assert.throws(() => encodeAdvert(base, { family: 'ipv4', src: 'fe80::1', dst: B }), /must both be ipv4/);
});

// ---- counters ----

void test('rejectCounterName: keepalived vrrp_stats field names, the reason itself where keepalived has none', () => {
  const all: RejectReason[] = [
    'packet_len_err',
    'ip_ttl_err',
    'invalid_type_rcvd',
    'advert_interval_err',
    'addr_list_err',
    'invalid_authtype',
    'authtype_mismatch',
    'auth_failure',
    'checksum_err',
    'version_err',
    'vrid_err',
    'family_err',
    'src_not_peer',
  ];
  for (const r of all) assert.equal(rejectCounterName(r), r);
  assert.deepEqual(keepalivedStatsLabel('packet_len_err'), { section: 'Packet Errors', label: 'Length' });
  assert.deepEqual(keepalivedStatsLabel('ip_ttl_err'), { section: 'Packet Errors', label: 'TTL' });
  assert.deepEqual(keepalivedStatsLabel('invalid_type_rcvd'), {
    section: 'Packet Errors',
    label: 'Invalid Type',
  });
  assert.deepEqual(keepalivedStatsLabel('advert_interval_err'), {
    section: 'Packet Errors',
    label: 'Advertisement Interval',
  });
  assert.deepEqual(keepalivedStatsLabel('addr_list_err'), {
    section: 'Packet Errors',
    label: 'Address List',
  });
  assert.deepEqual(keepalivedStatsLabel('invalid_authtype'), {
    section: 'Authentication Errors',
    label: 'Invalid Type',
  });
  assert.deepEqual(keepalivedStatsLabel('authtype_mismatch'), {
    section: 'Authentication Errors',
    label: 'Type Mismatch',
  });
  assert.deepEqual(keepalivedStatsLabel('auth_failure'), {
    section: 'Authentication Errors',
    label: 'Failure',
  });
  for (const r of ['checksum_err', 'version_err', 'vrid_err', 'family_err', 'src_not_peer'] as const) {
    assert.equal(keepalivedStatsLabel(r), null);
  }
});

void test("ip_ttl_err and src_not_peer are not the codec's: a TTL-64 or foreign-source packet decodes fine", () => {
  // keepalived checks TTL (multicast only) and the unicast source before/after vrrp_check_packet's
  // packet checks, from data the IP layer has; in floatip the transport and the receive path do.
  const ttl64 = vrrpPackets('cap_v3.pcap').find((p) => p.header.ttl === 64);
  assert.ok(ttl64);
  assert.equal(reasonOf(ttl64.payload, addrsOf(ttl64)), 'ok');
  assert.equal(reasonOf(v2Real.payload, { family: 'ipv4', src: '10.99.0.77', dst: B }), 'ok');
});

// ---- addresses and checksum, by example ----

void test('addr: family, bytes, canonical text and numeric order', () => {
  assert.equal(familyOf('10.99.0.1'), 'ipv4');
  assert.equal(familyOf('FD99::1'), 'ipv6');
  assert.equal(familyOf('10.99.0'), null);
  assert.equal(familyOf(''), null);
  assert.deepEqual(ipToBytes('10.99.0.100'), Buffer.from([10, 99, 0, 100]));
  assert.deepEqual(ipToBytes('ff02::12'), Buffer.from('ff020000000000000000000000000012', 'hex'));
  assert.deepEqual(ipToBytes('::ffff:10.1.2.3'), Buffer.from('00000000000000000000ffff0a010203', 'hex'));
  assert.deepEqual(ipToBytes('fe80::1%eth0'), ipToBytes('fe80::1'));
  assert.throws(() => ipToBytes('10.99.0.256'), /not an IPv4 or IPv6 address/);
  assert.throws(() => ipToBytes('eth0'), /"eth0"/);
  assert.equal(bytesToIp(ipToBytes('FD99:0:0:0:0:0:0:0100'), 'ipv6'), 'fd99::100');
  assert.equal(bytesToIp(ipToBytes('2001:db8:0:0:1:0:0:1'), 'ipv6'), '2001:db8::1:0:0:1');
  assert.equal(bytesToIp(ipToBytes('2001:db8:0:1:1:1:1:1'), 'ipv6'), '2001:db8:0:1:1:1:1:1');
  assert.equal(bytesToIp(ipToBytes('::'), 'ipv6'), '::');
  assert.equal(bytesToIp(ipToBytes('::1'), 'ipv6'), '::1');
  assert.equal(bytesToIp(ipToBytes('1::'), 'ipv6'), '1::');
  assert.equal(bytesToIp(ipToBytes('::ffff:a01:203'), 'ipv6'), '::ffff:10.1.2.3');
  assert.equal(bytesToIp(Buffer.from([10, 99, 0, 2]), 'ipv4'), '10.99.0.2');
  assert.ok(compareIp('10.99.0.2', '10.99.0.10') < 0, 'numeric, not text order');
  assert.ok(compareIp('10.99.0.10', '10.99.0.2') > 0);
  assert.equal(compareIp('fd99::1', 'FD99:0::1'), 0);
  assert.ok(compareIp('fe80::2', 'fe80::1:0') < 0);
  assert.ok(compareIp('10.0.0.1', '::1') < 0, 'IPv4 sorts before IPv6');
});

void test('checksum: RFC 1071 example, odd lengths, split parts', () => {
  // RFC 1071 section 3 example: the sum of 0001 f203 f4f5 f6f7 is ddf2, so the checksum is 220d.
  const data = Buffer.from('0001f203f4f5f6f7', 'hex');
  assert.equal(internetChecksum(data), 0x220d);
  assert.equal(internetChecksum(data.subarray(0, 3), data.subarray(3)), 0x220d);
  assert.equal(internetChecksum(Buffer.from([0xab])), ~0xab00 & 0xffff);
  assert.equal(internetChecksum(Buffer.from([0xab]), Buffer.from([0xcd])), ~0xabcd & 0xffff);
  assert.equal(internetChecksum(), 0xffff);
  // A captured advert sums to zero with its checksum in place.
  assert.equal(internetChecksum(v2Real.payload), 0);
});
