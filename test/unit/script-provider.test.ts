/**
 * The script provider end to end with real /bin/sh scripts that append their argv, uid and an
 * environment variable to a log file: keepalived's per-state commands, the generic notify's
 * appended arguments, sync groups, the notify FIFO and its reader, refusals at prepare(), and
 * failures, timeouts and aborts surfacing as ProviderError.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  closeSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { FloatipConfig, GlobalSpec, NotifyCommands, SyncGroupSpec } from '../../src/config/model.js';
import { ProviderError, type ProviderContext, type TransitionNotice } from '../../src/notify/provider.js';
import { createScriptProvider, fifoLine, ScriptProvider } from '../../providers/script/index.js';
import { parseScriptOptions } from '../../providers/script/options.js';
import { instance } from './track-fixtures.js';

const isRoot = process.geteuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'floatip-script-provider-'));
chmodSync(dir, 0o755);
const providers: ScriptProvider[] = [];
after(() => {
  for (const p of providers) p.close();
  rmSync(dir, { recursive: true, force: true });
});
process.env.FLOATIP_SCRIPT_TEST = 'inherited';

let n = 0;
/** A script that appends `name|uid|$FLOATIP_SCRIPT_TEST|arg|arg...` to `log`. */
function recorder(name: string, log: string, extra = ''): string {
  const p = join(dir, `${name}-${n++}.sh`);
  writeFileSync(
    p,
    `#!/bin/sh\nline="${name}|$(id -u)|$FLOATIP_SCRIPT_TEST"\nfor a in "$@"; do line="$line|$a"; done\n` +
      `echo "$line" >> '${log}'\n${extra}\n`,
  );
  chmodSync(p, 0o755);
  return p;
}

function newLog(): string {
  const p = join(dir, `log-${n++}`);
  writeFileSync(p, '');
  chmodSync(p, 0o666);
  return p;
}

const lines = (log: string): string[] => readFileSync(log, 'utf8').split('\n').filter(Boolean);

function memoryLog(): { log: import('pino').Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'debug' },
    { write: (s: string) => void records.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { log, records };
}

function config(o: {
  notify?: NotifyCommands;
  global?: Partial<GlobalSpec>;
  syncGroups?: Pick<SyncGroupSpec, 'name' | 'members' | 'notify'>[];
}): FloatipConfig {
  const pos = { file: 'test', line: 1, col: 1 };
  return {
    file: 'test.conf',
    format: 'keepalived',
    global: {
      garpMasterDelayMs: 5000,
      garpMasterRepeat: 5,
      garpMasterRefreshMs: 0,
      garpMasterRefreshRepeat: 1,
      enableScriptSecurity: false,
      vrrpVersion: 2,
      extra: {},
      ...o.global,
    },
    instances: [instance('VI_1', { notify: o.notify ?? {} })],
    scripts: [],
    processes: [],
    files: [],
    syncGroups: (o.syncGroups ?? []).map((g) => ({
      trackScripts: [],
      trackInterfaces: [],
      trackProcesses: [],
      trackFiles: [],
      pos,
      ...g,
    })),
  };
}

function provider(
  cfg: FloatipConfig,
  o: { options?: Record<string, unknown>; log?: import('pino').Logger } = {},
): ScriptProvider {
  const ctx: ProviderContext = {
    instance: 'VI_1',
    interface: 'eth0',
    family: 'ipv4',
    virtualIps: [],
    options: o.options ?? {},
    garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1 },
    log: o.log ?? pino({ level: 'silent' }),
    config: cfg,
    spec: cfg.instances[0],
  };
  const p = createScriptProvider(ctx) as ScriptProvider;
  providers.push(p);
  return p;
}

const live = () => new AbortController().signal;
const inst = (state: TransitionNotice['state'], priority = 150): TransitionNotice => ({
  kind: 'INSTANCE',
  name: 'VI_1',
  state,
  priority,
});

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

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

