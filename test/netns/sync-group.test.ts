/**
 * vrrp_sync_group on the wire: two instances (VI_1, VI_2 on eth0) in one sync group on each node,
 * keepalived.conf syntax on both sides.
 *
 *  - floatip ↔ real keepalived 2.2.7: a fault on VI_2 only (a track_file on the floatip node)
 *    puts both floatip instances in FAULT, keepalived takes both; clearing it, floatip takes both
 *    back (preempt). The group's generic notify sees `GROUP G1 STATE 0` once per group change.
 *  - floatip ↔ floatip: a member whose peer is better on one VRID only is held in BACKUP (wants
 *    MASTER, never gets it); the group goes MASTER together; a member beaten by a better master
 *    takes the other to BACKUP (reason sync-group).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, floatipArgv, requireNetns, type Lab, type LabNode, type LabProcess } from './harness.js';
import { startKeepalived, type Keepalived } from './keepalived.js';

const VIP1 = '10.99.0.161';
const VIP2 = '10.99.0.162';

interface Prio {
  vi1: number;
  vi2: number;
}

/** The same file for floatip and keepalived; `trackFile` and `notify` only where given. */
function conf(
  me: LabNode,
  peer: LabNode,
  prio: Prio,
  o: { trackFile?: string; notify?: string; vrid?: number } = {},
): string {
  const vrid = o.vrid ?? 61;
  const instance = (name: string, id: number, p: number, vip: string, extra: string): string => `
vrrp_instance ${name} {
  state BACKUP
  interface eth0
  virtual_router_id ${id}
  priority ${p}
  advert_int 1
  unicast_src_ip ${me.addr4}
  unicast_peer {
    ${peer.addr4}
  }
  virtual_ipaddress {
    ${vip}/16
  }
  ${extra}
}
`;
  return `global_defs {
  router_id lab-${me.name}
}
${o.trackFile ? `vrrp_track_file f_vi2 {\n  file ${o.trackFile}\n  weight 0\n}\n` : ''}
vrrp_sync_group G1 {
  group {
    VI_1
    VI_2
  }
  ${o.notify ? `notify ${o.notify}` : ''}
}
${instance('VI_1', vrid, prio.vi1, VIP1, '')}
${instance('VI_2', vrid + 1, prio.vi2, VIP2, o.trackFile ? 'track_file {\n    f_vi2\n  }' : '')}
`;
}

interface Line {
  event?: string;
  instance?: string;
  group?: string;
  from?: string;
  to?: string;
  reason?: string;
}

function parsed(p: LabProcess, since = 0): Line[] {
  const out: Line[] = [];
  for (const l of p.lines().slice(since)) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as Line);
    } catch {
      // a script's output that looks like JSON
    }
  }
  return out;
}

function transitions(p: LabProcess, instance: string, since = 0): Line[] {
  return parsed(p, since).filter((j) => j.event === 'transition' && j.instance === instance);
}

function stateOf(p: LabProcess, instance: string): string | undefined {
  return transitions(p, instance).pop()?.to;
}

async function waitFor(what: string, p: LabProcess, cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) {
      throw new Error(
        `${p.label}: ${what} within ${timeoutMs} ms failed; output:\n${p.lines().slice(-12).join('\n')}`,
      );
    }
    await sleep(50);
  }
}

const waitBoth = (p: LabProcess, state: string, timeoutMs: number): Promise<void> =>
  waitFor(
    `VI_1 and VI_2 ${state}`,
    p,
    () => stateOf(p, 'VI_1') === state && stateOf(p, 'VI_2') === state,
    timeoutMs,
  );

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function startFloatip(lab: Lab, node: LabNode, dir: string, text: string, tag = node.name): LabProcess {
  const path = join(dir, `${tag}.conf`);
  writeFileSync(path, text);
  return lab.spawn(
    node.ns,
    floatipArgv('run', '-f', path, '--no-pretty', '--stats-file', join(dir, `${tag}.stats.json`)),
    { label: `floatip-${tag}` },
  );
}

