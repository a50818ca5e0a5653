/**
 * The L2 job end to end: a client namespace keeps connecting to the VIP while the master is
 * frozen, comes back, and is stopped. After each failover the connection is answered by the new
 * master and the client's neighbour entry holds the new master's MAC (the GARP did its work).
 * Then the same with keepalived on one side, both ways.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCapture, type Packet } from './capture.js';
import { createLab, floatipArgv, requireNetns, type Lab, type LabNode, type LabProcess } from './harness.js';
import { renderFixture, startKeepalived } from './keepalived.js';
import { neighbourMac, startProber, startVipService } from './vip-client.js';

const VIP = '10.99.0.100';

function floatipConfig(me: LabNode, peer: LabNode, priority: number): string {
  return `instances:
  - name: VI_1
    interface: eth0
    vrid: 71
    priority: ${priority}
    advert_interval: 200ms
    version: 3
    unicast: { source: ${me.addr4}, peers: [${peer.addr4}] }
    virtual_ips: [${VIP}/16]
global:
  garp_master_delay: 1s
  garp_master_repeat: 2
`;
}

function transitionAt(p: LabProcess, to: string, sinceMs: number): number | null {
  for (const l of p.lines()) {
    if (!l.startsWith('{')) continue;
    const o = JSON.parse(l) as { event?: string; to?: string; time: number };
    if (o.event === 'transition' && o.to === to && o.time >= sinceMs) return o.time;
  }
  return null;
}

async function waitTransition(
  p: LabProcess,
  to: string,
  sinceMs: number,
  timeoutMs: number,
): Promise<number> {
  await p.waitForLine((l) => l.startsWith('{') && transitionAt(p, to, sinceMs) !== null, timeoutMs);
  return transitionAt(p, to, sinceMs)!;
}

function firstGarpFrom(packets: Packet[], mac: string, sinceMs: number): number | null {
  const g = packets.find(
    (p) =>
      p.arp && p.arp.op === 1 && p.arp.senderIp === VIP && p.arp.senderMac === mac && p.t * 1000 >= sinceMs,
  );
  return g ? g.t * 1000 : null;
}

function relative(t: number | null, from: number): number | null {
  return t === null ? null : t - from;
}

interface Row {
  scenario: string;
  toGarpMs: number | null;
  toConnectMs: number;
}

function printRows(title: string, rows: Row[]): void {
  console.log(
    `\n${title}\n| failover | transition → first GARP | transition → client connected |\n|---|---:|---:|`,
  );
  for (const r of rows) {
    console.log(
      `| ${r.scenario} | ${r.toGarpMs === null ? 'n/a' : `${r.toGarpMs.toFixed(1)} ms`} | ${r.toConnectMs} ms |`,
    );
  }
}

async function setup(t: import('node:test').TestContext): Promise<{ lab: Lab; dir: string }> {
  const lab = await createLab(['a', 'b', 'c'], { ipv6: false });
  const dir = mkdtempSync(join(tmpdir(), 'floatip-l2-'));
  t.after(async () => {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  return { lab, dir };
}

test('floatip pair: the VIP follows the master; the client reaches it and learns the new MAC', async (t) => {
  if (!requireNetns(t)) return;
  const { lab, dir } = await setup(t);
  const [A, B, C] = [lab.nodes.a!, lab.nodes.b!, lab.nodes.c!];
  await startVipService(lab, A, VIP);
  await startVipService(lab, B, VIP);
  const cap = await startCapture(lab, C, { filter: 'arp' });
  const start = (n: LabNode, peer: LabNode, prio: number): LabProcess => {
    const f = join(dir, `${n.name}.yaml`);
    writeFileSync(f, floatipConfig(n, peer, prio));
    return lab.spawn(n.ns, floatipArgv('run', '-f', f, '--no-pretty'), { label: `floatip-${n.name}` });
  };
  const a = start(A, B, 150);
  const b = start(B, A, 100);
  const probe = startProber(lab, C, VIP);
  const rows: Row[] = [];

  const t0 = Date.now() - 1;
  const aUp = await waitTransition(a, 'MASTER', t0, 15_000);
  await probe.firstAnswer('a', aUp, 10_000);
  assert.equal(await neighbourMac(lab, C, VIP), A.mac);

  // Hard failure: freeze a. a's kernel still holds the VIP and answers ARP, so only b's GARP
  // can move the client.
  const frozen = Date.now();
  a.signal('SIGSTOP');
  const bUp = await waitTransition(b, 'MASTER', frozen, 10_000);
  const bConn = await probe.firstAnswer('b', bUp, 10_000);
  assert.equal(await neighbourMac(lab, C, VIP), B.mac, 'client must send to the new master');
  rows.push({
    scenario: 'freeze master',
    toGarpMs: relative(firstGarpFrom(await cap.packets(), B.mac, bUp), bUp),
    toConnectMs: bConn - bUp,
  });

  // a comes back: it was MASTER when frozen and still is; b hears the higher priority and steps
  // down, a hears b's lower-priority advert and announces again, so the client follows.
  const thawed = Date.now();
  a.signal('SIGCONT');
  await waitTransition(b, 'BACKUP', thawed, 10_000);
  const aConn = await probe.firstAnswer('a', thawed, 10_000);
  assert.equal(await neighbourMac(lab, C, VIP), A.mac);
  rows.push({
    scenario: 'frozen master resumes (from SIGCONT)',
    toGarpMs: relative(firstGarpFrom(await cap.packets(), A.mac, thawed), thawed),
    toConnectMs: aConn - thawed,
  });
  const bAddrs = await lab.exec(B.ns, ['ip', '-j', 'addr', 'show', 'dev', 'eth0']);
  assert.ok(!bAddrs.stdout.includes(`"${VIP}"`), 'the backup must not keep the VIP');

  // Graceful stop: priority 0, b takes over after Skew_Time; a removes the VIP on the way out.
  const stopped = Date.now();
  a.signal('SIGTERM');
  const bUp2 = await waitTransition(b, 'MASTER', stopped, 10_000);
  assert.equal(await a.exited, 0);
  const bConn2 = await probe.firstAnswer('b', bUp2, 10_000);
  rows.push({
    scenario: 'graceful stop',
    toGarpMs: relative(firstGarpFrom(await cap.packets(), B.mac, bUp2), bUp2),
    toConnectMs: bConn2 - bUp2,
  });
  const aAddrs = await lab.exec(A.ns, ['ip', '-j', 'addr', 'show', 'dev', 'eth0']);
  assert.ok(!aAddrs.stdout.includes(`"${VIP}"`), 'a stopped floatip must not leave the VIP behind');
  await cap.stop();
  printRows('floatip pair, VRRPv3 200 ms adverts (transition = the new master’s log line)', rows);
  for (const r of rows) assert.ok(r.toGarpMs !== null, `${r.scenario}: no GARP from the new master`);
});

test('mixed pairs: the VIP moves between keepalived and floatip, both ways', async (t) => {
  if (!requireNetns(t)) return;
  const { lab, dir } = await setup(t);
  const [A, B, C] = [lab.nodes.a!, lab.nodes.b!, lab.nodes.c!];
  await startVipService(lab, A, VIP);
  await startVipService(lab, B, VIP);
  const probe = startProber(lab, C, VIP);
  const conf = (n: LabNode, peer: LabNode, prio: number, state: string) =>
    renderFixture('v2-unicast.conf', {
      ROUTER_ID: n.name,
      STATE: state,
      PRIORITY: prio,
      SRC: n.addr4,
      PEER: peer.addr4,
      AUTH_PASS: 'secretpw',
      EXTRA: '',
    });
  const floatip = (n: LabNode, peer: LabNode, prio: number): LabProcess => {
    const f = join(dir, `${n.name}.conf`);
    writeFileSync(f, conf(n, peer, prio, prio > 100 ? 'MASTER' : 'BACKUP'));
    return lab.spawn(n.ns, floatipArgv('run', '-f', f, '--no-pretty'), { label: `floatip-${n.name}` });
  };

  // keepalived master on a, floatip backup on b.
  let ka = await startKeepalived(lab, A, conf(A, B, 150, 'MASTER'));
  let fb = floatip(B, A, 100);
  await ka.waitForState('VI_1', 'MASTER', 15_000);
  await probe.firstAnswer('a', Date.now(), 10_000);
  let t1 = Date.now();
  await ka.stop();
  await waitTransition(fb, 'MASTER', t1, 10_000);
  await probe.firstAnswer('b', t1, 10_000);
  assert.equal(await neighbourMac(lab, C, VIP), B.mac, 'keepalived → floatip: client follows');
  t1 = Date.now();
  ka = await startKeepalived(lab, A, conf(A, B, 150, 'MASTER'));
  await ka.waitForState('VI_1', 'MASTER', 15_000);
  await waitTransition(fb, 'BACKUP', t1, 10_000);
  await probe.firstAnswer('a', t1, 10_000);
  assert.equal(await neighbourMac(lab, C, VIP), A.mac, 'floatip → keepalived: client follows');
  await ka.stop();
  await fb.stop();

  // floatip master on a, keepalived backup on b.
  const t2 = Date.now();
  const fa = floatip(A, B, 150);
  const kb = await startKeepalived(lab, B, conf(B, A, 100, 'BACKUP'));
  await waitTransition(fa, 'MASTER', t2, 15_000);
  await probe.firstAnswer('a', t2, 10_000);
  const t3 = Date.now();
  fa.signal('SIGTERM');
  await kb.waitForState('VI_1', 'MASTER', 10_000);
  await probe.firstAnswer('b', t3, 10_000);
  assert.equal(await neighbourMac(lab, C, VIP), B.mac, 'floatip → keepalived after a graceful stop');
  fb = floatip(A, B, 150);
  const t4 = Date.now();
  await waitTransition(fb, 'MASTER', t4, 15_000);
  await probe.firstAnswer('a', t4, 10_000);
  assert.equal(await neighbourMac(lab, C, VIP), A.mac, 'keepalived → floatip on preemption');
  await kb.stop();
  await fb.stop();
});
