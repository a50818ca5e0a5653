/**
 * floatip against real keepalived 2.2.7 on one L2 segment, in both roles. Correctness (who is
 * master, what is on the wire, what each side counts) is asserted strictly; takeover times are
 * measured from the capture, printed, and only checked against generous bounds.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, floatipArgv, requireNetns, type Lab, type LabNode, type LabProcess } from './harness.js';
import {
  adverts,
  measureTakeover,
  removeCaptureDir,
  startCapture,
  type Capture,
  type Packet,
} from './capture.js';
import {
  KEEPALIVED_PACKET_COMPLAINTS,
  renderFixture,
  startKeepalived,
  type Keepalived,
} from './keepalived.js';

type State = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';
const INSTANCE = 'VI_1';

/** Counters both daemons can report, in floatip's (= keepalived's vrrp_stats) names. */
interface Counts {
  advert_rcvd: number;
  advert_sent: number;
  become_master: number;
  pri_zero_rcvd: number;
  pri_zero_sent: number;
  auth_failure: number;
  /** Every error counter, by name (non-zero ones are what a test looks at). */
  errors: Record<string, number>;
}

/** One VRRP speaker in the lab, whichever implementation it is. */
interface Peer {
  kind: 'floatip' | 'keepalived';
  label: string;
  node: LabNode;
  mark(): number;
  state(): State | undefined;
  waitForState(state: State, timeoutMs: number, since?: number): Promise<void>;
  freeze(): void;
  thaw(): void;
  stop(): Promise<number | null>;
  counts(): Promise<Counts>;
  lines(): string[];
}

// ---------------------------------------------------------------------------------------------
// floatip as a lab process, driven by its contract: pino JSON on stdout, SIGUSR2 → stats file.

interface FloatipLine {
  event?: string;
  instance?: string;
  from?: string;
  to?: string;
}

function parseJsonLine(line: string): FloatipLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as FloatipLine;
  } catch {
    return undefined;
  }
}

const FLOATIP_ERROR_COUNTERS = ['invalid_authtype', 'authtype_mismatch', 'auth_failure', 'src_not_peer'];

async function startFloatip(lab: Lab, node: LabNode, config: string): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), `${lab.id}-fip-${node.name}-`));
  const confPath = join(dir, 'keepalived.conf');
  const statsPath = join(dir, 'floatip.stats.json');
  writeFileSync(confPath, config);
  const label = `floatip@${node.name}`;
  const proc: LabProcess = lab.spawn(node.ns, floatipArgv('run', '-f', confPath, '--stats-file', statsPath), {
    label,
  });
  void proc.exited.then(() => rmSync(dir, { recursive: true, force: true }));
  await proc.waitForLine((l) => parseJsonLine(l)?.event === 'ready', 30000);
  let frozen = false;
  const transitions = (since: number): FloatipLine[] =>
    proc
      .lines()
      .slice(since)
      .map(parseJsonLine)
      .filter((j): j is FloatipLine => j?.event === 'transition' && j.instance === INSTANCE);
  const tail = (): string => proc.lines().slice(-20).join('\n');
  return {
    kind: 'floatip',
    label,
    node,
    mark: () => proc.lines().length,
    state: () => transitions(0).pop()?.to as State | undefined,
    async waitForState(state, timeoutMs, since = 0) {
      const end = Date.now() + timeoutMs;
      while (!transitions(since).some((j) => j.to === state)) {
        if (Date.now() > end)
          throw new Error(
            `${label}: ${INSTANCE} did not become ${state} within ${timeoutMs} ms; last output:\n${tail()}`,
          );
        await sleep(20);
      }
    },
    freeze() {
      proc.signal('SIGSTOP');
      frozen = true;
    },
    thaw() {
      proc.signal('SIGCONT');
      frozen = false;
    },
    async stop() {
      if (frozen) proc.signal('SIGCONT');
      const t0 = Date.now();
      const code = await proc.stop(3000);
      const took = Date.now() - t0;
      // The contract: SIGTERM → priority-0 advert and exit 0 within 1 s (slack for a busy CI box).
      assert.ok(took < 1500, `${label}: SIGTERM to exit took ${took} ms; last output:\n${tail()}`);
      return code;
    },
    async counts() {
      if (frozen) throw new Error(`${label}: counts() while frozen; thaw() first`);
      const m = proc.lines().length;
      proc.signal('SIGUSR2');
      await proc.waitForLine(
        (l) => parseJsonLine(l)?.event === 'stats-written' && proc.lines().indexOf(l) >= m,
        3000,
      );
      const json = JSON.parse(readFileSync(statsPath, 'utf8')) as {
        instances?: Record<string, Record<string, number>>;
      };
      const c = json.instances?.[INSTANCE];
      if (!c)
        throw new Error(
          `${label}: stats file ${statsPath} has no instance ${INSTANCE}: ${JSON.stringify(json)}`,
        );
      const errors: Record<string, number> = {};
      for (const [k, v] of Object.entries(c))
        if (k.endsWith('_err') || FLOATIP_ERROR_COUNTERS.includes(k)) errors[k] = v;
      for (const k of [
        'advert_rcvd',
        'advert_sent',
        'become_master',
        'pri_zero_rcvd',
        'pri_zero_sent',
        'auth_failure',
      ]) {
        if (typeof c[k] !== 'number')
          throw new Error(`${label}: stats file lacks counter ${k}: ${JSON.stringify(c)}`);
      }
      return {
        advert_rcvd: c.advert_rcvd!,
        advert_sent: c.advert_sent!,
        become_master: c.become_master!,
        pri_zero_rcvd: c.pri_zero_rcvd!,
        pri_zero_sent: c.pri_zero_sent!,
        auth_failure: c.auth_failure!,
        errors,
      };
    },
    lines: () => proc.lines(),
  };
}