async function setup(
  t: TestContext,
  tag: string,
): Promise<{ lab: Lab; dir: string; a: LabNode; b: LabNode }> {
  const lab = await createLab(['a', 'b'], { ipv6: false });
  const dir = mkdtempSync(join(tmpdir(), `floatip-sync-${tag}-`));
  t.after(async () => {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  return { lab, dir, a: lab.nodes.a!, b: lab.nodes.b! };
}

test(
  'sync group, floatip ↔ keepalived: a fault on one member moves both VIPs, and both come back',
  { timeout: 120_000 },
  async (t) => {
    if (!requireNetns(t)) return;
    const { lab, dir, a, b } = await setup(t, 'ka');
    const flag = join(dir, 'vi2.state');
    writeFileSync(flag, '0\n');
    const notify = join(dir, 'notify.sh');
    writeFileSync(notify, `#!/bin/sh\necho "$1 $2 $3 $4" >> ${dir}/notify.log\n`);
    chmodSync(notify, 0o755);

    let ka: Keepalived | undefined;
    let fip: LabProcess | undefined;
    try {
      ka = await startKeepalived(lab, b, conf(b, a, { vi1: 100, vi2: 100 }));
      await ka.waitForState('VI_1', 'MASTER', 15_000);
      await ka.waitForState('VI_2', 'MASTER', 15_000);

      const k00 = ka.mark();
      fip = startFloatip(lab, a, dir, conf(a, b, { vi1: 150, vi2: 150 }, { trackFile: flag, notify }));
      await waitBoth(fip, 'MASTER', 20_000);
      await ka.waitForState('VI_1', 'BACKUP', 5000, k00);
      await ka.waitForState('VI_2', 'BACKUP', 5000, k00);

      // The stats file names each member's group and the group state.
      const statsPath = join(dir, 'a.stats.json');
      const mark = fip.lines().length;
      fip.signal('SIGUSR2');
      await waitFor(
        'stats-written',
        fip,
        () => parsed(fip!, mark).some((j) => j.event === 'stats-written'),
        3000,
      );
      const stats = JSON.parse(readFileSync(statsPath, 'utf8')) as {
        instances: Record<string, { syncGroup?: string; groupState?: string }>;
        syncGroups: Record<string, { state: string; members: Record<string, { state: string }> }>;
      };
      assert.equal(stats.instances.VI_1?.syncGroup, 'G1');
      assert.equal(stats.instances.VI_2?.groupState, 'MASTER');
      assert.equal(stats.syncGroups.G1?.state, 'MASTER');
      assert.equal(stats.syncGroups.G1?.members.VI_1?.state, 'MASTER');

      // VI_2 fails on the floatip node only: both instances go FAULT, VI_2 first.
      const f0 = fip.lines().length;
      const k0 = ka.mark();
      const failed = Date.now();
      writeFileSync(flag, '1\n');
      await waitBoth(fip, 'FAULT', 10_000);
      const faults = parsed(fip, f0).filter((j) => j.event === 'transition' && j.to === 'FAULT');
      assert.deepEqual(
        faults.map((j) => `${j.instance} ${j.from}>${j.to}`),
        ['VI_2 MASTER>FAULT', 'VI_1 MASTER>FAULT'],
      );
      // keepalived heard priority 0 on both VRIDs: it takes over after Skew_Time, not Master_Down.
      await ka.waitForState('VI_1', 'MASTER', 10_000, k0);
      await ka.waitForState('VI_2', 'MASTER', 10_000, k0);
      const tookMs = Date.now() - failed;
      // File poll (1 s) + Skew (0.6 s) + slack; Master_Down alone would be 3.6 s after the poll.
      assert.ok(tookMs < 3500, `keepalived took ${tookMs} ms to become master of both`);

      // Cleared: both leave FAULT together and preempt keepalived together.
      const f1 = fip.lines().length;
      const k1 = ka.mark();
      writeFileSync(flag, '0\n');
      await waitBoth(fip, 'MASTER', 20_000);
      const back = parsed(fip, f1).filter((j) => j.event === 'transition');
      assert.deepEqual(
        back
          .map((j) => `${j.instance} ${j.from}>${j.to}`)
          .slice(0, 2)
          .sort(),
        ['VI_1 FAULT>BACKUP', 'VI_2 FAULT>BACKUP'],
      );
      assert.ok(
        back.some((j) => j.to === 'MASTER' && j.reason === 'sync-group'),
        'one member follows the other into MASTER',
      );
      await ka.waitForState('VI_1', 'BACKUP', 5000, k1);
      await ka.waitForState('VI_2', 'BACKUP', 5000, k1);

      // Group notify: one line per group state change, keepalived's GROUP convention (priority 0).
      await sleep(500);
      const groupLines = parsed(fip)
        .filter((j) => j.event === 'group-transition')
        .map((j) => j.to);
      assert.deepEqual(groupLines, ['BACKUP', 'MASTER', 'FAULT', 'BACKUP', 'MASTER']);
      await fip.stop();
      const log = existsSync(join(dir, 'notify.log'))
        ? readFileSync(join(dir, 'notify.log'), 'utf8').trim().split('\n')
        : [];
      assert.deepEqual(log, [
        'GROUP G1 BACKUP 0',
        'GROUP G1 MASTER 0',
        'GROUP G1 FAULT 0',
        'GROUP G1 BACKUP 0',
        'GROUP G1 MASTER 0',
        'GROUP G1 STOP 0',
      ]);
      fip = undefined;
    } catch (err) {
      if (fip) console.log(`--- floatip:\n${fip.lines().slice(-30).join('\n')}`);
      if (ka) console.log(`--- keepalived:\n${ka.proc.lines().slice(-30).join('\n')}`);
      throw err;
    } finally {
      await fip?.stop().catch(() => undefined);
      await ka?.stop().catch(() => undefined);
    }
  },
);

test(
  'sync group, floatip ↔ floatip: held while one member hears a better master; MASTER together; BACKUP together',
  { timeout: 120_000 },
  async (t) => {
    if (!requireNetns(t)) return;
    const { lab, dir, a, b } = await setup(t, 'fip');
    const procs: LabProcess[] = [];
    try {
      const pa = startFloatip(lab, a, dir, conf(a, b, { vi1: 150, vi2: 150 }, { vrid: 71 }));
      procs.push(pa);
      await waitBoth(pa, 'MASTER', 20_000);

      // b is better on VI_2 only: VI_2 wants MASTER, VI_1 hears a better master, so b takes nothing.
      const pb = startFloatip(lab, b, dir, conf(b, a, { vi1: 100, vi2: 200 }, { vrid: 71 }));
      procs.push(pb);
      await waitFor(
        'VI_2 wants MASTER',
        pb,
        () => parsed(pb).some((j) => j.event === 'want-master' && j.instance === 'VI_2'),
        15_000,
      );
      await sleep(5000);
      assert.equal(stateOf(pb, 'VI_1'), 'BACKUP');
      assert.equal(stateOf(pb, 'VI_2'), 'BACKUP');
      assert.equal(stateOf(pa, 'VI_1'), 'MASTER');
      assert.equal(stateOf(pa, 'VI_2'), 'MASTER');

      // a stops (priority 0 on both): b's members both want MASTER and go together.
      const b0 = pb.lines().length;
      await pa.stop();
      await waitBoth(pb, 'MASTER', 10_000);
      const up = transitions(pb, 'VI_1', b0).concat(transitions(pb, 'VI_2', b0));
      assert.deepEqual(up.map((j) => j.reason).sort(), ['priority-zero-received', 'sync-group']);

      // a comes back better on both: b's first member to hear it leaves MASTER and takes the other.
      const b1 = pb.lines().length;
      const pa2 = startFloatip(lab, a, dir, conf(a, b, { vi1: 150, vi2: 250 }, { vrid: 71 }), 'a2');
      procs.push(pa2);
      await waitBoth(pa2, 'MASTER', 20_000);
      await waitBoth(pb, 'BACKUP', 5000);
      const down = transitions(pb, 'VI_1', b1).concat(transitions(pb, 'VI_2', b1));
      assert.deepEqual(down.map((j) => j.reason).sort(), ['higher-priority-advert', 'sync-group']);
      const groups = parsed(pb, b1).filter((j) => j.event === 'group-transition');
      assert.deepEqual(
        groups.map((j) => `${j.from}>${j.to}`),
        ['MASTER>BACKUP'],
      );
    } catch (err) {
      for (const p of procs) console.log(`--- ${p.label}:\n${p.lines().slice(-30).join('\n')}`);
      throw err;
    } finally {
      for (const p of procs) await p.stop().catch(() => undefined);
    }
  },
);
