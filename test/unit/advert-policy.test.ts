/**
 * The per-instance checks (advert-policy.ts) with real packets: node B's instances from kaB2.conf
 * judge the adverts in cap_v3.pcap, including the ones crafted to break a rule, and hand-mutated
 * copies of captured packets provoke each policy rejection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { KEEPALIVED_FIXTURES, readPcap, ipv4Payloads, type CapturedIpv4 } from '../support/pcap.js';
import { decodeAdvert, VRRP_PROTOCOL, type Advert, type RejectReason } from '../../src/vrrp/advert.js';
import { checkAdvertPolicy, encodePassword, type AdvertPolicy } from '../../src/vrrp/advert-policy.js';

const FIXTURES = KEEPALIVED_FIXTURES;

// kaB2.conf, node B. VI_3's `auth_pass ignored` is config-time noise: v3 has no authentication.
const VI_2: AdvertPolicy = {
  version: 2,
  vrid: 51,
  advertIntervalCs: 100,
  virtualIps: ['10.99.0.100', '10.99.0.101'],
  auth: { type: 'PASS', password: encodePassword('secretpw').password },
};
const VI_3: AdvertPolicy = {
  version: 3,
  vrid: 52,
  advertIntervalCs: 50,
  virtualIps: ['10.99.0.110', '10.99.0.111'],
};

const v3Packets = ipv4Payloads(readPcap(join(FIXTURES, 'cap_v3.pcap')), VRRP_PROTOCOL);

function decoded(p: CapturedIpv4): Advert {
  const r = decodeAdvert(p.payload, { family: 'ipv4', src: p.header.src, dst: p.header.dst });
  assert.ok(r.ok, `packet #${p.index} did not decode: ${r.ok ? '' : r.detail}`);
  return r.advert;
}

function verdict(a: Advert, p: AdvertPolicy): string {
  const r = checkAdvertPolicy(a, p);
  return r.ok ? (r.warnings.length ? `ok+${r.warnings.join(',')}` : 'ok') : r.reason;
}

/** Crafted packets from 10.99.0.1 in cap_v3 that break a per-instance rule, keyed by IP id. */
const CRAFTED_V3_POLICY: Record<number, { against: AdvertPolicy; reason: RejectReason }> = {
  761: { against: VI_3, reason: 'version_err' }, // VRRPv2 advert for vrid 52 (a v3 instance)
  850: { against: VI_3, reason: 'vrid_err' }, // vrid 99, otherwise VI_3's advert
  951: { against: VI_3, reason: 'addr_list_err' }, // only 10.99.0.110
  1022: { against: VI_3, reason: 'addr_list_err' }, // 10.99.0.110 and 10.99.0.199
  1127: { against: VI_2, reason: 'auth_failure' }, // password "wrongpw!"
  1228: { against: VI_2, reason: 'authtype_mismatch' }, // auth type none
  1276: { against: VI_2, reason: 'advert_interval_err' }, // 2 s instead of 1 s
};
/** Crafted packets decodeAdvert already rejects (see advert.test.ts). */
const DECODE_REJECTED = new Set([615, 1104, 1273]);

void test("kaB2 instances accept every well-formed advert in cap_v3 (B's own and the crafted peer's)", () => {
  let accepted = 0;
  for (const p of v3Packets) {
    if (DECODE_REJECTED.has(p.header.id) && p.header.src === '10.99.0.1') continue;
    if (p.header.src === '10.99.0.1' && CRAFTED_V3_POLICY[p.header.id]) continue;
    const a = decoded(p);
    const policy = a.vrid === 51 ? VI_2 : VI_3;
    assert.equal(verdict(a, policy), 'ok', `packet #${p.index} (id ${p.header.id})`);
    accepted++;
  }
  assert.equal(accepted, v3Packets.length - DECODE_REJECTED.size - Object.keys(CRAFTED_V3_POLICY).length);
});

void test('kaB2 instances reject each crafted rule-breaking advert in cap_v3 for the crafted reason', () => {
  const found = new Set<number>();
  for (const p of v3Packets) {
    const c = p.header.src === '10.99.0.1' ? CRAFTED_V3_POLICY[p.header.id] : undefined;
    if (!c) continue;
    assert.equal(verdict(decoded(p), c.against), c.reason, `crafted id ${p.header.id}`);
    found.add(p.header.id);
  }
  assert.equal(found.size, Object.keys(CRAFTED_V3_POLICY).length);
});

// ---- hand-mutated real adverts ----

const v2Advert = decoded(v3Packets.find((p) => p.header.src === '10.99.0.2' && p.payload[1] === 51)!);
const v3Advert = decoded(v3Packets.find((p) => p.header.src === '10.99.0.2' && p.payload[1] === 52)!);

void test('mutation control: the real adverts pass their own instance', () => {
  assert.equal(verdict(v2Advert, VI_2), 'ok');
  assert.equal(verdict(v3Advert, VI_3), 'ok');
});

void test('vrid_err: an advert for another VRID', () => {
  assert.equal(verdict({ ...v2Advert, vrid: 52 }, VI_2), 'vrid_err');
  assert.equal(verdict({ ...v3Advert, vrid: 0 }, VI_3), 'vrid_err');
});

