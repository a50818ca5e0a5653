/**
 * Property tests (fast-check) for the codec: arbitrary adverts round-trip for v2/v3 over IPv4/IPv6,
 * and no input at all (random bytes, random packet addresses, mutated valid packets) makes
 * decodeAdvert or decodeIpv4Packet throw. Plus the algebra the codec relies on: address text <->
 * bytes and the split-invariance of the Internet checksum.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { KEEPALIVED_FIXTURES, readPcap, ipv4Payloads } from '../support/pcap.js';
import {
  decodeAdvert,
  encodeAdvert,
  type Advert,
  type DecodeResult,
  type PacketAddresses,
  type RejectReason,
} from '../../src/vrrp/advert.js';
import { decodeIpv4Packet, encodeIpv4Packet } from '../../src/vrrp/ipv4-header.js';
import { bytesToIp, compareIp, ipToBytes, type AddressFamily } from '../../src/vrrp/addr.js';
import { internetChecksum } from '../../src/vrrp/checksum.js';

const FIXTURES = KEEPALIVED_FIXTURES;

const REASONS = new Set<RejectReason>([
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
]);

const canonical = (ip: string): string => {
  const b = ipToBytes(ip);
  return bytesToIp(b, b.length === 4 ? 'ipv4' : 'ipv6');
};

const ipOf = (family: AddressFamily): fc.Arbitrary<string> => (family === 'ipv4' ? fc.ipV4() : fc.ipV6());

/** A valid advert for the family (what decode can give back), with packet addresses to send it on. */
const advertCase = fc
  .record({ family: fc.constantFrom<AddressFamily>('ipv4', 'ipv6'), version: fc.constantFrom<2 | 3>(2, 3) })
  .chain(({ family, version }) =>
    fc.record({
      addrs: fc.record({ family: fc.constant(family), src: ipOf(family), dst: ipOf(family) }),
      advert: fc.record({
        version: fc.constant(version),
        type: fc.constant(1),
        vrid: fc.integer({ min: 0, max: 255 }),
        priority: fc.integer({ min: 0, max: 255 }),
        intervalCs:
          version === 2
            ? fc.integer({ min: 0, max: 255 }).map((s) => s * 100)
            : fc.integer({ min: 0, max: 4095 }),
        addresses: fc.array(ipOf(family), { maxLength: 20 }),
        authType: version === 2 ? fc.integer({ min: 0, max: 2 }) : fc.constant(0),
        authData:
          version === 2 && family === 'ipv4'
            ? fc.uint8Array({ minLength: 8, maxLength: 8 }).map((u) => Buffer.from(u))
            : fc.constant(Buffer.alloc(0)),
      }),
    }),
  );

function assertTotal(r: DecodeResult): void {
  if (!r.ok) {
    assert.ok(REASONS.has(r.reason), `unknown reason ${r.reason}`);
    assert.equal(typeof r.detail, 'string');
    assert.ok(r.detail.length > 0);
  }
}

void test('round trip: decode(encode(a)) === a for arbitrary v2/v3 adverts over IPv4/IPv6', () => {
  fc.assert(
    fc.property(advertCase, ({ advert, addrs }) => {
      const bytes = encodeAdvert(advert, addrs);
      const r = decodeAdvert(bytes, addrs);
      const expected: Advert = { ...advert, addresses: advert.addresses.map(canonical) };
      assert.deepEqual(r, { ok: true, advert: expected, legacyChecksum: false });
      // And the bytes are the canonical encoding of what was decoded.
      assert.deepEqual(encodeAdvert(expected, addrs), bytes);
    }),
    { numRuns: 400 },
  );
});

