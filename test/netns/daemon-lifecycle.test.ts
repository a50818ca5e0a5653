/**
 * `floatip run` as an operator drives it: SIGUSR2 stats, SIGHUP with a broken file (reported with
 * file:line:col, old config kept, no failover), SIGHUP with priority edits (applied in place, state
 * kept, as keepalived does), SIGTERM (priority 0,
 * exit 0 within 1 s). Two floatip nodes on a lab bridge, VRRPv3 unicast at 100 ms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, floatipArgv, requireNetns, type LabProcess } from './harness.js';

function yamlConfig(opts: { priority: number; src: string; peer: string }): string {
  return `instances:
  - name: VI_1
    interface: eth0
    vrid: 61
    priority: ${opts.priority}
    advert_interval: 100ms
    version: 3
    unicast:
      source: ${opts.src}
      peers: [${opts.peer}]
    virtual_ips: [10.99.0.100/16]
`;
}

interface LogLine {
  event?: string;
  time: number;
  to?: string;
  reason?: string;
  msg?: string;
}

function events(p: LabProcess, event: string): LogLine[] {
  return p
    .lines()
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine)
    .filter((o) => o.event === event);
}

async function stats(p: LabProcess, file: string): Promise<Record<string, Record<string, number | string>>> {
  const before = events(p, 'stats-written').length;
  p.signal('SIGUSR2');
  await p.waitForLine(() => events(p, 'stats-written').length > before, 5000);
  return (
    JSON.parse(readFileSync(file, 'utf8')) as { instances: Record<string, Record<string, number | string>> }
  ).instances;
}

const isTransitionTo =
  (to: string, after = 0) =>
  (l: string) => {
    if (!l.startsWith('{')) return false;
    const o = JSON.parse(l) as LogLine;
    return o.event === 'transition' && o.to === to && o.time >= after;
  };

test('floatip run: stats, reload with a broken file, reload with a change, SIGTERM', async (t) => {
  if (!requireNetns(t)) return;
  const lab = await createLab(['a', 'b'], { ipv6: false });
  const dir = mkdtempSync(join(tmpdir(), 'floatip-lifecycle-'));
  t.after(async () => {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const A = lab.nodes.a!;
  const B = lab.nodes.b!;
  const confA = join(dir, 'a.yaml');
  const confB = join(dir, 'b.yaml');
  writeFileSync(confA, yamlConfig({ priority: 150, src: A.addr4, peer: B.addr4 }));
  writeFileSync(confB, yamlConfig({ priority: 100, src: B.addr4, peer: A.addr4 }));
  const statsA = join(dir, 'a.stats');
  const statsB = join(dir, 'b.stats');
  const a = lab.spawn(A.ns, floatipArgv('run', '-f', confA, '--stats-file', statsA, '--no-pretty'), {
    label: 'a',
  });
  const b = lab.spawn(B.ns, floatipArgv('run', '-f', confB, '--stats-file', statsB, '--no-pretty'), {
    label: 'b',
  });

  await a.waitForLine(isTransitionTo('MASTER'), 15_000);
  await b.waitForLine(isTransitionTo('BACKUP'), 15_000);
  await new Promise((r) => setTimeout(r, 500));

  // Stats: A is master and sending; B receives A's adverts with no errors.
  const sa = (await stats(a, statsA)).VI_1!;
  const sb = (await stats(b, statsB)).VI_1!;
  assert.equal(sa.state, 'MASTER');
  assert.ok((sa.advert_sent as number) >= 3, `A sent ${sa.advert_sent} adverts`);
  assert.equal(sb.state, 'BACKUP');
  assert.ok((sb.advert_rcvd as number) >= 3, `B received ${sb.advert_rcvd} adverts`);
  for (const k of ['packet_len_err', 'checksum_err', 'addr_list_err', 'auth_failure', 'src_not_peer']) {
    assert.equal(sb[k], 0, `B counted ${k}`);
  }

  // A broken file: reported with file:line:col, the old config keeps running, no failover.
  writeFileSync(
    confA,
    yamlConfig({ priority: 150, src: A.addr4, peer: B.addr4 }).replace('vrid: 61', 'vrid: 300'),
  );
  const hupAt = Date.now();
  a.signal('SIGHUP');
  await a.waitForLine((l) => l.includes('"reload-rejected"'), 5000);
  const diag = events(a, 'config-diagnostic').map((d) => d.msg ?? '');
  assert.ok(
    diag.some((m) => m.startsWith(`${confA}:4:11:`) && m.includes('vrid')),
    `expected a diagnostic at ${confA}:4:11 about vrid, got:\n${diag.join('\n')}`,
  );
  await new Promise((r) => setTimeout(r, 1000));
  const sentBefore = sa.advert_sent as number;
  const sa2 = (await stats(a, statsA)).VI_1!;
  assert.equal(sa2.state, 'MASTER', 'A must keep running its old config');
  assert.ok((sa2.advert_sent as number) > sentBefore + 5, 'A must keep advertising');
  assert.equal(
    events(b, 'transition').filter((x) => x.time >= hupAt).length,
    0,
    'a rejected reload must not cause a failover',
  );

  // A valid change that keeps A above B: reloaded in place, A stays MASTER, no failover.
  writeFileSync(confA, yamlConfig({ priority: 120, src: A.addr4, peer: B.addr4 }));
  const hup2 = Date.now();
  a.signal('SIGHUP');
  await a.waitForLine((l) => l.includes('"reloaded"'), 5000);
  await new Promise((r) => setTimeout(r, 1000));
  const sa3 = (await stats(a, statsA)).VI_1!;
  assert.equal(sa3.state, 'MASTER');
  assert.equal(sa3.priority, 120);
  assert.equal(events(a, 'transition').filter((x) => x.time >= hup2).length, 0, 'A must not restart');
  assert.equal(events(b, 'transition').filter((x) => x.time >= hup2).length, 0, 'B must not take over');
  assert.equal((await stats(b, statsB)).VI_1!.pri_zero_rcvd, 0, 'A must not have said priority 0');

  // Below B: still no restart. A's next adverts carry 90, B (preempt) ignores them and takes over
  // after Master_Down, and A yields to B's higher-priority advert, as after a keepalived reload.
  writeFileSync(confA, yamlConfig({ priority: 90, src: A.addr4, peer: B.addr4 }));
  const hup3 = Date.now();
  a.signal('SIGHUP');
  await a.waitForLine((l) => l.includes('"reloaded"'), 5000);
  await b.waitForLine(isTransitionTo('MASTER', hup3), 5000);
  const yielded = await a.waitForLine(isTransitionTo('BACKUP', hup3), 5000);
  assert.equal((JSON.parse(yielded) as LogLine).reason, 'higher-priority-advert');
  assert.equal((await stats(a, statsA)).VI_1!.priority, 90);
  assert.equal((await stats(b, statsB)).VI_1!.pri_zero_rcvd, 0);

  // SIGTERM on the master: priority 0 out, exit 0 within 1 s; A takes over after Skew.
  const termAt = Date.now();
  b.signal('SIGTERM');
  const code = await b.exited;
  const tookMs = Date.now() - termAt;
  assert.equal(code, 0);
  assert.ok(tookMs < 1500, `SIGTERM to exit took ${tookMs} ms`);
  const line = await a.waitForLine(isTransitionTo('MASTER', termAt), 5000);
  assert.equal((JSON.parse(line) as LogLine).reason, 'priority-zero-received');
  await a.stop();
});