// ---------------------------------------------------------------------------------------------
// keepalived behind the same interface.

function keepalivedPeer(ka: Keepalived): Peer {
  return {
    kind: 'keepalived',
    label: ka.proc.label,
    node: ka.node,
    mark: () => ka.mark(),
    state: () => ka.state(INSTANCE),
    waitForState: async (state, timeoutMs, since) => {
      await ka.waitForState(INSTANCE, state, timeoutMs, since);
    },
    freeze: () => ka.freeze(),
    thaw: () => ka.thaw(),
    stop: () => ka.stop(),
    async counts() {
      const s = (await ka.stats())[INSTANCE];
      if (!s) throw new Error(`${ka.proc.label}: stats have no instance ${INSTANCE}`);
      return {
        advert_rcvd: s.advertisements.received,
        advert_sent: s.advertisements.sent,
        become_master: s.becameMaster,
        pri_zero_rcvd: s.priorityZero.received,
        pri_zero_sent: s.priorityZero.sent,
        auth_failure: s.authenticationErrors.failure,
        errors: {
          packet_len_err: s.packetErrors.length,
          ip_ttl_err: s.packetErrors.ttl,
          invalid_type_rcvd: s.packetErrors.invalidType,
          advert_interval_err: s.packetErrors.advertisementInterval,
          addr_list_err: s.packetErrors.addressList,
          invalid_authtype: s.authenticationErrors.invalidType,
          authtype_mismatch: s.authenticationErrors.typeMismatch,
          auth_failure: s.authenticationErrors.failure,
        },
      };
    },
    lines: () => ka.proc.lines(),
  };
}

// ---------------------------------------------------------------------------------------------
// Scenario plumbing.

type Direction = 'floatip-master' | 'keepalived-master';
const DIRECTIONS: Direction[] = ['floatip-master', 'keepalived-master'];
const HIGH = 150;
const LOW = 100;

interface Fixture {
  file: string;
  intervalSec: number;
  version: 2 | 3;
  vrid: number;
  ipv6?: boolean;
  vips: string[];
  dst?: string;
}