void test('a valid packet decoded with other packet addresses is rejected unless the checksum cannot see them', () => {
  fc.assert(
    fc.property(advertCase, fc.ipV4(), fc.ipV6(), ({ advert, addrs }, other4, other6) => {
      const bytes = encodeAdvert(advert, addrs);
      const other = addrs.family === 'ipv4' ? other4 : other6;
      fc.pre(canonical(other) !== canonical(addrs.src));
      const r = decodeAdvert(bytes, { ...addrs, src: other });
      // v2 over IPv4 has no pseudo-header; everything else covers the source address.
      if (advert.version === 2 && addrs.family === 'ipv4') assert.ok(r.ok);
      else assert.ok(!r.ok || r.legacyChecksum, 'a changed source must break the checksum');
    }),
    { numRuns: 300 },
  );
});

const packetAddresses: fc.Arbitrary<PacketAddresses> = fc.oneof(
  fc.record({ family: fc.constant<AddressFamily>('ipv4'), src: fc.ipV4(), dst: fc.ipV4() }),
  fc.record({ family: fc.constant<AddressFamily>('ipv6'), src: fc.ipV6(), dst: fc.ipV6() }),
  // Nonsense a buggy caller could pass: wrong family, junk text, mixed families.
  fc.record({
    family: fc.constantFrom('ipv4', 'ipv6', 'ipx') as fc.Arbitrary<AddressFamily>,
    src: fc.oneof(fc.string(), fc.ipV4(), fc.ipV6()),
    dst: fc.oneof(fc.string(), fc.ipV4(), fc.ipV6()),
  }),
);

void test('decodeAdvert never throws on arbitrary bytes and packet addresses', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), packetAddresses, (bytes, addrs) => {
      assertTotal(decodeAdvert(bytes, addrs));
    }),
    { numRuns: 1000 },
  );
});

/**
 * Random bytes shaped like a VRRP packet (version 2/3, a count that matches the length, and in
 * half the cases a correct checksum) get past the length check into the deeper paths. Whatever
 * decodes must re-encode to the same bytes (v3 reserved interval bits aside: ignored on receive).
 */
void test('decodeAdvert on well-shaped random packets: total, and what it accepts re-encodes identically', () => {
  const shaped = fc
    .record({
      family: fc.constantFrom<AddressFamily>('ipv4', 'ipv6'),
      version: fc.constantFrom(2, 3),
      type: fc.constantFrom(1, 1, 1, 2),
      count: fc.integer({ min: 0, max: 6 }),
      fixChecksum: fc.boolean(),
    })
    .chain((s) =>
      fc.record({
        s: fc.constant(s),
        body: fc.uint8Array({
          minLength:
            s.count * (s.family === 'ipv4' ? 4 : 16) + (s.version === 2 && s.family === 'ipv4' ? 8 : 0) + 4,
          maxLength:
            s.count * (s.family === 'ipv4' ? 4 : 16) + (s.version === 2 && s.family === 'ipv4' ? 8 : 0) + 4,
        }),
        src: s.family === 'ipv4' ? fc.ipV4() : fc.ipV6(),
        dst: s.family === 'ipv4' ? fc.ipV4() : fc.ipV6(),
      }),
    );
  fc.assert(
    fc.property(shaped, ({ s, body, src, dst }) => {
      const b = Buffer.concat([Buffer.from([(s.version << 4) | s.type, 0, 0, s.count]), body]);
      b[1] = body[0] ?? 0;
      b[2] = body[1] ?? 0;
      const addrs: PacketAddresses = { family: s.family, src, dst };
      if (s.fixChecksum) b.writeUInt16BE(correctChecksum(b, addrs), 6);
      const r = decodeAdvert(b, addrs);
      assertTotal(r);
      if (r.ok) {
        assert.equal(r.legacyChecksum, false);
        const expected = Buffer.from(b);
        if (s.version === 3) expected[4] = (expected[4] ?? 0) & 0x0f;
        const re = encodeAdvert(r.advert, addrs);
        // Clearing reserved bits changes the checksum; compare everything else.
        assert.deepEqual(re.subarray(8), expected.subarray(8));
        assert.deepEqual(re.subarray(0, 6), expected.subarray(0, 6));
      } else if (s.fixChecksum && s.type === 1 && (s.version === 3 || (b[4] ?? 0) <= 2)) {
        assert.fail(`a well-formed packet was rejected: ${r.reason}: ${r.detail}`);
      }
    }),
    { numRuns: 600 },
  );
});

