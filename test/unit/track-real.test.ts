/**
 * Trackers against real things: /bin/sh scripts, child processes, a local HTTP/TCP server on
 * 127.0.0.1. Timing is only ever waited for (eventually), never asserted tightly.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfigText } from '../../src/config/load.js';
import { formatDiagnostic } from '../../src/config/model.js';
import { TrackerSet } from '../../src/track/index.js';
import { runScript } from '../../src/track/script-exec.js';
import { eventually, instance, memoryLog, silentLog, trackConfig } from './track-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'floatip-track-real-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const upLinks = () => 'up' as const;

function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('real script: rise/fall hysteresis follows a state file', async () => {
  const state = join(dir, 'state');
  writeFileSync(state, 'ok');
  const chk = script('chk.sh', `[ "$(cat '${state}')" = ok ]`);
  const cfg = trackConfig({
    scripts: [{ name: 'chk', script: chk, intervalMs: 100, rise: 2, fall: 2, weight: 10 }],
    instances: [instance('VI', { trackScripts: [{ name: 'chk' }] })],
  });
  const set = new TrackerSet(cfg, { log: silentLog, readLink: upLinks });
  const deltas: number[] = [];
  set.onChange((_i, inputs) => deltas.push(inputs.delta));
  set.start();
  try {
    await set.firstResults();
    assert.equal(set.inputs('VI').delta, 10);
    writeFileSync(state, 'bad');
    await eventually(() => assert.equal(set.inputs('VI').delta, 0));
    writeFileSync(state, 'ok');
    await eventually(() => assert.equal(set.inputs('VI').delta, 10));
    assert.deepEqual(deltas, [10, 0, 10]);
    assert.match(set.status().find((s) => s.kind === 'script')?.detail ?? '', /exit status 0/);
  } finally {
    await set.stop();
  }
});

test('real script: argv is split like keepalived and exec-d without a shell', async () => {
  const out = join(dir, 'argv-out');
  const echo = script('argv.sh', `for a in "$@"; do printf '[%s]' "$a"; done > '${out}'`);
  const o = await runScript({ argv: [echo, 'a b', '$HOME', '*'], timeoutMs: 5000 });
  assert.deepEqual(o, { type: 'exit', code: 0 });
  assert.equal(readFileSync(out, 'utf8'), '[a b][$HOME][*]');
});

test('real script: timeout SIGKILLs the whole process group and counts as failure', async () => {
  const pidFile = join(dir, 'child.pid');
  const slow = script('slow.sh', `sleep 30 & echo $! > '${pidFile}'\nwait`);
  const o = await runScript({ argv: [slow], timeoutMs: 300 });
  assert.deepEqual(o, { type: 'timeout' });
  const child = Number(readFileSync(pidFile, 'utf8'));
  assert.ok(child > 0);
  await eventually(() => assert.equal(alive(child), false, `background child ${child} survived the timeout`));

  const cfg = trackConfig({
    scripts: [{ name: 'slow', script: slow, intervalMs: 1000, timeoutMs: 200 }],
    instances: [instance('VI', { trackScripts: [{ name: 'slow' }] })],
  });
  const set = new TrackerSet(cfg, { log: silentLog, readLink: upLinks });
  set.start();
  try {
    await set.firstResults();
    assert.deepEqual(set.inputs('VI').faults, ['script slow down']);
    assert.match(set.status().find((s) => s.kind === 'script')?.detail ?? '', /timed out after 200 ms/);
  } finally {
    await set.stop();
  }
});

test('real script: not found and not executable are failures with a clear log line', async () => {
  const noexec = join(dir, 'noexec.sh');
  writeFileSync(noexec, '#!/bin/sh\nexit 0\n');
  chmodSync(noexec, 0o644);
  const { log, lines } = memoryLog();
  const cfg = trackConfig({
    scripts: [
      { name: 'missing', script: join(dir, 'does-not-exist') },
      { name: 'noexec', script: noexec },
    ],
    instances: [instance('VI', { trackScripts: [{ name: 'missing' }, { name: 'noexec' }] })],
  });
  const set = new TrackerSet(cfg, { log, readLink: upLinks });
  set.start();
  try {
    await set.firstResults();
    assert.deepEqual(set.inputs('VI').faults, ['script missing down', 'script noexec down']);
    const msgs = lines.map((l) => l.msg).join('\n');
    assert.match(msgs, /script missing: .*does-not-exist not found; check the path/);
    // root may execute a 0644 file's check but execve still refuses it without any x bit.
    assert.match(msgs, /script noexec: .*noexec\.sh is not executable/);
  } finally {
    await set.stop();
  }
});

test('real script: stop() kills a running script', async () => {
  const pidFile = join(dir, 'stop.pid');
  const slow = script('stop.sh', `echo $$ > '${pidFile}'\nexec sleep 30`);
  const cfg = trackConfig({
    scripts: [{ name: 'slow', script: slow, intervalMs: 60_000 }],
    instances: [instance('VI', { trackScripts: [{ name: 'slow' }] })],
  });
  const set = new TrackerSet(cfg, { log: silentLog, readLink: upLinks });
  set.start();
  let pid = 0;
  await eventually(() => {
    pid = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(pid > 0);
  });
  await set.stop();
  await eventually(() => assert.equal(alive(pid), false));
});

test('real process: counted by comm, and by cmdline with exec -a and params', async () => {
  const id = randomBytes(3).toString('hex');
  const comm = `fk${id}`;
  const link = join(dir, comm);
  symlinkSync('/bin/sleep', link);
  const argv0 = `floatip-trk-${id}`;
  const cfg = trackConfig({
    processes: [
      { name: 'bycomm', process: comm, quorum: 2 },
      { name: 'byargs', process: argv0, params: '30', paramMatch: 'exact', weight: 7 },
      { name: 'wrongargs', process: argv0, params: '31', paramMatch: 'exact', weight: 100 },
    ],
    instances: [
      instance('VI', { trackProcesses: [{ name: 'bycomm' }, { name: 'byargs' }, { name: 'wrongargs' }] }),
    ],
  });
  const set = new TrackerSet(cfg, { log: silentLog, readLink: upLinks, pollMs: { process: 100 } });
  set.start();
  try {
    await set.firstResults();
    assert.deepEqual(set.inputs('VI'), { delta: 0, faults: ['process bycomm down'] });
    const a = spawn(link, ['30'], { stdio: 'ignore' });
    const b = spawn(link, ['30'], { stdio: 'ignore' });
    // bash, not sh: dash has no `exec -a`.
    const c = spawn('/bin/bash', ['-c', `exec -a ${argv0} sleep 30`], { stdio: 'ignore' });
    children.push(a, b, c);
    await eventually(() => assert.deepEqual(set.inputs('VI'), { delta: 7, faults: [] }));
    a.kill('SIGKILL');
    c.kill('SIGKILL');
    await eventually(() => assert.deepEqual(set.inputs('VI'), { delta: 0, faults: ['process bycomm down'] }));
    b.kill('SIGKILL');
  } finally {
    await set.stop();
  }
});

test('real http and tcp checks against 127.0.0.1', async () => {
  let status = 200;
  const http = createHttpServer((_req, res) => {
    res.statusCode = status;
    res.end('x');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const tcp = createTcpServer((s) => s.destroy());
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  const hport = (http.address() as AddressInfo).port;
  const tport = (tcp.address() as AddressInfo).port;
  const cfg = trackConfig({
    instances: [instance('VI', { trackScripts: [{ name: 'web' }, { name: 'db' }] })],
  });
  const set = new TrackerSet(
    cfg,
    { log: silentLog, readLink: upLinks },
    {
      http: [
        {
          name: 'web',
          url: `http://127.0.0.1:${hport}/health`,
          intervalMs: 100,
          weight: -20,
          weightReverse: false,
          rise: 1,
          fall: 2,
        },
      ],
      tcp: [
        {
          name: 'db',
          host: '127.0.0.1',
          port: tport,
          intervalMs: 100,
          weight: 0,
          weightReverse: false,
          rise: 1,
          fall: 1,
        },
      ],
    },
  );
  set.start();
  try {
    await set.firstResults();
    assert.deepEqual(set.inputs('VI'), { delta: 0, faults: [] });
    status = 503;
    await eventually(() => assert.equal(set.inputs('VI').delta, -20));
    assert.match(set.status().find((s) => s.name === 'web')?.detail ?? '', /HTTP 503, expected 200/);
    await new Promise<void>((r) => tcp.close(() => r()));
    await eventually(() => assert.deepEqual(set.inputs('VI').faults, ['tcp db down']));
    assert.match(set.status().find((s) => s.name === 'db')?.detail ?? '', /ECONNREFUSED/);
    status = 200;
    await eventually(() => assert.equal(set.inputs('VI').delta, 0));
  } finally {
    await set.stop();
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
  }
});

test('http_checks and tcp_checks from a YAML config reach the trackers (track.scripts names them)', async () => {
  let status = 200;
  const http = createHttpServer((_req, res) => {
    res.statusCode = status;
    res.end('x');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const hport = (http.address() as AddressInfo).port;
  const text = `
instances:
  - name: VI
    interface: lo
    vrid: 7
    virtual_ips: [10.99.0.100/32]
    track:
      scripts: [web, { name: db, weight: -5 }]
http_checks:
  web: { url: 'http://127.0.0.1:${hport}/health', interval: 100ms, weight: -20, fall: 2 }
tcp_checks:
  db: { host: 127.0.0.1, port: 1, interval: 100ms, timeout: 50ms }
`;
  const loaded = await loadConfigText(text, join(dir, 'checks.yaml'));
  assert.ok(loaded.config, loaded.diagnostics.map(formatDiagnostic).join('\n'));
  const set = new TrackerSet(loaded.config, { log: silentLog, readLink: upLinks });
  set.start();
  try {
    await set.firstResults();
    // Port 1 refuses: the tcp check is down and, with the instance's weight -5, lowers priority.
    assert.deepEqual(set.inputs('VI'), { delta: -5, faults: [] });
    status = 503;
    await eventually(() => assert.equal(set.inputs('VI').delta, -25));
  } finally {
    await set.stop();
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
  }
});