const V2_UNICAST: Fixture = {
  file: 'v2-unicast.conf',
  intervalSec: 1,
  version: 2,
  vrid: 51,
  vips: ['10.99.0.100', '10.99.0.101'],
};
const V3_UNICAST: Fixture = {
  file: 'v3-unicast.conf',
  intervalSec: 0.5,
  version: 3,
  vrid: 52,
  vips: ['10.99.0.110', '10.99.0.111'],
};
const V3_MCAST: Fixture = {
  file: 'v3-multicast.conf',
  intervalSec: 1,
  version: 3,
  vrid: 53,
  vips: ['10.99.0.120'],
  dst: '224.0.0.18',
};
const V6_MCAST: Fixture = {
  file: 'v3-ipv6-multicast.conf',
  intervalSec: 1,
  version: 3,
  vrid: 54,
  ipv6: true,
  vips: ['fd99::100'],
  dst: 'ff02::12',
};

/** keepalived's Skew_Time: v2 (256 − prio)/256 s; v3 scaled by the advert interval. */
const skew = (f: Fixture, prio: number): number =>
  ((256 - prio) / 256) * (f.version === 3 ? f.intervalSec : 1);
const masterDown = (f: Fixture, prio: number): number => 3 * f.intervalSec + skew(f, prio);

interface Row {
  scenario: string;
  direction: string;
  kind: string;
  formula: number;
  measured: number;
}
const rows: Row[] = [];