function correctChecksum(b: Buffer, addrs: PacketAddresses): number {
  const z = Buffer.from(b);
  z.writeUInt16BE(0, 6);
  const version = (z[0] ?? 0) >> 4;
  if (addrs.family === 'ipv4') {
    if (version === 2) return internetChecksum(z);
    const ph = Buffer.concat([
      ipToBytes(addrs.src),
      ipToBytes(addrs.dst),
      Buffer.from([0, 112, z.length >> 8, z.length & 0xff]),
    ]);
    return internetChecksum(ph, z);
  }
  const len = Buffer.alloc(4);
  len.writeUInt32BE(z.length);
  const ph = Buffer.concat([ipToBytes(addrs.src), ipToBytes(addrs.dst), len, Buffer.from([0, 0, 0, 112])]);
  return internetChecksum(ph, z);
}

// Real packets of every kind in the captures, with the addresses they travelled between.
const realPackets = ['cap_v2.pcap', 'cap_v3.pcap', 'cap_mc.pcap'].flatMap((f) =>
  ipv4Payloads(readPcap(join(FIXTURES, f)), 112).filter(
    (p) => decodeAdvert(p.payload, { family: 'ipv4', src: p.header.src, dst: p.header.dst }).ok,
  ),
);

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), pos: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), pos: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function applyMutations(src: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(src);
  for (const m of ms) {
    if (m.kind === 'extend') b = Buffer.concat([b, m.extra]);
    else if (b.length === 0) continue;
    else if (m.kind === 'truncate') b = b.subarray(0, m.pos % b.length);
    else if (m.kind === 'flip') b[m.pos % b.length] = (b[m.pos % b.length] ?? 0) ^ (1 << m.bit);
    else b[m.pos % b.length] = m.value;
  }
  return b;
}

void test('mutated real packets never make decodeAdvert or decodeIpv4Packet throw', () => {
  assert.ok(realPackets.length > 100);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: realPackets.length - 1 }),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      (i, ms) => {
        const p = realPackets[i]!;
        assertTotal(
          decodeAdvert(applyMutations(p.payload, ms), {
            family: 'ipv4',
            src: p.header.src,
            dst: p.header.dst,
          }),
        );
        const ip = decodeIpv4Packet(applyMutations(p.packet, ms));
        if (!ip.ok) assert.equal(ip.reason, 'packet_len_err');
      },
    ),
    { numRuns: 1000 },
  );
});

void test('every single-bit error in a real packet is caught (the checksum covers every byte)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: realPackets.length - 1 }),
      fc.nat(),
      fc.integer({ min: 0, max: 7 }),
      (i, pos, bit) => {
        const p = realPackets[i]!;
        const b = applyMutations(p.payload, [{ kind: 'flip', pos, bit }]);
        const r = decodeAdvert(b, { family: 'ipv4', src: p.header.src, dst: p.header.dst });
        // A flip can only look right under the legacy 224.0.0.18 pseudo-header by coincidence.
        assert.ok(!r.ok || r.legacyChecksum, `flip of bit ${bit} at ${pos % b.length} went unnoticed`);
      },
    ),
    { numRuns: 500 },
  );
});

// ---- IPv4 header ----

void test('decodeIpv4Packet never throws on arbitrary bytes, or on bytes starting like an IPv4 header', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
      const r = decodeIpv4Packet(bytes);
      if (!r.ok) assert.equal(r.reason, 'packet_len_err');
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 0x40, max: 0x4f }),
      fc.uint8Array({ minLength: 19, maxLength: 100 }),
      (b0, rest) => {
        const bytes = Buffer.concat([Buffer.from([b0]), rest]);
        bytes.writeUInt16BE(bytes.length, 2); // consistent total length: reach the header parsing
        const r = decodeIpv4Packet(bytes);
        assert.equal(r.ok, (b0 & 0x0f) >= 5 && (b0 & 0x0f) * 4 <= bytes.length);
      },
    ),
    { numRuns: 500 },
  );
});

