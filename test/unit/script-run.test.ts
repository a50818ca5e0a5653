/**
 * One notify command run by the script provider, with real /bin/sh scripts: process-group kill on
 * timeout and abort (children included, also ones that ignore SIGTERM), output tails, start
 * failures, and keepalived's system() quoting for files without #!.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNotifyCommand, shellCommandLine, TAIL_BYTES } from '../../providers/script/run-script.js';

const dir = mkdtempSync(join(tmpdir(), 'floatip-script-run-'));
const started: number[] = [];
after(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

function script(name: string, body: string, shebang = true): string {
  const p = join(dir, name);
  writeFileSync(p, `${shebang ? '#!/bin/sh\n' : ''}${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

/** Alive and not a zombie (an orphan's zombie may linger where PID 1 does not reap). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function eventually(check: () => void, ms = 4000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      check();
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function pidsIn(file: string): number[] {
  if (!existsSync(file)) return [];
  const pids = readFileSync(file, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  started.push(...pids);
  return pids;
}

test('exit code, stdout and stderr tails are reported', async () => {
  const s = script('out.sh', 'echo "to stdout $1"; echo "to stderr" >&2; exit 7');
  const r = await runNotifyCommand({ argv: [s, 'x y'], shell: false, timeoutMs: 5000 });
  assert.deepEqual(r.outcome, { kind: 'exit', code: 7 });
  assert.equal(r.stdout, 'to stdout x y\n');
  assert.equal(r.stderr, 'to stderr\n');
  assert.ok(r.durationMs >= 0);
});

test('only the last TAIL_BYTES of a long output are kept', async () => {
  const s = script('long.sh', `head -c 100000 /dev/zero | tr '\\0' a; printf END`);
  const r = await runNotifyCommand({ argv: [s], shell: false, timeoutMs: 5000 });
  assert.deepEqual(r.outcome, { kind: 'exit', code: 0 });
  assert.equal(r.stdout.length, TAIL_BYTES);
  assert.ok(r.stdout.endsWith('aaEND'));
});

test('timeout: SIGTERM to the whole process group, no child survives', async () => {
  const pids = join(dir, 'timeout.pids');
  const s = script('spawner.sh', `sleep 30 & echo $! >> '${pids}'; sleep 30 & echo $! >> '${pids}'; wait`);
  const r = await runNotifyCommand({ argv: [s], shell: false, timeoutMs: 300 });
  assert.deepEqual(r.outcome, { kind: 'timeout' });
  assert.ok(r.pid !== undefined);
  const children = pidsIn(pids);
  assert.equal(children.length, 2);
  await eventually(() => {
    for (const pid of [r.pid as number, ...children]) assert.equal(alive(pid), false, `pid ${pid} survived`);
  });
});

test('a child that ignores SIGTERM is SIGKILLed after the grace period', async () => {
  const pids = join(dir, 'stubborn.pids');
  // SIG_IGN survives exec, so this sleep really ignores SIGTERM.
  const s = script('stubborn.sh', `(trap '' TERM; exec sleep 30) & echo $! >> '${pids}'; wait`);
  const r = await runNotifyCommand({ argv: [s], shell: false, timeoutMs: 200, killGraceMs: 300 });
  assert.deepEqual(r.outcome, { kind: 'timeout' });
  const [child] = pidsIn(pids);
  assert.ok(child !== undefined);
  await eventually(() => assert.equal(alive(child), false, `pid ${child} survived SIGKILL`));
});

test('abort kills the process group and reports aborted', async () => {
  const pids = join(dir, 'abort.pids');
  const s = script('abortme.sh', `sleep 30 & echo $! >> '${pids}'; wait`);
  const ac = new AbortController();
  const run = runNotifyCommand({ argv: [s], shell: false, timeoutMs: 30_000, signal: ac.signal });
  await eventually(() => assert.equal(pidsIn(pids).length, 1));
  ac.abort(new Error('newer transition'));
  const r = await run;
  assert.deepEqual(r.outcome, { kind: 'aborted' });
  const [child] = pidsIn(pids);
  await eventually(() => {
    assert.equal(alive(r.pid as number), false);
    assert.equal(alive(child as number), false);
  });
});

test('an already aborted signal starts nothing', async () => {
  const marker = join(dir, 'never-ran');
  const s = script('never.sh', `touch '${marker}'`);
  const ac = new AbortController();
  ac.abort();
  const r = await runNotifyCommand({ argv: [s], shell: false, timeoutMs: 5000, signal: ac.signal });
  assert.deepEqual(r.outcome, { kind: 'aborted' });
  assert.equal(r.pid, undefined);
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(existsSync(marker), false);
});

test('a background child holding stdout does not hold up the result', async () => {
  const pids = join(dir, 'bg.pids');
  const s = script('bg.sh', `sleep 30 & echo $! >> '${pids}'; echo done`);
  const t0 = Date.now();
  const r = await runNotifyCommand({ argv: [s], shell: false, timeoutMs: 10_000 });
  assert.deepEqual(r.outcome, { kind: 'exit', code: 0 });
  assert.equal(r.stdout, 'done\n');
  assert.ok(Date.now() - t0 < 5000, 'waited for the background child');
  // keepalived leaves a notify script's background children alone after it exits; so does floatip.
  const [child] = pidsIn(pids);
  assert.equal(alive(child as number), true);
  process.kill(child as number, 'SIGKILL');
});

test('killed by a signal is reported as such', async () => {
  const s = script('selfkill.sh', 'kill -USR1 $$');
  const r = await runNotifyCommand({ argv: [s], shell: false, timeoutMs: 5000 });
  assert.deepEqual(r.outcome, { kind: 'signal', signal: 'SIGUSR1' });
});

test("a file that cannot be exec'd is a spawn error, not a crash", async () => {
  const r = await runNotifyCommand({ argv: [join(dir, 'missing.sh')], shell: false, timeoutMs: 5000 });
  assert.equal(r.outcome.kind, 'spawn-error');
  assert.equal(r.outcome.kind === 'spawn-error' && r.outcome.code, 'ENOENT');
});

test("shell mode: keepalived's cmd_str quoting, metacharacters stay literal", async () => {
  assert.equal(shellCommandLine(['/x/y', 'a b', '$HOME', ';']), `'/x/y' 'a b' '$HOME' ';'`);
  assert.equal(shellCommandLine(['>/tmp/f', 'x']), `>/tmp/f 'x'`);
  const out = join(dir, 'noshebang.out');
  const s = script('noshebang', `printf '%s|' "$@" > '${out}'`, false);
  const r = await runNotifyCommand({
    argv: [s, 'a b', '$HOME', ';', 'INSTANCE'],
    shell: true,
    timeoutMs: 5000,
  });
  assert.deepEqual(r.outcome, { kind: 'exit', code: 0 });
  assert.equal(readFileSync(out, 'utf8'), 'a b|$HOME|;|INSTANCE|');
});