test('contract: no permissions, no read-back, acquire/release do nothing', async () => {
  const p = provider(config({}));
  assert.equal(p.name, 'script');
  assert.deepEqual(p.permissions, []);
  await p.prepare();
  assert.equal(await p.holder(live()), null);
  await p.acquire(live());
  await p.release(live());
});

test('each state runs its own command with the argv as keepalived splits it, and the environment', async () => {
  const log = newLog();
  const uid = String(process.geteuid?.() ?? 0);
  const p = provider(
    config({
      notify: {
        master: `${recorder('master', log)} "quoted arg" plain`,
        backup: recorder('backup', log),
        fault: `${recorder('fault', log)} 'single q' esc\\ aped`,
        stop: recorder('stop', log),
      },
    }),
  );
  await p.prepare();
  for (const s of ['MASTER', 'BACKUP', 'FAULT', 'STOP'] as const) await p.onTransition(inst(s), live());
  assert.deepEqual(lines(log), [
    `master|${uid}|inherited|quoted arg|plain`,
    `backup|${uid}|inherited`,
    `fault|${uid}|inherited|single q|esc aped`,
    `stop|${uid}|inherited`,
  ]);
});

test('generic notify gets INSTANCE NAME STATE PRIORITY as separate, unquoted arguments', async () => {
  const log = newLog();
  const p = provider(config({ notify: { generic: `${recorder('notify', log)} first` } }));
  await p.onTransition(inst('MASTER', 150), live());
  await p.onTransition(inst('BACKUP', 100), live());
  await p.onTransition(inst('FAULT', 0), live());
  const uid = String(process.geteuid?.() ?? 0);
  assert.deepEqual(lines(log), [
    `notify|${uid}|inherited|first|INSTANCE|VI_1|MASTER|150`,
    `notify|${uid}|inherited|first|INSTANCE|VI_1|BACKUP|100`,
    `notify|${uid}|inherited|first|INSTANCE|VI_1|FAULT|0`,
  ]);
});

test('the state command and the generic one run together, as keepalived forks both without waiting', async () => {
  const log = newLog();
  const p = provider(
    config({
      notify: {
        master: recorder('slow-master', log, 'sleep 0.4; echo slow-done >> ' + log),
        generic: recorder('notify', log),
      },
    }),
  );
  await p.onTransition(inst('MASTER'), live());
  const got = lines(log).map((l) => l.split('|')[0]);
  assert.equal(got.at(-1), 'slow-done');
  assert.ok(
    got.indexOf('notify') < got.indexOf('slow-done'),
    `generic waited for notify_master: ${got.join(',')}`,
  );
});

test('a sync group: its own commands, and GROUP NAME STATE 0 for the generic one', async () => {
  const log = newLog();
  const cfg = config({
    notify: { master: recorder('inst-master', log) },
    syncGroups: [
      {
        name: 'G1',
        members: ['VI_1'],
        notify: { master: recorder('grp-master', log), generic: recorder('grp-notify', log) },
      },
      { name: 'OTHER', members: ['VI_9'], notify: { master: recorder('other', log) } },
    ],
  });
  const p = provider(cfg);
  await p.onTransition({ kind: 'GROUP', name: 'G1', state: 'MASTER', priority: 200 }, live());
  const got = lines(log).map((l) =>
    l
      .split('|')
      .filter((_, i) => i !== 1 && i !== 2)
      .join('|'),
  );
  assert.deepEqual(got.sort(), ['grp-master', 'grp-notify|GROUP|G1|MASTER|0']);
});