void test('IPv4 header round trip for arbitrary fields and payloads', () => {
  fc.assert(
    fc.property(
      fc.record({
        tos: fc.integer({ min: 0, max: 255 }),
        id: fc.integer({ min: 0, max: 0xffff }),
        ttl: fc.integer({ min: 0, max: 255 }),
        protocol: fc.integer({ min: 0, max: 255 }),
        src: fc.ipV4(),
        dst: fc.ipV4(),
      }),
      fc.uint8Array({ maxLength: 200 }),
      (h, payload) => {
        const pkt = encodeIpv4Packet(h, payload);
        const r = decodeIpv4Packet(pkt);
        assert.ok(r.ok);
        assert.deepEqual(
          { ...r.header, checksum: 0 },
          { ...h, headerLength: 20, totalLength: 20 + payload.length, flagsFragment: 0, checksum: 0 },
        );
        assert.equal(internetChecksum(pkt.subarray(0, 20)), 0);
        assert.deepEqual(new Uint8Array(r.payload), payload);
        assert.deepEqual(encodeIpv4Packet(r.header, r.payload), pkt);
      },
    ),
    { numRuns: 300 },
  );
});

// ---- addresses and checksum ----

void test('addr: bytes -> text -> bytes is the identity, and text is canonical', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b) => {
      assert.deepEqual(new Uint8Array(ipToBytes(bytesToIp(b, 'ipv4'))), b);
    }),
    { numRuns: 300 },
  );
  // Few zero groups would be rare with uniform bytes; bias towards zeros to exercise "::".
  const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  fc.assert(
    fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
      const b = Buffer.alloc(16);
      groups.forEach((g, i) => b.writeUInt16BE(g, 2 * i));
      const text = bytesToIp(b, 'ipv6');
      assert.deepEqual(ipToBytes(text), b);
      // RFC 5952 text equals the WHATWG URL serializer's, except for the IPv4-mapped mixed form.
      if (!text.startsWith('::ffff:') || !text.includes('.')) {
        assert.equal(text, new URL(`http://[${text}]/`).hostname.slice(1, -1));
      }
    }),
    { numRuns: 500 },
  );
});

void test('addr: compareIp is the numeric order of the bytes and canonicalisation-blind', () => {
  fc.assert(
    fc.property(fc.ipV6(), fc.ipV6(), (a, b) => {
      const c = compareIp(a, b);
      assert.equal(Math.sign(c), Math.sign(Buffer.compare(ipToBytes(a), ipToBytes(b))));
      // `|| 0`: strict equal tells -0 from 0, and -Math.sign(0) is -0.
      assert.equal(Math.sign(compareIp(b, a)), -Math.sign(c) || 0);
      assert.equal(compareIp(a, canonical(a)), 0);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.ipV4(), fc.ipV4(), (a, b) => {
      assert.equal(Math.sign(compareIp(a, b)), Math.sign(Buffer.compare(ipToBytes(a), ipToBytes(b))));
    }),
    { numRuns: 300 },
  );
});

void test('checksum: any split of the data gives the same checksum, and a filled-in checksum verifies to 0', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 5 }), (data, cuts) => {
      const points = [...new Set(cuts.map((c) => (data.length ? c % (data.length + 1) : 0)))].sort(
        (x, y) => x - y,
      );
      const parts: Uint8Array[] = [];
      let last = 0;
      for (const c of points) {
        parts.push(data.subarray(last, c));
        last = c;
      }
      parts.push(data.subarray(last));
      const whole = internetChecksum(data);
      assert.equal(internetChecksum(...parts), whole);
      // Placed as a trailing word after even-length data, the checksum makes the total sum verify.
      const even = data.length % 2 ? Buffer.concat([data, Buffer.alloc(1)]) : Buffer.from(data);
      const sum = internetChecksum(even);
      assert.equal(internetChecksum(even, Buffer.from([sum >> 8, sum & 0xff])), 0);
    }),
    { numRuns: 500 },
  );
});