void test('version_err: a v3 advert for a v2 instance and the reverse', () => {
  assert.equal(verdict({ ...v3Advert, vrid: 51, addresses: VI_2.virtualIps }, VI_2), 'version_err');
  assert.equal(verdict({ ...v2Advert, vrid: 52, addresses: VI_3.virtualIps }, VI_3), 'version_err');
});

void test('authtype_mismatch: none vs PASS, AH vs PASS, PASS vs none', () => {
  assert.equal(verdict({ ...v2Advert, authType: 0 }, VI_2), 'authtype_mismatch');
  assert.equal(verdict({ ...v2Advert, authType: 2 }, VI_2), 'authtype_mismatch');
  const noAuth: AdvertPolicy = { ...VI_2, auth: undefined };
  assert.equal(verdict(v2Advert, noAuth), 'authtype_mismatch');
  assert.equal(verdict({ ...v2Advert, authType: 0, authData: Buffer.alloc(8) }, noAuth), 'ok');
});

void test('auth_failure: one password byte off, or the untruncated "secretpw9" compared as 8 bytes', () => {
  const wrong = Buffer.from(v2Advert.authData);
  wrong[7] = 0x58;
  assert.equal(verdict({ ...v2Advert, authData: wrong }, VI_2), 'auth_failure');
  const other: AdvertPolicy = {
    ...VI_2,
    auth: { type: 'PASS', password: encodePassword('secretpx').password },
  };
  assert.equal(verdict(v2Advert, other), 'auth_failure');
  // keepalived truncates "secretpw9" to "secretpw", which is what the captured packet carries.
  const truncated: AdvertPolicy = {
    ...VI_2,
    auth: { type: 'PASS', password: encodePassword('secretpw9').password },
  };
  assert.equal(verdict(v2Advert, truncated), 'ok');
});

void test('advert_interval_err: v2 interval differs; v3 interval is learnt, never rejected', () => {
  assert.equal(verdict({ ...v2Advert, intervalCs: 200 }, VI_2), 'advert_interval_err');
  assert.equal(verdict({ ...v2Advert, intervalCs: 0 }, VI_2), 'advert_interval_err');
  assert.equal(verdict({ ...v3Advert, intervalCs: 100 }, VI_3), 'ok');
});

void test('v3 ignores authentication entirely, even with auth configured', () => {
  const withAuth: AdvertPolicy = {
    ...VI_3,
    auth: { type: 'PASS', password: encodePassword('ignored').password },
  };
  assert.equal(verdict(v3Advert, withAuth), 'ok');
});

void test('addr_list_err: keepalived 2.2.7 drops (not just counts) a count or VIP mismatch', () => {
  const r = checkAdvertPolicy({ ...v2Advert, addresses: ['10.99.0.100'] }, VI_2);
  assert.equal(r.ok, false);
  assert.equal(
    verdict({ ...v2Advert, addresses: ['10.99.0.100', '10.99.0.101', '10.99.0.102'] }, VI_2),
    'addr_list_err',
  );
  assert.equal(verdict({ ...v2Advert, addresses: ['10.99.0.100', '10.99.0.102'] }, VI_2), 'addr_list_err');
  assert.equal(verdict({ ...v2Advert, addresses: ['10.99.0.100', '10.99.0.100'] }, VI_2), 'addr_list_err');
  assert.equal(verdict({ ...v2Advert, addresses: [] }, VI_2), 'addr_list_err');
  // Order does not matter: keepalived searches the advert for each VIP.
  assert.equal(verdict({ ...v2Advert, addresses: ['10.99.0.101', '10.99.0.100'] }, VI_2), 'ok');
});

void test('addresses compare as addresses, not text', () => {
  const v6: AdvertPolicy = { version: 3, vrid: 9, advertIntervalCs: 100, virtualIps: ['FD99:0:0::100'] };
  const a: Advert = { ...v3Advert, vrid: 9, addresses: ['fd99::100'] };
  assert.equal(verdict(a, v6), 'ok');
  assert.equal(verdict({ ...a, addresses: ['fd99::101'] }, v6), 'addr_list_err');
});

void test("priority 0 passes the policy (pri_zero_rcvd is the caller's counter)", () => {
  assert.equal(verdict({ ...v2Advert, priority: 0 }, VI_2), 'ok');
});

void test('rejection details name both sides', () => {
  const r = checkAdvertPolicy({ ...v2Advert, intervalCs: 200 }, VI_2);
  assert.ok(!r.ok);
  assert.match(r.detail, /2 s.*1 s/);
  const m = checkAdvertPolicy({ ...v2Advert, addresses: ['10.99.0.100', '10.99.0.102'] }, VI_2);
  assert.ok(!m.ok);
  assert.match(m.detail, /10\.99\.0\.101/);
});

void test('encodePassword: 8 bytes, zero padded, truncated like keepalived with a flag', () => {
  assert.deepEqual(encodePassword('secretpw9'), { password: Buffer.from('secretpw'), truncated: true });
  assert.deepEqual(encodePassword('secretpw'), { password: Buffer.from('secretpw'), truncated: false });
  assert.deepEqual(encodePassword('abc'), {
    password: Buffer.from('abc\0\0\0\0\0', 'latin1'),
    truncated: false,
  });
  assert.deepEqual(encodePassword(''), { password: Buffer.alloc(8), truncated: false });
  // Bytes, not characters, as keepalived's strlen/memcpy count them.
  const u = encodePassword('pässwört');
  assert.equal(u.password.length, 8);
  assert.equal(u.truncated, true);
});