test('every run is logged with event, instance, state, argv, exit code and duration', async () => {
  const log = newLog();
  const m = memoryLog();
  const s = recorder('master', log);
  const p = provider(config({ notify: { master: `${s} x` } }), { log: m.log });
  await p.onTransition(inst('MASTER'), live());
  const rec = m.records.find((r) => r.event === 'notify-script');
  assert.ok(rec, 'no notify-script record');
  assert.equal(rec.instance, 'VI_1');
  assert.equal(rec.state, 'MASTER');
  assert.deepEqual(rec.argv, [s, 'x']);
  assert.equal(rec.exitCode, 0);
  assert.equal(typeof rec.durationMs, 'number');
  assert.ok(
    m.records.some(
      (r) => typeof r.msg === 'string' && r.msg.startsWith('SECURITY VIOLATION - scripts are being executed'),
    ),
  );
});

test('a non-zero exit surfaces as a non-retryable ProviderError with the status and stderr', async () => {
  const log = newLog();
  const s = recorder('master', log, 'echo "cannot reach the api" >&2; exit 4');
  const p = provider(config({ notify: { master: s } }));
  await assert.rejects(p.onTransition(inst('MASTER'), live()), (e: unknown) => {
    assert.ok(e instanceof ProviderError);
    assert.equal(e.retryable, false);
    assert.match(
      e.message,
      /notify_master of vrrp_instance VI_1 \(.*\) for INSTANCE VI_1 MASTER exited with status 4/,
    );
    assert.match(e.message, /stderr: cannot reach the api/);
    return true;
  });
  assert.equal(lines(log).length, 1, 'no retry');
});

test('timeout: the script and its children are killed and the error says so', async () => {
  const pids = join(dir, `pids-${n++}`);
  const s = recorder(
    'hang',
    newLog(),
    `sleep 30 & echo $! >> '${pids}'; sleep 30 & echo $! >> '${pids}'; wait`,
  );
  const p = provider(config({ notify: { backup: s } }), { options: { timeout: '300ms' } });
  await assert.rejects(
    p.onTransition(inst('BACKUP'), live()),
    /did not finish within 300 ms; its process group was killed/,
  );
  const children = readFileSync(pids, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  assert.equal(children.length, 2);
  await eventually(() => {
    for (const pid of children) assert.equal(alive(pid), false, `child ${pid} survived`);
  });
});

test('STOP commands use stop_timeout (keepalived kills them after 1 s)', async () => {
  const s = recorder('stop', newLog(), 'sleep 30');
  const p = provider(config({ notify: { stop: s } }), { options: { timeout: '30s', stop_timeout: '200ms' } });
  const t0 = Date.now();
  await assert.rejects(p.onTransition(inst('STOP'), live()), /did not finish within 200 ms/);
  assert.ok(Date.now() - t0 < 10_000);
  assert.equal(parseScriptOptions({}, 'VI_1').stopTimeoutMs, 1000);
  assert.equal(parseScriptOptions({}, 'VI_1').timeoutMs, 30_000);
});

test('aborting the signal kills the running scripts and rejects as cancelled', async () => {
  const pids = join(dir, `pids-${n++}`);
  const s = recorder('hang', newLog(), `sleep 30 & echo $! >> '${pids}'; wait`);
  const p = provider(config({ notify: { master: s, generic: s } }));
  const ac = new AbortController();
  const run = p.onTransition(inst('MASTER'), ac.signal);
  await eventually(() =>
    assert.equal(existsSync(pids) && readFileSync(pids, 'utf8').split(/\s+/).filter(Boolean).length, 2),
  );
  ac.abort(new Error('superseded by BACKUP'));
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof ProviderError);
    assert.equal(e.retryable, false);
    assert.match(e.message, /were cancelled \(superseded by BACKUP\)/);
    return true;
  });
  const children = readFileSync(pids, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  await eventually(() => {
    for (const pid of children) assert.equal(alive(pid), false, `child ${pid} survived the abort`);
  });
});

