/**
 * The garp provider on real kernels: node a runs the provider (test/netns/fixtures/garp-driver.ts),
 * node c captures with tcpdump and plays the neighbour whose cache must follow the VIP. For the
 * IPv6 case a real keepalived 2.2.7 on node k sends its own neighbour advertisement, and floatip's
 * is compared with it byte for byte.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { arpFrames, KEEPALIVED_FIXTURES, readPcap } from '../support/pcap.js';
import { decodeFrame, inetChecksum, removeCaptureDir, startCapture, type Packet } from './capture.js';
import { createLab, requireNetns, type Lab, type LabNode, type LabProcess } from './harness.js';
import { startKeepalived } from './keepalived.js';

const DRIVER = fileURLToPath(new URL('./fixtures/garp-driver.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const WAIT_MS = 15_000;

interface Vip {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
  label?: string;
  dev?: string;
}

interface Garp {
  masterDelayMs: number;
  masterRepeat: number;
  masterRefreshMs: number;
  masterRefreshRepeat: number;
}

interface Driver {
  proc: LabProcess;
  /** Sends the signal and waits for the next event of that name. */
  call(sig: NodeJS.Signals, event: string): Promise<Record<string, unknown>>;
}

async function startDriver(lab: Lab, node: LabNode, vips: Vip[], garp: Garp, options = {}): Promise<Driver> {
  const ctx = {
    instance: 'VI_GARP',
    interface: node.ifname,
    family: vips[0]!.family,
    virtualIps: vips,
    options,
    garp,
  };
  const proc = lab.spawn(node.ns, [process.execPath, '--import', TSX, DRIVER, JSON.stringify(ctx)], {
    label: `garp-driver@${node.name}`,
  });
  const seen = new Map<string, number>();
  const next = async (event: string): Promise<Record<string, unknown>> => {
    const skip = seen.get(event) ?? 0;
    let n = 0;
    const line = await proc.waitForLine((l) => {
      if (l.startsWith('{"event":"error"')) return true;
      if (!l.startsWith(`{"event":"${event}"`)) return false;
      return n++ === skip;
    }, WAIT_MS);
    const o = JSON.parse(line) as Record<string, unknown>;
    if (o.event === 'error') throw new Error(`driver: ${String(o.during)} failed: ${String(o.message)}`);
    seen.set(event, skip + 1);
    return o;
  };
  await next('ready');
  return {
    proc,
    call(sig, event) {
      proc.signal(sig);
      return next(event);
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface AddrInfo {
  ifname: string;
  addr_info: Array<{ family: string; local: string; prefixlen: number; label?: string; nodad?: boolean }>;
}

async function addresses(lab: Lab, node: LabNode): Promise<AddrInfo['addr_info']> {
  const r = await lab.exec(node.ns, ['ip', '-j', 'addr', 'show', 'dev', node.ifname]);
  return (JSON.parse(r.stdout) as AddrInfo[])[0]?.addr_info ?? [];
}

async function neighbour(lab: Lab, node: LabNode, ip: string): Promise<string | undefined> {
  const r = await lab.exec(node.ns, ['ip', '-j', 'neigh', 'show', ip, 'dev', node.ifname]);
  const entries = JSON.parse(r.stdout || '[]') as Array<{ lladdr?: string }>;
  return entries[0]?.lladdr;
}

function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

/** A captured keepalived frame with its MACs (Ethernet source, ARP sender / NA option) replaced. */
function withMac(frame: Buffer, offsets: number[], mac: string): Buffer {
  const f = Buffer.from(frame);
  for (const o of offsets) macBytes(mac).copy(f, o);
  return f;
}

function stepLog(t: TestContext, msg: string): void {
  t.diagnostic(msg);
}

test('garp: IPv4 VIPs added, keepalived-identical GARP bursts at T and T+delay, neighbour follows, ping answers, release removes', async (t) => {
  if (!requireNetns(t)) return;
  const lab = await createLab(['a', 'c']);
  t.after(() => lab.cleanup());
  const a = lab.nodes.a!;
  const c = lab.nodes.c!;
  const cap = await startCapture(lab, c, { filter: 'arp' });
  let ok = false;
  t.after(() => {
    if (ok) removeCaptureDir(cap);
    else t.diagnostic(`capture kept: ${cap.file}`);
  });

  // The old master's MAC in c's cache: the GARP must override it (the kernel updates, but does
  // not create, entries from gratuitous ARP unless arp_accept is set).
  const oldMac = '02:99:00:00:00:ee';
  await lab.exec(c.ns, [
    'ip',
    'neigh',
    'replace',
    '10.99.0.100',
    'lladdr',
    oldMac,
    'dev',
    'eth0',
    'nud',
    'stale',
  ]);

  const vips: Vip[] = [
    { address: '10.99.0.100', prefix: 24, family: 'ipv4', label: 'eth0:vip' },
    { address: '10.99.0.101', prefix: 24, family: 'ipv4' },
  ];
  // The reference capture's settings: vrrp_garp_master_delay 1, vrrp_garp_master_repeat 2.
  const drv = await startDriver(lab, a, vips, {
    masterDelayMs: 1000,
    masterRepeat: 2,
    masterRefreshMs: 0,
    masterRefreshRepeat: 1,
  });
  assert.equal((await drv.call('SIGHUP', 'holder')).holder, null, 'holder before acquire');

  const acq = await drv.call('SIGUSR1', 'acquired');
  const t0Us = acq.t0Us as number;
  stepLog(t, `acquire() returned after ${((acq.t1Us as number) - t0Us) / 1000} ms`);

  const addrs = await addresses(lab, a);
  const v100 = addrs.find((x) => x.local === '10.99.0.100');
  const v101 = addrs.find((x) => x.local === '10.99.0.101');
  assert.equal(v100?.prefixlen, 24);
  assert.equal(v100?.label, 'eth0:vip');
  assert.equal(v101?.prefixlen, 24);
  const h = await drv.call('SIGHUP', 'holder');
  assert.equal(h.holder, h.selfId, 'holder after acquire is selfId');

  await sleep(1600);

  assert.equal(await neighbour(lab, c, '10.99.0.100'), a.mac, "c's cache points the VIP at a");
  const ping = await lab.exec(c.ns, ['ping', '-c', '1', '-W', '2', '10.99.0.100'], { allowFail: true });
  assert.equal(ping.code, 0, `ping 10.99.0.100 from c: ${ping.stdout}${ping.stderr}`);
  const ping2 = await lab.exec(c.ns, ['ping', '-c', '1', '-W', '2', '10.99.0.101'], { allowFail: true });
  assert.equal(ping2.code, 0, `ping 10.99.0.101 from c: ${ping2.stdout}${ping2.stderr}`);

  // A second acquire while holding is fine (addresses already there) and announces again; the
  // release below comes before its delayed burst, which must then never be sent.
  await drv.call('SIGUSR1', 'acquired');
  const rel = await drv.call('SIGUSR2', 'released');
  assert.equal(rel.announcing, false);
  const after = await addresses(lab, a);
  assert.ok(!after.some((x) => x.local === '10.99.0.100' || x.local === '10.99.0.101'), 'VIPs removed');
  assert.ok(
    after.some((x) => x.local === a.addr4),
    "a's own address stays",
  );
  assert.equal((await drv.call('SIGHUP', 'holder')).holder, null, 'holder after release');
  await sleep(1300); // the second acquire's delayed burst would fall in here
  // Only gratuitous ones: a's kernel also resolves c while answering the pings.
  const packets = (await cap.stop()).filter(
    (p) => p.arp && p.ethSrc === a.mac && p.arp.senderIp === p.arp.targetIp,
  );

  // 4 at T and 4 at T+1 s from the first acquire, 4 from the second, whose delayed burst the
  // release cancelled.
  const keepalived = arpFrames(readPcap(`${KEEPALIVED_FIXTURES}/cap_v2.pcap`)).slice(0, 2);
  const kaFrames = readPcap(`${KEEPALIVED_FIXTURES}/cap_v2.pcap`)
    .filter((_r, i) => keepalived.some((k) => k.index === i))
    .map((r) => withMac(r.frame, [6, 22], a.mac));
  assert.equal(packets.length, 12, `ARP frames from a: ${packets.length}`);
  for (const [i, p] of packets.entries()) {
    assert.deepEqual(p.frame, kaFrames[i % 2], `frame ${i} equals keepalived's with a's MAC`);
  }
  const firstUs = packets[0]!.tsMicros;
  const latencyUs = firstUs - t0Us;
  stepLog(t, `acquire() call to first GARP on the wire (tcpdump on c): ${(latencyUs / 1000).toFixed(3)} ms`);
  assert.ok(latencyUs > -2000 && latencyUs < 500_000, `first frame ${latencyUs} µs after acquire()`);
  const burst1 = packets.slice(0, 4).map((p) => p.tsMicros);
  const burst2 = packets.slice(4, 8).map((p) => p.tsMicros);
  assert.ok(burst1[3]! - burst1[0]! < 50_000, 'first burst is back to back');
  const gap = burst2[0]! - burst1[0]!;
  assert.ok(gap > 950_000 && gap < 1_500_000, `second burst ${gap} µs after the first`);
  ok = true;
});

test('garp: refresh re-announces while held; release and abort stop it; announce/manage_addresses separable', async (t) => {
  if (!requireNetns(t)) return;
  const lab = await createLab(['a', 'c']);
  t.after(() => lab.cleanup());
  const a = lab.nodes.a!;
  const c = lab.nodes.c!;
  const cap = await startCapture(lab, c, { filter: 'arp' });
  t.after(() => removeCaptureDir(cap));
  const vips: Vip[] = [{ address: '10.99.0.110', prefix: 32, family: 'ipv4' }];
  const drv = await startDriver(lab, a, vips, {
    masterDelayMs: 0,
    masterRepeat: 1,
    masterRefreshMs: 400,
    masterRefreshRepeat: 2,
  });
  const count = async (): Promise<number> =>
    (await cap.packets()).filter((p) => p.arp?.senderIp === '10.99.0.110').length;

  await drv.call('SIGUSR1', 'acquired');
  await sleep(1000); // 1 at once, then 2 at 400 ms and 2 at 800 ms
  const held = await count();
  assert.equal(held, 5, `frames while held: ${held}`);
  await drv.call('SIGUSR2', 'released');
  await sleep(900);
  assert.equal(await count(), held, 'no frames after release');

  await drv.call('SIGUSR1', 'acquired');
  const aborted = await drv.call('SIGWINCH', 'aborted');
  assert.equal(aborted.announcing, false);
  await sleep(900);
  assert.equal(await count(), held + 1, 'abort stops the refresh');
  await drv.call('SIGUSR2', 'released');
  await drv.proc.stop();

  // manage_addresses without announce (the cloud case): the address comes, no frame goes out.
  const quiet = await startDriver(
    lab,
    a,
    vips,
    { masterDelayMs: 0, masterRepeat: 3, masterRefreshMs: 0, masterRefreshRepeat: 1 },
    { announce: false },
  );
  await quiet.call('SIGUSR1', 'acquired');
  assert.ok((await addresses(lab, a)).some((x) => x.local === '10.99.0.110'));
  await sleep(300);
  assert.equal(await count(), held + 1, 'announce: false sends nothing');
  await quiet.call('SIGUSR2', 'released');
  await quiet.proc.stop();

  // announce without manage_addresses: frames go out, the address is left alone.
  const loud = await startDriver(
    lab,
    a,
    vips,
    { masterDelayMs: 0, masterRepeat: 1, masterRefreshMs: 0, masterRefreshRepeat: 1 },
    { manage_addresses: false },
  );
  const loudAcq = await loud.call('SIGUSR1', 'acquired');
  assert.ok(!(await addresses(lab, a)).some((x) => x.local === '10.99.0.110'));
  await sleep(300);
  assert.equal(await count(), held + 2, 'manage_addresses: false still announces');
  const last = (await cap.packets()).filter((p) => p.arp?.senderIp === '10.99.0.110').at(-1)!;
  t.diagnostic(
    `announce only: acquire() call to GARP on the wire: ${((last.tsMicros - (loudAcq.t0Us as number)) / 1000).toFixed(3)} ms`,
  );
  await loud.proc.stop();
  await cap.stop();
});

function naChecks(p: Packet, mac: string, vip: string): void {
  const f = p.frame;
  assert.equal(f.length, 86, 'NA frame length');
  assert.equal(p.ethDst, '33:33:00:00:00:01');
  assert.equal(p.ethSrc, mac);
  assert.equal(p.src, vip, 'IPv6 source is the VIP');
  assert.equal(p.dst, 'ff02::1');
  assert.equal(p.ttl, 255, 'hop limit');
  assert.equal(p.icmp6Type, 136);
  const icmp = f.subarray(54);
  assert.equal(icmp[4], 0x20, 'flags: override only (no router, not solicited)');
  assert.deepEqual(icmp.subarray(24, 26), Buffer.from([2, 1]), 'target link-layer address option');
  assert.deepEqual(icmp.subarray(26, 32), macBytes(mac));
  const pseudo = Buffer.alloc(40);
  f.copy(pseudo, 0, 22, 54); // src + dst
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo[39] = 58;
  assert.equal(inetChecksum(pseudo, icmp), 0, 'ICMPv6 checksum verifies');
}

test('garp: IPv6 VIP gets nodad and an unsolicited NA identical to keepalived 2.2.7 (apart from MAC)', async (t) => {
  if (!requireNetns(t)) return;
  const lab = await createLab(['a', 'c', 'k']);
  t.after(() => lab.cleanup());
  const a = lab.nodes.a!;
  const c = lab.nodes.c!;
  const k = lab.nodes.k!;
  const cap = await startCapture(lab, c, { filter: 'icmp6 and ip6[40] == 136' });
  t.after(() => removeCaptureDir(cap));

  // keepalived's NA for fd99::200: it becomes master alone after ~3 s and sends one burst.
  const ka = await startKeepalived(
    lab,
    k,
    [
      'global_defs {',
      '  router_id k',
      '  vrrp_garp_master_delay 0',
      '  vrrp_garp_master_repeat 1',
      '}',
      'vrrp_instance VI_6 {',
      '  state MASTER',
      '  interface eth0',
      '  virtual_router_id 61',
      '  priority 150',
      '  advert_int 1',
      '  version 3',
      '  virtual_ipaddress {',
      '    fd99::200/64',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  await ka.waitForState('VI_6', 'MASTER', WAIT_MS);

  const drv = await startDriver(lab, a, [{ address: 'fd99::100', prefix: 64, family: 'ipv6' }], {
    masterDelayMs: 0,
    masterRepeat: 1,
    masterRefreshMs: 0,
    masterRefreshRepeat: 1,
  });
  const acq = await drv.call('SIGUSR1', 'acquired');
  const added = (await addresses(lab, a)).find((x) => x.local === 'fd99::100');
  assert.equal(added?.prefixlen, 64);
  assert.equal(added?.nodad, true, 'IPv6 VIP added with nodad');
  await sleep(500);
  const ping = await lab.exec(c.ns, ['ping', '-6', '-c', '1', '-W', '2', 'fd99::100'], { allowFail: true });
  assert.equal(ping.code, 0, `ping fd99::100 from c: ${ping.stdout}${ping.stderr}`);
  assert.equal(await neighbour(lab, c, 'fd99::100'), a.mac);

  await ka.stop();
  const packets = (await cap.stop()).map((p) => decodeFrame(p.frame, p.tsMicros));
  // Unsolicited ones only: a's kernel also answers c's neighbour solicitation for the ping.
  const unsolicited = packets.filter((p) => p.dst === 'ff02::1' && ((p.frame[58] ?? 0) & 0x40) === 0);
  const ours = unsolicited.filter((p) => p.ethSrc === a.mac);
  const theirs = unsolicited.filter((p) => p.ethSrc === k.mac && p.src === 'fd99::200');
  assert.equal(ours.length, 1, `NAs from a: ${ours.length}`);
  assert.ok(theirs.length >= 1, 'keepalived sent an NA');
  naChecks(ours[0]!, a.mac, 'fd99::100');
  naChecks(theirs[0]!, k.mac, 'fd99::200');
  t.diagnostic(
    `acquire() call to first NA on the wire: ${((ours[0]!.tsMicros - (acq.t0Us as number)) / 1000).toFixed(3)} ms`,
  );

  // Byte for byte: keepalived's frame with a's MAC and VIP (and so checksum) must be ours.
  const expected = Buffer.from(theirs[0]!.frame);
  macBytes(a.mac).copy(expected, 6);
  macBytes(a.mac).copy(expected, 80);
  const vipBytes = Buffer.from(ours[0]!.frame.subarray(22, 38));
  vipBytes.copy(expected, 22);
  vipBytes.copy(expected, 62);
  expected.writeUInt16BE(0, 56);
  const ck = Buffer.from(expected);
  const pseudo = Buffer.alloc(40);
  ck.copy(pseudo, 0, 22, 54);
  pseudo.writeUInt32BE(32, 32);
  pseudo[39] = 58;
  expected.writeUInt16BE(inetChecksum(pseudo, expected.subarray(54)), 56);
  assert.deepEqual(ours[0]!.frame, expected);
  await drv.call('SIGUSR2', 'released');
  assert.ok(!(await addresses(lab, a)).some((x) => x.local === 'fd99::100'), 'IPv6 VIP removed');
});
