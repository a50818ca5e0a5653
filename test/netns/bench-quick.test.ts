/**
 * `npm run bench -- --quick` end to end, so the benchmark cannot rot: it must complete, clean up
 * its namespaces, and produce tables with numbers in them. Timings are not asserted (CI machines
 * are loaded and noisy); the full run is a manual step (docs/performance.md).
 * Also unit checks of the pieces whose mistakes would silently skew a table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireNetns } from './harness.js';
import { PcapFollower } from '../../scripts/bench/pcap-follow.js';
import { percentile, summarize } from '../../scripts/bench/stats.js';
import { detectionRows, detectionTable, footprintTable } from '../../scripts/bench/report.js';
import type { Trial } from '../../scripts/bench/detection.js';
import type { FootprintRow } from '../../scripts/bench/footprint.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

void test('stats: nearest-rank p95, median of even and odd counts', () => {
  const twenty = Array.from({ length: 20 }, (_, i) => i + 1);
  assert.equal(percentile(twenty, 0.95), 19);
  assert.equal(percentile([5], 0.95), 5);
  const s = summarize([3, 1, 2, 10]);
  assert.deepEqual(s, { n: 4, median: 2.5, p95: 10, max: 10, min: 1 });
  assert.equal(summarize([])?.median, undefined);
});

void test('report: missing GARP reads "n/a — no GARP seen", ratio only when both sides have numbers', () => {
  const cfg = { name: 'v3 advert_int 0.1', version: 3 as const, advertInt: 0.1 };
  const trial = (impl: 'floatip' | 'keepalived', advert: number, garp?: number, client?: number): Trial => ({
    config: cfg.name,
    impl,
    fault: 'graceful',
    index: 0,
    ok: true,
    advert,
    ...(garp === undefined ? {} : { garp }),
    ...(client === undefined ? {} : { client }),
  });
  const rows = detectionRows(
    [
      trial('floatip', 0.07),
      trial('keepalived', 0.06, 0.065, 0.07),
      trial('floatip', 0.05),
      trial('keepalived', 0.06, 0.07, 0.08),
    ],
    [cfg],
    ['graceful'],
    () => 0.0609,
  );
  assert.equal(rows.length, 3);
  const [advert, garp, client] = rows;
  assert.ok(Math.abs(advert!.floatip!.median - 0.06) < 1e-12);
  assert.ok(Math.abs(advert!.ratio! - 1) < 1e-9);
  assert.equal(garp!.floatip, undefined);
  assert.equal(garp!.missing.floatip, 'n/a — no GARP seen');
  assert.equal(garp!.ratio, undefined);
  assert.equal(client!.missing.floatip, 'n/a — no GARP seen');
  assert.equal(client!.keepalived!.max, 0.08);
  const table = detectionTable(rows);
  assert.match(table, /\| 60\.9 \| 60\.0 \| 70\.0 \| 70\.0 \| 60\.0 \| 60\.0 \| 60\.0 \| 1\.00 \|/);
  assert.match(table, /n\/a — no GARP seen \| – \| – \| 67\.5/);
});

void test('report: footprint pairs floatip and keepalived per row and never divides by a zero CPU reading', () => {
  const row = (impl: 'floatip' | 'keepalived', cpuPercent: number, rssMiB: number): FootprintRow => ({
    instances: 10,
    advertInt: 1,
    impl,
    role: 'master',
    windowSec: 20,
    cpuPercent,
    cpuSec: (cpuPercent * 20) / 100,
    rssMiB,
    peakRssMiB: rssMiB,
    settled: 10,
  });
  const t = footprintTable([row('floatip', 0.5, 70), row('keepalived', 0, 14)]);
  assert.match(t, /\| 10 \| 1 \| master \| 70\.0 \| 14\.0 \| 5\.0 \| 0\.50 \| 0\.00 \| > 10 \|/);
  assert.doesNotMatch(t, /Infinity|NaN/);
});

void test('pcap follower: a record written in two pieces is read once, whole, on the second poll', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-pcap-'));
  try {
    const file = join(dir, 'x.pcap');
    const global = Buffer.alloc(24);
    global.writeUInt32LE(0xa1b2c3d4, 0);
    global.writeUInt16LE(2, 4);
    global.writeUInt16LE(4, 6);
    global.writeUInt32LE(65535, 16);
    global.writeUInt32LE(1, 20);
    const frame = Buffer.alloc(60);
    frame.fill(0xff, 0, 6);
    frame.writeUInt16BE(0x0806, 12);
    const rec = (sec: number, usec: number): Buffer => {
      const h = Buffer.alloc(16);
      h.writeUInt32LE(sec, 0);
      h.writeUInt32LE(usec, 4);
      h.writeUInt32LE(frame.length, 8);
      h.writeUInt32LE(frame.length, 12);
      return Buffer.concat([h, frame]);
    };
    const f = new PcapFollower(file);
    assert.equal(f.poll().length, 0, 'no file yet');
    const r1 = rec(100, 250);
    const r2 = rec(101, 0);
    writeFileSync(file, Buffer.concat([global, r1, r2.subarray(0, 20)]));
    assert.deepEqual(
      f.poll().map((p) => p.tsMicros),
      [100_000_250],
    );
    appendFileSync(file, r2.subarray(20));
    assert.deepEqual(
      f.poll().map((p) => p.t),
      [100.00025, 101],
    );
    f.forgetBefore(100.5);
    assert.equal(f.poll().length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('npm run bench -- --quick: completes, prints both tables with numbers, writes JSON, leaves no namespaces', async (t) => {
  if (!requireNetns(t)) return;
  if (spawnSync('keepalived', ['--version']).error) {
    if (process.env.CI === 'true')
      throw new Error('bench: keepalived must be installed in CI (apt-get install keepalived)');
    t.skip('keepalived is not installed');
    return;
  }
  const out = mkdtempSync(join(tmpdir(), 'bench-quick-'));
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench.ts', '--quick', '--out', out], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGTERM'), 8 * 60_000);
    const code = await new Promise<number | null>((r) => child.on('close', r));
    clearTimeout(killer);
    assert.equal(code, 0, `bench --quick exited with ${code}; stderr:\n${stderr.slice(-3000)}`);

    const lines = stdout.split('\n');
    const advertRows = lines.filter((l) => l.includes("new master's first advert"));
    assert.equal(advertRows.length, 6, `3 configs × 2 faults; got:\n${stdout}`);
    for (const r of advertRows) {
      const cells = r.split('|').map((c) => c.trim());
      // | config | fault | until | formula | f median | p95 | max | k median | p95 | max | ratio |
      for (const i of [4, 5, 8, 9, 11])
        assert.match(cells[i]!, /^\d+(\.\d+)?$/, `cell ${i} of "${r}" should be a number`);
    }
    // keepalived adds the VIP and sends GARP: its client column must have numbers.
    for (const r of lines.filter((l) => l.includes("client's first TCP connect"))) {
      assert.match(r.split('|')[8]!.trim(), /^\d+(\.\d+)?$/, `keepalived client cell in "${r}"`);
    }
    const fpRows = lines.filter((l) => /^\| (1|10|100) \| (1|0\.1) \| (master|backup) \|/.test(l));
    assert.equal(fpRows.length, 12, `3 counts × 2 intervals × 2 roles; got:\n${stdout}`);
    for (const r of fpRows) {
      const cells = r.split('|').map((c) => c.trim());
      for (const i of [4, 5, 7, 8]) assert.match(cells[i]!, /^\d+\.\d+$/, `cell ${i} of "${r}"`);
    }
    // | mechanism | N | latency | trials | request median | p95 | max | confirmed median | p95 | max | calls |
    const cloudRows = lines.filter((l) => /^\| (eip|route) \(/.test(l));
    assert.equal(cloudRows.length, 2, `one eip and one route row (latency 0, N = 1); got:\n${stdout}`);
    for (const r of cloudRows) {
      const cells = r.split('|').map((c) => c.trim());
      assert.equal(cells[2], '1', `N of "${r}"`);
      assert.equal(cells[4], '1', `one successful trial in "${r}"`);
      for (const i of [5, 8]) assert.match(cells[i]!, /^\d+\.\d$/, `cell ${i} of "${r}"`);
      // One mutation per failover; its read-backs (floatip's and the holder policy's) come after.
      assert.match(cells[11]!, /^1 \+ [1-9]/, `calls of "${r}"`);
    }
    assert.match(stdout, /keepalived v2\.2\.7/);

    const json = readdirSync(out).find((f) => f.endsWith('.json'));
    assert.ok(json, `no JSON written to ${out}`);
    const doc = JSON.parse(readFileSync(join(out, json), 'utf8')) as {
      detection: { trials: { ok: boolean }[] };
      footprint: unknown[];
      cloud: { trials: { ok: boolean }[] };
    };
    assert.equal(doc.detection.trials.length, 12);
    assert.equal(doc.footprint.length, 24);
    assert.equal(doc.cloud.trials.length, 2);

    const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    assert.doesNotMatch(left, new RegExp(`fiplab-${child.pid}-`), 'the bench left namespaces behind');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