after(() => {
  if (rows.length === 0) return;
  const table = [
    ['scenario', 'new master', 'fault', 'formula s', 'measured s', 'diff ms'],
    ...rows.map((r) => [
      r.scenario,
      r.direction,
      r.kind,
      r.formula.toFixed(3),
      r.measured.toFixed(3),
      ((r.measured - r.formula) * 1000).toFixed(0),
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  console.log('takeover times measured on the wire (first advert of the new master − fault):');
  for (const row of table) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface Opts {
  state: 'MASTER' | 'BACKUP';
  priority: number;
  authPass?: string;
  extra?: string;
}

/** The source address adverts from this node carry: unicast_src / eth0 IPv4, or its link-local. */
async function advertSrc(lab: Lab, node: LabNode, f: Fixture): Promise<string> {
  if (!f.ipv6) return node.addr4;
  const r = await lab.exec(node.ns, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link']);
  const m = /inet6 (fe80::[0-9a-f:]+)\//.exec(r.stdout);
  if (!m) throw new Error(`${node.ns}: no link-local address on eth0: ${r.stdout}`);
  return m[1]!;
}

function render(f: Fixture, me: LabNode, peer: LabNode, o: Opts): string {
  return renderFixture(f.file, {
    ROUTER_ID: `lab-${me.name}`,
    STATE: o.state,
    PRIORITY: o.priority,
    SRC: me.addr4,
    PEER: peer.addr4,
    AUTH_PASS: o.authPass ?? 'secretpw9',
    EXTRA: o.extra ?? '',
  });
}

async function startPeer(
  lab: Lab,
  kind: Peer['kind'],
  me: LabNode,
  other: LabNode,
  f: Fixture,
  o: Opts,
): Promise<Peer> {
  const conf = render(f, me, other, o);
  return kind === 'floatip'
    ? startFloatip(lab, me, conf)
    : keepalivedPeer(await startKeepalived(lab, me, conf));
}

/** A lab with floatip on node a and keepalived on node b, a capture on b, and cleanup that always runs. */
async function withLab(
  f: Fixture,
  body: (ctx: { lab: Lab; fip: LabNode; ka: LabNode; cap: Capture; peers: Peer[] }) => Promise<void>,
): Promise<void> {
  const lab = await createLab(['a', 'b'], { ipv6: f.ipv6 ?? false });
  const peers: Peer[] = [];
  let cap: Capture | undefined;
  let ok = false;
  try {
    cap = await startCapture(lab, lab.nodes.b!);
    await body({ lab, fip: lab.nodes.a!, ka: lab.nodes.b!, cap, peers });
    ok = true;
  } catch (err) {
    for (const p of peers) console.log(`--- last output of ${p.label}:\n${p.lines().slice(-15).join('\n')}`);
    throw err;
  } finally {
    for (const p of peers) await p.stop().catch(() => undefined);
    if (cap) {
      await cap.stop().catch(() => undefined);
      if (ok) removeCaptureDir(cap);
      else console.log(`capture kept at ${cap.file} (tcpdump -r FILE -nn -tt)`);
    }
    await lab.cleanup();
  }
}

/** Start master-to-be and backup-to-be; wait until the election settled as intended. */
async function elect(
  lab: Lab,
  f: Fixture,
  d: Direction,
  fip: LabNode,
  ka: LabNode,
  peers: Peer[],
  extra: Partial<Opts> = {},
): Promise<{ master: Peer; backup: Peer; masterConf: () => Promise<Peer> }> {
  const fipIsMaster = d === 'floatip-master';
  const fipOpts: Opts = {
    state: fipIsMaster ? 'MASTER' : 'BACKUP',
    priority: fipIsMaster ? HIGH : LOW,
    ...extra,
  };
  const kaOpts: Opts = {
    state: fipIsMaster ? 'BACKUP' : 'MASTER',
    priority: fipIsMaster ? LOW : HIGH,
    ...extra,
  };
  const [pf, pk] = await Promise.all([
    startPeer(lab, 'floatip', fip, ka, f, fipOpts),
    startPeer(lab, 'keepalived', ka, fip, f, kaOpts),
  ]);
  peers.push(pf, pk);
  const master = fipIsMaster ? pf : pk;
  const backup = fipIsMaster ? pk : pf;
  await master.waitForState('MASTER', 15000);
  // The backup may have been master for a moment if it started first; it must end in BACKUP.
  await backup.waitForState('BACKUP', 5000);
  await sleep(Math.max(1500, 3000 * f.intervalSec));
  assert.equal(master.state(), 'MASTER', `${master.label} should be master`);
  assert.equal(backup.state(), 'BACKUP', `${backup.label} should be backup`);
  const restart = (): Promise<Peer> =>
    fipIsMaster
      ? startPeer(lab, 'floatip', fip, ka, f, fipOpts)
      : startPeer(lab, 'keepalived', ka, fip, f, kaOpts);
  return { master, backup, masterConf: restart };
}

/** Steady state: only the master advertises, at its interval. */
function assertSteady(
  packets: Packet[],
  f: Fixture,
  master: string,
  backup: string,
  from: number,
  to: number,
): void {
  const window = adverts(packets, { vrid: f.vrid }).filter((p) => p.t >= from && p.t <= to);
  const fromBackup = window.filter((p) => p.src === backup);
  assert.deepEqual(
    fromBackup.map((p) => p.t),
    [],
    `backup ${backup} advertised while ${master} was master`,
  );
  const fromMaster = window.filter((p) => p.src === master);
  const expected = (to - from) / f.intervalSec;
  assert.ok(
    fromMaster.length >= Math.floor(expected) - 1 && fromMaster.length <= Math.ceil(expected) + 1,
    `master ${master} sent ${fromMaster.length} adverts in ${(to - from).toFixed(2)} s at interval ${f.intervalSec}`,
  );
  for (let i = 1; i < fromMaster.length; i++) {
    const gap = fromMaster[i]!.t - fromMaster[i - 1]!.t;
    assert.ok(
      Math.abs(gap - f.intervalSec) < 0.25,
      `advert gap ${gap.toFixed(3)} s from ${master}, expected ${f.intervalSec}`,
    );
  }
}

/** Wire facts every advert of floatip must satisfy (keepalived's are checked too, as a control). */
function assertWire(packets: Packet[], f: Fixture, srcs: string[]): void {
  const ads = adverts(packets, { vrid: f.vrid });
  for (const src of srcs) {
    const mine = ads.filter((p) => p.src === src);
    assert.ok(mine.length > 0, `no adverts from ${src} in the capture`);
    for (const p of mine) {
      const where = `advert from ${p.src} at ${p.t.toFixed(3)}`;
      assert.equal(p.ttl, 255, `${where}: TTL/hop limit`);
      assert.equal(p.vrrp.version, f.version, `${where}: version`);
      assert.equal(p.vrrp.type, 1, `${where}: type`);
      assert.ok(
        p.vrrp.checksumOk,
        `${where}: checksum 0x${p.vrrp.checksum.toString(16)} does not verify against dst ${p.dst}`,
      );
      assert.deepEqual(p.vrrp.addresses, f.vips, `${where}: address list`);
      assert.equal(p.vrrp.intervalSec, f.intervalSec, `${where}: interval`);
      if (f.dst) assert.equal(p.dst, f.dst, `${where}: destination`);
      if (f.ipv6) assert.match(p.src!, /^fe80::/, `${where}: IPv6 adverts come from the link-local address`);
      if (f.version === 2) {
        assert.equal(p.vrrp.authType, 1, `${where}: PASS auth`);
        assert.equal(
          p.vrrp.authData?.toString('latin1'),
          'secretpw',
          `${where}: password truncated to 8 bytes`,
        );
      }
      if (f.version === 3 && !f.ipv6 && !f.dst) {
        // Unicast v3: the pseudo-header must carry the real destination, not 224.0.0.18.
        assert.equal(p.vrrp.checksumOkWithMcastDst, false, `${where}: checksum computed over 224.0.0.18`);
      }
    }
  }
}

/** No error counters on keepalived's side caused by floatip, and none on floatip's side either. */
async function assertCleanStats(peers: Peer[]): Promise<void> {
  for (const p of peers) {
    const c = await p.counts();
    const bad = Object.entries(c.errors).filter(([, v]) => v !== 0);
    assert.deepEqual(bad, [], `${p.label} error counters: ${JSON.stringify(c)}`);
    assert.ok(c.advert_rcvd + c.advert_sent > 0, `${p.label} counted no adverts: ${JSON.stringify(c)}`);
    if (p.kind === 'keepalived') {
      assert.deepEqual(
        p.lines().filter((l) => KEEPALIVED_PACKET_COMPLAINTS.test(l)),
        [],
        `${p.label} complained about received packets`,
      );
    }
  }
}

async function gracefulTakeover(
  name: string,
  f: Fixture,
  d: Direction,
  cap: Capture,
  master: Peer,
  backup: Peer,
  masterSrc: string,
  backupSrc: string,
): Promise<void> {
  const since = Date.now() / 1000;
  const mark = backup.mark();
  assert.equal(await master.stop(), 0, `${master.label} exit code after SIGTERM`);
  await backup.waitForState('MASTER', 5000, mark);
  await sleep(300);
  const tk = measureTakeover(await cap.packets(), {
    from: masterSrc,
    to: backupSrc,
    since,
    kind: 'graceful',
    vrid: f.vrid,
  });
  const formula = skew(f, LOW);
  rows.push({
    scenario: name,
    direction: d === 'floatip-master' ? 'keepalived' : 'floatip',
    kind: 'graceful (≈Skew)',
    formula,
    measured: tk.delay,
  });
  assert.ok(
    tk.delay > formula - 0.3 && tk.delay < formula + 1,
    `graceful takeover ${tk.delay.toFixed(3)} s, Skew_Time ${formula.toFixed(3)} s`,
  );
}

// ---------------------------------------------------------------------------------------------
// The cases.

for (const d of DIRECTIONS) {
  void test(`v2 unicast, PASS auth (${d}): election, graceful stop, preempt back, freeze, thaw, clean stats`, async (t) => {
    if (!requireNetns(t)) return;
    const f = V2_UNICAST;
    await withLab(f, async ({ lab, fip, ka, cap, peers }) => {
      const elected = await elect(lab, f, d, fip, ka, peers);
      const { backup, masterConf } = elected;
      let master = elected.master;
      const mSrc = master.node.addr4;
      const bSrc = backup.node.addr4;
      const now = Date.now() / 1000;
      await sleep(3000);
      assertSteady(await cap.packets(), f, mSrc, bSrc, now, Date.now() / 1000);

      await gracefulTakeover('v2 unicast', f, d, cap, master, backup, mSrc, bSrc);
      assert.ok((await backup.counts()).pri_zero_rcvd >= 1, `${backup.label} counted the priority-0 advert`);

      // The higher priority returns and preempts.
      let mark = backup.mark();
      const old = master;
      master = await masterConf();
      peers.splice(peers.indexOf(old), 1, master);
      await master.waitForState('MASTER', 15000);
      await backup.waitForState('BACKUP', 5000, mark);
      await sleep(1500);
      assert.equal(backup.state(), 'BACKUP');

      // Hard failure: the master freezes; the backup takes over after Master_Down_Interval.
      const since = Date.now() / 1000;
      mark = backup.mark();
      master.freeze();
      await backup.waitForState('MASTER', 8000, mark);
      await sleep(300);
      const hard = measureTakeover(await cap.packets(), {
        from: mSrc,
        to: bSrc,
        since,
        kind: 'hard',
        vrid: f.vrid,
      });
      const formula = masterDown(f, LOW);
      rows.push({
        scenario: 'v2 unicast',
        direction: backup.kind,
        kind: 'hard (≈Master_Down)',
        formula,
        measured: hard.delay,
      });
      assert.ok(
        hard.delay > formula - 0.3 && hard.delay < formula + 1,
        `hard takeover ${hard.delay.toFixed(3)} s, Master_Down ${formula.toFixed(3)} s`,
      );

      // Thawed, the higher priority master asserts itself again and the other side backs off.
      mark = backup.mark();
      master.thaw();
      await backup.waitForState('BACKUP', 5000, mark);
      await sleep(2000);
      assert.equal(master.state(), 'MASTER');
      assert.equal(backup.state(), 'BACKUP');

      assertWire(await cap.packets(), f, [fip.addr4, ka.addr4]);
      await assertCleanStats(peers);
    });
  });
}

for (const d of DIRECTIONS) {
  void test(`v3 unicast, 0.5 s (${d}): real-destination checksums both ways, graceful takeover`, async (t) => {
    if (!requireNetns(t)) return;
    const f = V3_UNICAST;
    await withLab(f, async ({ lab, fip, ka, cap, peers }) => {
      const { master, backup } = await elect(lab, f, d, fip, ka, peers);
      const now = Date.now() / 1000;
      await sleep(2000);
      assertSteady(await cap.packets(), f, master.node.addr4, backup.node.addr4, now, Date.now() / 1000);
      await assertCleanStats(peers);
      await gracefulTakeover(
        'v3 unicast 0.5s',
        f,
        d,
        cap,
        master,
        backup,
        master.node.addr4,
        backup.node.addr4,
      );
      await sleep(1000);
      assertWire(await cap.packets(), f, [fip.addr4, ka.addr4]);
      await assertCleanStats([backup]);
    });
  });
}

for (const d of DIRECTIONS) {
  void test(`v3 multicast 224.0.0.18 (${d}): election, graceful takeover`, async (t) => {
    if (!requireNetns(t)) return;
    const f = V3_MCAST;
    await withLab(f, async ({ lab, fip, ka, cap, peers }) => {
      const { master, backup } = await elect(lab, f, d, fip, ka, peers);
      const now = Date.now() / 1000;
      await sleep(2000);
      assertSteady(await cap.packets(), f, master.node.addr4, backup.node.addr4, now, Date.now() / 1000);
      await assertCleanStats(peers);
      await gracefulTakeover('v3 multicast', f, d, cap, master, backup, master.node.addr4, backup.node.addr4);
      await sleep(1000);
      assertWire(await cap.packets(), f, [fip.addr4, ka.addr4]);
      await assertCleanStats([backup]);
    });
  });
}

for (const d of DIRECTIONS) {
  void test(`IPv6 v3 multicast ff02::12 (${d}): link-local sources, election, graceful takeover`, async (t) => {
    if (!requireNetns(t)) return;
    const f = V6_MCAST;
    await withLab(f, async ({ lab, fip, ka, cap, peers }) => {
      const fipSrc = await advertSrc(lab, fip, f);
      const kaSrc = await advertSrc(lab, ka, f);
      const { master, backup } = await elect(lab, f, d, fip, ka, peers);
      const mSrc = master.kind === 'floatip' ? fipSrc : kaSrc;
      const bSrc = master.kind === 'floatip' ? kaSrc : fipSrc;
      const now = Date.now() / 1000;
      await sleep(2000);
      assertSteady(await cap.packets(), f, mSrc, bSrc, now, Date.now() / 1000);
      await assertCleanStats(peers);
      await gracefulTakeover('v3 IPv6 multicast', f, d, cap, master, backup, mSrc, bSrc);
      await sleep(1000);
      assertWire(await cap.packets(), f, [fipSrc, kaSrc]);
      await assertCleanStats([backup]);
    });
  });
}

for (const d of DIRECTIONS) {
  // d names who holds the higher priority; with nopreempt it must not take over from a running master.
  void test(`nopreempt (${d === 'floatip-master' ? 'floatip' : 'keepalived'} has the higher priority): stays backup`, async (t) => {
    if (!requireNetns(t)) return;
    const f = V2_UNICAST;
    await withLab(f, async ({ lab, fip, ka, cap, peers }) => {
      const fipHigh = d === 'floatip-master';
      const opts = (high: boolean): Opts => ({
        state: 'BACKUP',
        priority: high ? HIGH : LOW,
        extra: 'nopreempt',
      });
      // The lower priority starts alone and becomes master.
      const low = fipHigh
        ? await startPeer(lab, 'keepalived', ka, fip, f, opts(false))
        : await startPeer(lab, 'floatip', fip, ka, f, opts(false));
      peers.push(low);
      await low.waitForState('MASTER', 15000);
      const high = fipHigh
        ? await startPeer(lab, 'floatip', fip, ka, f, opts(true))
        : await startPeer(lab, 'keepalived', ka, fip, f, opts(true));
      peers.push(high);
      await high.waitForState('BACKUP', 5000);
      const from = Date.now() / 1000;
      // Longer than Master_Down: a preempting or deaf node would have taken over by now.
      await sleep((masterDown(f, HIGH) + 2) * 1000);
      assert.equal(high.state(), 'BACKUP', `${high.label} (priority ${HIGH}, nopreempt) must stay backup`);
      assert.equal(low.state(), 'MASTER', `${low.label} must stay master`);
      assertSteady(await cap.packets(), f, low.node.addr4, high.node.addr4, from, Date.now() / 1000);
      await assertCleanStats(peers);
    });
  });
}

void test('auth mismatch (v2 PASS, different passwords): rejected and counted on both sides, both become master', async (t) => {
  if (!requireNetns(t)) return;
  const f = V2_UNICAST;
  await withLab(f, async ({ lab, fip, ka, cap, peers }) => {
    const pf = await startPeer(lab, 'floatip', fip, ka, f, {
      state: 'BACKUP',
      priority: HIGH,
      authPass: 'floatpw1',
    });
    const pk = await startPeer(lab, 'keepalived', ka, fip, f, {
      state: 'BACKUP',
      priority: LOW,
      authPass: 'secretpw9',
    });
    peers.push(pf, pk);
    await pf.waitForState('MASTER', 15000);
    await pk.waitForState('MASTER', 15000);
    await sleep(3000);
    assert.equal(pf.state(), 'MASTER');
    assert.equal(pk.state(), 'MASTER');
    const cf = await pf.counts();
    const ck = await pk.counts();
    assert.ok(
      cf.auth_failure > 0,
      `floatip must count keepalived's adverts as auth failures: ${JSON.stringify(cf)}`,
    );
    assert.ok(
      ck.auth_failure > 0,
      `keepalived must count floatip's adverts as auth failures: ${JSON.stringify(ck)}`,
    );
    assert.ok(pk.lines().some((l) => /received an invalid passwd/.test(l)));
    // Rejected before any other check: nothing else is counted as an error on either side.
    for (const [who, c] of [
      ['floatip', cf],
      ['keepalived', ck],
    ] as const) {
      const other = Object.entries(c.errors).filter(([k, v]) => k !== 'auth_failure' && v !== 0);
      assert.deepEqual(other, [], `${who} counted other errors: ${JSON.stringify(c)}`);
    }
    const ads = adverts(await cap.packets(), { vrid: f.vrid });
    const fipPw = ads.find((p) => p.src === fip.addr4)?.vrrp.authData?.toString('latin1');
    assert.equal(fipPw, 'floatpw1');
  });
});
