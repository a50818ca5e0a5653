/**
 * keepalived against keepalived in a lab: validates the harness, the capture decoder and the
 * timing measurements against the behaviour the reference captures show, before any of it is
 * used to judge floatip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, requireNetns, type Lab } from './harness.js';
import {
  adverts,
  decodeFrame,
  measureTakeover,
  startCapture,
  removeCaptureDir,
  type Capture,
} from './capture.js';
import { join } from 'node:path';
import { KEEPALIVED_FIXTURES, readPcap } from '../support/pcap.js';
import {
  errorTotal,
  KEEPALIVED_PACKET_COMPLAINTS,
  parseKeepalivedStats,
  renderFixture,
  startKeepalived,
  type Keepalived,
} from './keepalived.js';

const SKEW_100 = (256 - 100) / 256; // Skew_Time of the priority-100 backup, advert_int 1
const MASTER_DOWN_100 = 3 + SKEW_100;

function conf(me: string, peer: string, state: string, priority: number): string {
  return renderFixture('v2-unicast.conf', {
    ROUTER_ID: `ka-${me}`,
    STATE: state,
    PRIORITY: priority,
    SRC: me,
    PEER: peer,
    AUTH_PASS: 'secretpw9',
    EXTRA: '',
  });
}

async function vipAnswers(lab: Lab, vip: string): Promise<boolean> {
  const r = await lab.exec(lab.nodes.c!.ns, ['ping', '-c', '1', '-W', '1', vip], { allowFail: true });
  return r.code === 0;
}

// Verbatim output of keepalived 2.2.7's SIGUSR2 (two instances, values changed to be distinct).
const STATS_TEXT = `VRRP Instance: VI_1
  Advertisements:
    Received: 12
    Sent: 3
  Became master: 1
  Released master: 2
  Packet Errors:
    Length: 4
    TTL: 5
    Invalid Type: 6
    Advertisement Interval: 7
    Address List: 8
  Authentication Errors:
    Invalid Type: 9
    Type Mismatch: 10
    Failure: 11
  Priority Zero:
    Received: 13
    Sent: 14
VRRP Instance: VI_2
  Advertisements:
    Received: 0
    Sent: 0
  Became master: 0
  Released master: 0
  Packet Errors:
    Length: 0
    TTL: 0
    Invalid Type: 0
    Advertisement Interval: 0
    Address List: 0
  Authentication Errors:
    Invalid Type: 0
    Type Mismatch: 0
    Failure: 0
  Priority Zero:
    Received: 0
    Sent: 0
`;

void test('parseKeepalivedStats reads every counter of every instance and rejects a truncated block', () => {
  const s = parseKeepalivedStats(STATS_TEXT);
  assert.deepEqual(Object.keys(s), ['VI_1', 'VI_2']);
  assert.deepEqual(s.VI_1, {
    advertisements: { received: 12, sent: 3 },
    becameMaster: 1,
    releasedMaster: 2,
    packetErrors: { length: 4, ttl: 5, invalidType: 6, advertisementInterval: 7, addressList: 8 },
    authenticationErrors: { invalidType: 9, typeMismatch: 10, failure: 11 },
    priorityZero: { received: 13, sent: 14 },
  });
  assert.equal(errorTotal(s.VI_1), 4 + 5 + 6 + 7 + 8 + 9 + 10 + 11);
  assert.equal(errorTotal(s.VI_2!), 0);
  const cut = STATS_TEXT.split('\n').slice(0, -3).join('\n');
  assert.throws(() => parseKeepalivedStats(cut), /VI_2 lacks Priority Zero Received, Priority Zero Sent/);
  assert.throws(() => parseKeepalivedStats(STATS_TEXT.replace('TTL:', 'Hops:')), /unknown counter/);
});

void test('capture decoder agrees with the reference keepalived captures', () => {
  const load = (f: string) =>
    readPcap(join(KEEPALIVED_FIXTURES, f)).map((r) => decodeFrame(r.frame, r.tsMicros));
  const v2 = adverts(load('cap_v2.pcap'));
  assert.ok(v2.length > 0);
  for (const p of v2) {
    assert.equal(p.vrrp.authData?.toString('latin1'), 'secretpw');
    assert.ok(p.vrrp.checksumOk);
  }
  // B's own v3 unicast adverts: the checksum uses the real destination, not 224.0.0.18.
  const v3 = adverts(load('cap_v3.pcap'), { src: '10.99.0.2', vrid: 52 });
  assert.ok(v3.length > 0);
  for (const p of v3) {
    assert.equal(p.vrrp.intervalSec, 0.5);
    assert.ok(p.vrrp.checksumOk);
    assert.equal(p.vrrp.checksumOkWithMcastDst, false);
  }
  const mc = adverts(load('cap_mc.pcap'), { vrid: 53 });
  assert.ok(mc.length > 0 && mc.every((p) => p.dst === '224.0.0.18' && p.vrrp.checksumOk));
  // cap_fail: B's first advert 0.611 s after A's priority-0 one.
  const fail = load('cap_fail.pcap');
  const g = measureTakeover(fail, { from: '10.99.0.1', to: '10.99.0.2', since: 0, kind: 'graceful' });
  assert.ok(Math.abs(g.delay - 0.611) < 0.005, `graceful ${g.delay}`);
});

void test('keepalived pair: election, graceful stop (≈Skew), preempt, freeze (≈Master_Down), clean stats', async (t) => {
  if (!requireNetns(t)) return;
  const lab = await createLab(['a', 'b', 'c'], { ipv6: false });
  let cap: Capture | undefined;
  const kas: Keepalived[] = [];
  let ok = false;
  try {
    const a = lab.nodes.a!;
    const b = lab.nodes.b!;
    cap = await startCapture(lab, b);
    const confA = conf(a.addr4, b.addr4, 'MASTER', 150);
    let kaA = await startKeepalived(lab, a, confA);
    const kaB = await startKeepalived(lab, b, conf(b.addr4, a.addr4, 'BACKUP', 100));
    kas.push(kaA, kaB);

    await kaA.waitForState('VI_1', 'MASTER', 8000);
    await kaB.waitForState('VI_1', 'BACKUP', 1000);
    assert.ok(await vipAnswers(lab, '10.99.0.100'), 'VIP answers while A is master');
    await new Promise((r) => setTimeout(r, 1500));
    const sa = (await kaA.stats()).VI_1!;
    const sb = (await kaB.stats()).VI_1!;
    assert.ok(sa.advertisements.sent >= 2, `A sent ${sa.advertisements.sent}`);
    assert.ok(sb.advertisements.received >= 2, `B received ${sb.advertisements.received}`);
    assert.equal(sa.becameMaster, 1);
    assert.equal(sb.becameMaster, 0);

    // Graceful stop: A sends priority 0, B takes over after Skew_Time.
    let since = Date.now() / 1000;
    let mark = kaB.mark();
    assert.equal(await kaA.stop(), 0);
    await kaB.waitForState('VI_1', 'MASTER', 3000, mark);
    await new Promise((r) => setTimeout(r, 300));
    const graceful = measureTakeover(await cap.packets(), {
      from: a.addr4,
      to: b.addr4,
      since,
      kind: 'graceful',
    });
    assert.ok(await vipAnswers(lab, '10.99.0.100'), 'VIP answers after B took over');

    // A returns with the higher priority and preempts.
    kaA = await startKeepalived(lab, a, confA);
    kas.push(kaA);
    mark = kaB.mark();
    await kaA.waitForState('VI_1', 'MASTER', 8000);
    await kaB.waitForState('VI_1', 'BACKUP', 3000, mark);

    // Hard failure: A's VRRP child frozen; B takes over after Master_Down_Interval.
    await new Promise((r) => setTimeout(r, 1500));
    since = Date.now() / 1000;
    mark = kaB.mark();
    kaA.freeze();
    await kaB.waitForState('VI_1', 'MASTER', 6000, mark);
    await new Promise((r) => setTimeout(r, 300));
    const hard = measureTakeover(await cap.packets(), { from: a.addr4, to: b.addr4, since, kind: 'hard' });
    mark = kaB.mark();
    kaA.thaw();
    await kaB.waitForState('VI_1', 'BACKUP', 5000, mark);

    const packets = await cap.stop();
    console.log(
      `keepalived pair takeover: graceful ${graceful.delay.toFixed(3)} s (Skew ${SKEW_100.toFixed(3)}), ` +
        `hard ${hard.delay.toFixed(3)} s (Master_Down ${MASTER_DOWN_100.toFixed(3)})`,
    );
    assert.ok(
      graceful.delay > SKEW_100 - 0.3 && graceful.delay < SKEW_100 + 1,
      `graceful takeover ${graceful.delay}`,
    );
    assert.ok(
      hard.delay > MASTER_DOWN_100 - 0.3 && hard.delay < MASTER_DOWN_100 + 1,
      `hard takeover ${hard.delay}`,
    );

    // Wire facts the reference captures show.
    const ads = adverts(packets, { vrid: 51 });
    assert.ok(ads.length > 5);
    for (const p of ads) {
      assert.equal(p.ttl, 255);
      assert.equal(p.tos, 0xc0);
      assert.equal(p.vrrp.version, 2);
      assert.ok(p.vrrp.checksumOk, `checksum of advert from ${p.src} at ${p.t}`);
      assert.equal(p.vrrp.authType, 1);
      assert.equal(p.vrrp.authData?.toString('latin1'), 'secretpw');
      assert.deepEqual(p.vrrp.addresses, ['10.99.0.100', '10.99.0.101']);
    }
    assert.ok(
      packets.some((p) => p.arp && p.arp.senderIp === '10.99.0.100' && p.arp.targetIp === '10.99.0.100'),
      'GARP for the VIP',
    );

    for (const ka of [kaA, kaB]) {
      const s = (await ka.stats()).VI_1!;
      assert.equal(errorTotal(s), 0, `${ka.proc.label} error counters: ${JSON.stringify(s)}`);
      assert.deepEqual(
        ka.proc.lines().filter((l) => KEEPALIVED_PACKET_COMPLAINTS.test(l)),
        [],
      );
    }
    const finalB = (await kaB.stats()).VI_1!;
    assert.equal(finalB.priorityZero.received, 1);
    assert.equal(finalB.becameMaster, 2);
    ok = true;
  } finally {
    for (const ka of kas) await ka.stop();
    if (cap && ok) removeCaptureDir(cap);
    else if (cap) console.log(`capture kept at ${cap.file}`);
    await lab.cleanup();
  }
});