test("the FIFO gets keepalived's lines exactly; a created FIFO is removed at close", async () => {
  const fifo = join(dir, `fifo-${n++}`);
  const cfg = config({
    global: { notifyFifo: fifo },
    syncGroups: [{ name: 'G1', members: ['VI_1'], notify: {} }],
  });
  const p = provider(cfg);
  await p.prepare();
  assert.ok(statSync(fifo).isFIFO());
  assert.equal(statSync(fifo).mode & 0o777, 0o644 & ~process.umask());
  const rd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    await p.onTransition(inst('BACKUP', 100), live());
    await p.onTransition(inst('MASTER', 150), live());
    await p.onTransition({ kind: 'GROUP', name: 'G1', state: 'MASTER', priority: 150 }, live());
    await p.onTransition(inst('STOP', 150), live());
    const buf = Buffer.alloc(4096);
    const got = buf.subarray(0, readSync(rd, buf)).toString();
    assert.equal(
      got,
      'INSTANCE "VI_1" BACKUP 100\nINSTANCE "VI_1" MASTER 150\nGROUP "G1" MASTER 0\nINSTANCE "VI_1" STOP 150\n',
    );
  } finally {
    closeSync(rd);
  }
  assert.equal(fifoLine('INSTANCE', 'VI_1', 'FAULT', 0), 'INSTANCE "VI_1" FAULT 0\n');
  p.close();
  assert.equal(existsSync(fifo), false);
});

test('with no reader the FIFO never blocks a transition: lines beyond the pipe buffer are dropped', async () => {
  const fifo = join(dir, `fifo-${n++}`);
  const p = provider(config({ global: { notifyFifo: fifo } }));
  const t0 = Date.now();
  // ~27 bytes a line: 4000 lines overflow the 64 KiB pipe buffer.
  for (let i = 0; i < 4000; i++) await p.onTransition(inst(i % 2 ? 'MASTER' : 'BACKUP', 100), live());
  assert.ok(Date.now() - t0 < 20_000);
  p.close();
});

test('two instances share one FIFO; it stays open until the last provider closes', async () => {
  const fifo = join(dir, `fifo-${n++}`);
  const cfg = config({ global: { notifyFifo: fifo } });
  cfg.instances.push(instance('VI_2'));
  const a = provider(cfg);
  const b = createScriptProvider({
    ...ctxOf(cfg),
    instance: 'VI_2',
    spec: cfg.instances[1],
  }) as ScriptProvider;
  providers.push(b);
  await a.prepare();
  await b.prepare();
  const rd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    a.close();
    assert.ok(existsSync(fifo));
    await b.onTransition({ kind: 'INSTANCE', name: 'VI_2', state: 'MASTER', priority: 90 }, live());
    const buf = Buffer.alloc(256);
    assert.equal(buf.subarray(0, readSync(rd, buf)).toString(), 'INSTANCE "VI_2" MASTER 90\n');
  } finally {
    closeSync(rd);
  }
  b.close();
  assert.equal(existsSync(fifo), false);
});

function ctxOf(cfg: FloatipConfig): ProviderContext {
  return {
    instance: 'VI_1',
    interface: 'eth0',
    family: 'ipv4',
    virtualIps: [],
    options: {},
    garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1 },
    log: pino({ level: 'silent' }),
    config: cfg,
  };
}

test('notify_fifo_script is started with the FIFO path as its last argument, reads the lines, and is stopped at close', async () => {
  const fifo = join(dir, `fifo-${n++}`);
  const out = join(dir, `reader-out-${n++}`);
  const args = join(dir, `reader-args-${n++}`);
  const pidFile = join(dir, `reader-pid-${n++}`);
  const reader = join(dir, `reader-${n++}.sh`);
  writeFileSync(
    reader,
    `#!/bin/sh\necho $$ > '${pidFile}'\nprintf '%s|' "$@" > '${args}'\nwhile read -r line; do echo "$line" >> '${out}'; done < "$2"\n`,
  );
  chmodSync(reader, 0o755);
  const p = provider(config({ global: { notifyFifo: fifo, notifyFifoScript: `${reader} first` } }));
  await p.prepare();
  await eventually(() => assert.equal(readFileSync(args, 'utf8'), `first|${fifo}|`));
  await p.onTransition(inst('MASTER', 120), live());
  await eventually(() => assert.equal(readFileSync(out, 'utf8'), 'INSTANCE "VI_1" MASTER 120\n'));
  const pid = Number(readFileSync(pidFile, 'utf8'));
  assert.equal(alive(pid), true);
  p.close();
  await eventually(() => assert.equal(alive(pid), false, 'the reader outlived close()'));
});

