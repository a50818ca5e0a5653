/**
 * A lab of network namespaces on one L2 segment, for tests against the real kernel and real
 * keepalived. Nothing is created in the root namespace: the bridge lives in a private "switch"
 * namespace and each node gets `eth0`, the far end of a veth whose near end is a bridge port.
 *
 * Namespace names carry the creating PID (`fiplab-<pid>-<id>-<node>`), so a later run can tell a
 * lab left behind by a killed test process from one that belongs to a run still in progress.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

export interface LabNode {
  name: string;
  ns: string;
  ifname: string;
  addr4: string;
  /** '' when the lab was created with `ipv6: false`. */
  addr6: string;
  mac: string;
}

export interface LabProcess {
  pid: number;
  label: string;
  /** stdout+stderr lines so far. */
  lines(): string[];
  /** Searches past lines too; rejects with the tail of the output on timeout or exit. */
  waitForLine(match: RegExp | ((line: string) => boolean), timeoutMs: number): Promise<string>;
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM (after SIGCONT, in case it is frozen), then SIGKILL after timeoutMs. */
  stop(timeoutMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface ExecOptions {
  allowFail?: boolean;
  timeoutMs?: number;
  env?: Record<string, string>;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  cwd?: string;
  label?: string;
}

export interface Lab {
  id: string;
  nodes: Record<string, LabNode>;
  /**
   * The private namespace holding the bridge (`LAB_BRIDGE`) that joins the nodes; a capture on
   * that bridge sees every frame between any two nodes, from one clock.
   */
  readonly switchNs: string;
  exec(ns: string, argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  spawn(ns: string, argv: string[], opts?: SpawnOptions): LabProcess;
  cleanup(): Promise<void>;
}

const NS_PREFIX = 'fiplab-';
const NS_RE = /^fiplab-(\d+)-/;
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAX_LINES = 20000;
/** Name of the bridge inside `lab.switchNs`. */
export const LAB_BRIDGE = 'br0';

const liveLabs = new Set<LabImpl>();
let handlersInstalled = false;
let swept = false;

/** True when netns tests can run (root + `ip`); skips outside CI, fails in CI. */
export function requireNetns(t: TestContext): boolean {
  const reason = netnsUnavailableReason();
  if (reason === null) return true;
  if (process.env.CI === 'true') {
    throw new Error(
      `netns: cannot run in CI: ${reason}; CI must run these tests as root with iproute2 installed`,
    );
  }
  t.skip('netns: skipped, needs root and iproute2');
  return false;
}

function netnsUnavailableReason(): string | null {
  if (process.platform !== 'linux') return `platform is ${process.platform}, not linux`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not running as root';
  const r = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return '`ip` (iproute2) is not installed or not on PATH';
  return null;
}

/** Run floatip from source (no build needed). */
export function floatipArgv(...args: string[]): string[] {
  return [process.execPath, '--import', tsxLoader(), `${REPO_ROOT}src/cli/main.ts`, ...args];
}

function tsxLoader(): string {
  try {
    // Absolute URL so the loader resolves no matter which cwd the process is spawned with.
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}

/** Nodes on one L2 segment; node i has 10.99.0.<i+1>/16 and fd99::<i+1>/64 on eth0. */
export async function createLab(nodeNames: string[], opts: { ipv6?: boolean } = {}): Promise<Lab> {
  if (nodeNames.length === 0) throw new Error('createLab: give at least one node name');
  if (nodeNames.length > 250) throw new Error('createLab: at most 250 nodes fit the address plan');
  if (new Set(nodeNames).size !== nodeNames.length) throw new Error('createLab: node names must be unique');
  for (const n of nodeNames) {
    if (!/^[a-z0-9]{1,8}$/.test(n))
      throw new Error(`createLab: node name "${n}" must be 1-8 chars of [a-z0-9]`);
  }
  installExitHandlers();
  if (!swept) {
    swept = true;
    await sweepStaleLabs();
  }
  const ipv6 = opts.ipv6 ?? true;
  const lab = new LabImpl(`fip${randomBytes(3).toString('hex')}`);
  liveLabs.add(lab);
  try {
    await lab.build(nodeNames, ipv6);
  } catch (err) {
    await lab.cleanup();
    throw err;
  }
  return lab;
}

class LabImpl implements Lab {
  readonly nodes: Record<string, LabNode> = {};
  private readonly procs = new Set<LabProcessImpl>();
  private readonly namespaces: string[] = [];
  private cleaned: Promise<void> | null = null;

  constructor(readonly id: string) {}

  get switchNs(): string {
    return this.nsName('sw');
  }

  private nsName(suffix: string): string {
    return `${NS_PREFIX}${process.pid}-${this.id}-${suffix}`;
  }

  async build(nodeNames: string[], ipv6: boolean): Promise<void> {
    const sw = this.nsName('sw');
    await this.addNs(sw);
    // The switch must stay silent so captures hold only the nodes' traffic.
    await run([
      'ip',
      'netns',
      'exec',
      sw,
      'sysctl',
      '-qw',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    ]);
    await run(['ip', '-n', sw, 'link', 'set', 'lo', 'up']);
    // Snooping off: without a querier the bridge could otherwise prune VRRP multicast (ff02::12).
    await run([
      'ip',
      '-n',
      sw,
      'link',
      'add',
      LAB_BRIDGE,
      'type',
      'bridge',
      'stp_state',
      '0',
      'mcast_snooping',
      '0',
    ]);
    await run(['ip', '-n', sw, 'link', 'set', LAB_BRIDGE, 'up']);

    for (const [i, name] of nodeNames.entries()) {
      const ns = this.nsName(name);
      await this.addNs(ns);
      const host = i + 1;
      const mac = `02:99:00:00:${(host >> 8).toString(16).padStart(2, '0')}:${(host & 0xff).toString(16).padStart(2, '0')}`;
      const sysctls = ipv6
        ? ['net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']
        : ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];
      // Set before eth0 exists: `default` is copied into each new interface's settings.
      await run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', ...sysctls]);
      await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      const port = `p${name}`;
      await run(['ip', '-n', sw, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await run(['ip', '-n', sw, 'link', 'set', port, 'master', LAB_BRIDGE, 'up']);
      await run(['ip', '-n', ns, 'link', 'set', 'eth0', 'address', mac]);
      const addr4 = `10.99.${host >> 8}.${host & 0xff}`;
      await run(['ip', '-n', ns, 'addr', 'add', `${addr4}/16`, 'dev', 'eth0']);
      const addr6 = ipv6 ? `fd99::${host.toString(16)}` : '';
      if (ipv6) await run(['ip', '-n', ns, 'addr', 'add', `${addr6}/64`, 'dev', 'eth0', 'nodad']);
      await run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      this.nodes[name] = { name, ns, ifname: 'eth0', addr4, addr6, mac };
    }
  }

  private async addNs(ns: string): Promise<void> {
    await run(['ip', 'netns', 'add', ns]);
    this.namespaces.push(ns);
  }

  async exec(ns: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.assertOwn(ns);
    return run(['ip', 'netns', 'exec', ns, ...argv], opts);
  }

  spawn(ns: string, argv: string[], opts: SpawnOptions = {}): LabProcess {
    this.assertOwn(ns);
    if (this.cleaned) throw new Error(`lab ${this.id}: spawn after cleanup()`);
    if (argv.length === 0) throw new Error('lab.spawn: argv is empty');
    const p = new LabProcessImpl(ns, argv, opts);
    this.procs.add(p);
    void p.exited.then(() => this.procs.delete(p));
    return p;
  }

  private assertOwn(ns: string): void {
    if (!this.namespaces.includes(ns)) {
      throw new Error(`lab ${this.id}: namespace "${ns}" is not part of this lab (use lab.nodes.<name>.ns)`);
    }
  }

  cleanup(): Promise<void> {
    this.cleaned ??= this.doCleanup();
    return this.cleaned;
  }

  private async doCleanup(): Promise<void> {
    await Promise.all([...this.procs].map((p) => p.stop(2000)));
    // Descendants of our processes (keepalived's VRRP child, scripts) live only in our namespaces.
    for (const ns of this.namespaces) killNsPids(ns);
    for (const ns of [...this.namespaces].reverse()) {
      await run(['ip', 'netns', 'del', ns], { allowFail: true });
    }
    liveLabs.delete(this);
  }

  /** For process exit, where nothing asynchronous runs any more. */
  cleanupSync(): void {
    for (const p of this.procs) p.killNow();
    for (const ns of this.namespaces) killNsPids(ns);
    for (const ns of [...this.namespaces].reverse())
      spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    liveLabs.delete(this);
  }
}

function killNsPids(ns: string): void {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  if (r.status !== 0) return;
  for (const tok of r.stdout.split(/\s+/)) {
    const pid = Number(tok);
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue;
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

class LabProcessImpl implements LabProcess {
  readonly pid: number;
  readonly label: string;
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly buf: string[] = [];
  private partial = { out: '', err: '' };
  private exitCode: number | null | undefined = undefined;
  private readonly listeners = new Set<() => void>();

  constructor(ns: string, argv: string[], opts: SpawnOptions) {
    this.label = opts.label ?? argv[0]!.split('/').pop()!;
    // `ip netns exec` execs the command in place, so the PID we get is the command's own.
    this.child = spawn('ip', ['netns', 'exec', ns, ...argv], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (this.child.pid === undefined) {
      throw new Error(`lab.spawn: could not start ${argv.join(' ')} in ${ns}`);
    }
    this.pid = this.child.pid;
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => this.feed('out', d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => this.feed('err', d));
    this.exited = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.push(`[harness] spawn error: ${err.message}`);
        this.finish(null, resolve);
      });
      this.child.on('close', (code, sig) => {
        if (sig) this.push(`[harness] ${this.label} killed by ${sig}`);
        this.finish(code, resolve);
      });
    });
  }

  private finish(code: number | null, resolve: (c: number | null) => void): void {
    if (this.exitCode !== undefined) return;
    for (const k of ['out', 'err'] as const) {
      if (this.partial[k]) this.push(this.partial[k]);
      this.partial[k] = '';
    }
    this.exitCode = code;
    resolve(code);
    this.notify();
  }

  private feed(k: 'out' | 'err', d: string): void {
    const parts = (this.partial[k] + d).split('\n');
    this.partial[k] = parts.pop() ?? '';
    for (const line of parts) this.push(line);
    this.notify();
  }

  private push(line: string): void {
    this.buf.push(line);
    if (this.buf.length > MAX_LINES) this.buf.splice(0, this.buf.length - MAX_LINES);
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  lines(): string[] {
    return [...this.buf];
  }

  waitForLine(match: RegExp | ((line: string) => boolean), timeoutMs: number): Promise<string> {
    const test = typeof match === 'function' ? match : (l: string) => match.test(l);
    return new Promise((resolve, reject) => {
      let scanned = 0;
      const check = (): void => {
        for (; scanned < this.buf.length; scanned++) {
          const line = this.buf[scanned]!;
          if (test(line)) {
            done();
            resolve(line);
            return;
          }
        }
        // Lines dropped from the front of the ring shift indexes; rescan is cheap and rare.
        if (scanned > this.buf.length) scanned = 0;
        if (this.exitCode !== undefined) {
          done();
          reject(
            new Error(
              `${this.label} (pid ${this.pid}) exited with ${this.exitCode} before a line matched ${String(match)}; last output:\n${this.tail()}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `${this.label} (pid ${this.pid}): no line matched ${String(match)} within ${timeoutMs} ms; last output:\n${this.tail()}`,
          ),
        );
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  private tail(n = 25): string {
    return this.buf.slice(-n).join('\n');
  }

  signal(sig: NodeJS.Signals): void {
    if (this.exitCode !== undefined) return;
    try {
      process.kill(this.pid, sig);
    } catch {
      // exited between the check and the kill
    }
  }

  async stop(timeoutMs = 3000): Promise<number | null> {
    if (this.exitCode !== undefined) return this.exitCode;
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  killNow(): void {
    this.signal('SIGCONT');
    this.signal('SIGKILL');
  }
}

async function run(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const timeoutMs = opts.timeoutMs ?? 15000;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(' ')}: ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const res = { stdout, stderr, code: code ?? -1 };
      if (timedOut) {
        reject(new Error(`${argv.join(' ')}: timed out after ${timeoutMs} ms; stderr: ${stderr.trim()}`));
      } else if (res.code !== 0 && !opts.allowFail) {
        reject(
          new Error(
            `${argv.join(' ')}: exit ${res.code}; stderr: ${stderr.trim() || '(empty)'}; stdout: ${stdout.trim().slice(-500) || '(empty)'}`,
          ),
        );
      } else {
        resolve(res);
      }
    });
  });
}

/** Deletes namespaces of this suite whose creating PID is gone; never touches other names. */
export async function sweepStaleLabs(): Promise<string[]> {
  const r = await run(['ip', 'netns', 'list'], { allowFail: true });
  const removed: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const name = line.trim().split(/\s+/)[0] ?? '';
    const m = NS_RE.exec(name);
    if (!m || !name.startsWith(NS_PREFIX)) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    await run(['ip', 'netns', 'del', name], { allowFail: true });
    removed.push(name);
  }
  return removed;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const cleanAll = (): void => {
    for (const lab of [...liveLabs]) lab.cleanupSync();
  };
  process.on('exit', cleanAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanAll();
      process.kill(process.pid, sig);
    });
  }
}