test('an existing path that is not a FIFO is refused at prepare()', async () => {
  const file = join(dir, `plain-${n++}`);
  writeFileSync(file, '');
  const p = provider(config({ global: { notifyFifo: file } }));
  await assert.rejects(p.prepare(), /notify_fifo .*: exists and is not a FIFO/);
});

test('enable_script_security: an insecure notify script fails prepare() naming the file and the reason', async () => {
  const s = recorder('master', newLog());
  chmodSync(s, 0o777);
  const p = provider(
    config({ notify: { master: s }, global: { enableScriptSecurity: true, scriptUser: 'root' } }),
  );
  await assert.rejects(p.prepare(), (e: unknown) => {
    assert.ok(e instanceof ProviderError);
    assert.equal(e.retryable, false);
    assert.match(
      e.message,
      /^notify_master of vrrp_instance VI_1: unsafe permissions for script .*it is world-writable/,
    );
    assert.ok(e.message.includes(s));
    return true;
  });
  // The same script without script security: a warning, and it runs.
  const m = memoryLog();
  const q = provider(config({ notify: { master: s } }), { log: m.log });
  await q.onTransition(inst('MASTER'), live());
  assert.ok(
    m.records.some(
      (r) => typeof r.msg === 'string' && r.msg.startsWith('Unsafe permissions found for script'),
    ),
  );
  assert.ok(
    m.records.some((r) => typeof r.msg === 'string' && r.msg.endsWith('There are insecure scripts.')),
  );
});

test('enable_script_security without script_user and without keepalived_script fails prepare()', async (t) => {
  const { lookupUser } = await import('../../src/track/users.js');
  if (lookupUser('keepalived_script')) return t.skip('this machine has a keepalived_script user');
  const p = provider(config({ notify: { master: '/bin/true' }, global: { enableScriptSecurity: true } }));
  await assert.rejects(p.prepare(), /default script user keepalived_script does not exist/);
});

test('a missing notify script fails prepare(), naming the command', async () => {
  const p = provider(config({ notify: { fault: join(dir, 'gone.sh') } }));
  await assert.rejects(
    p.prepare(),
    /^ProviderError: notify_fault of vrrp_instance VI_1: script .*gone\.sh cannot be accessed/,
  );
});

test(
  'script_user: commands run with that uid',
  { skip: isRoot ? false : 'needs root to switch users' },
  async () => {
    const log = newLog();
    const p = provider(
      config({ notify: { generic: recorder('notify', log) }, global: { scriptUser: 'nobody' } }),
    );
    await p.onTransition(inst('BACKUP', 100), live());
    assert.deepEqual(lines(log), ['notify|65534|inherited|INSTANCE|VI_1|BACKUP|100']);
  },
);

test('options: unknown keys and bad durations name the instance and the option', () => {
  assert.throws(
    () => parseScriptOptions({ timout: 5 }, 'VI_1'),
    /instance VI_1: script provider: unknown option "timout"/,
  );
  assert.throws(
    () => parseScriptOptions({ timeout: 'soon' }, 'VI_1'),
    /option timeout: 'soon' is not a duration/,
  );
  assert.throws(() => parseScriptOptions({ timeout: 0 }, 'VI_1'), /option timeout must be more than 0/);
  assert.equal(parseScriptOptions({ timeout: 5 }, 'VI_1').timeoutMs, 5000);
  assert.equal(parseScriptOptions({ timeout: '250ms' }, 'VI_1').timeoutMs, 250);
});
