/**
 * Runs one notify command to completion, bounded. keepalived forks notify scripts into their own
 * process group and never waits for them (except notify_stop, killed after 1 s); floatip waits so
 * the notify stage can log the outcome, and bounds the wait: on timeout or abort the whole group
 * gets SIGTERM, then SIGKILL a second later, so a script's children cannot outlive it.
 */
import { spawn } from 'node:child_process';

export interface RunSpec {
  /** argv[0] is the file exec'd (already resolved to the path keepalived would exec). */
  argv: readonly string[];
  /** Run through /bin/sh -c as keepalived's system() fallback does for files without #!. */
  shell: boolean;
  /** Only set when different from floatip's own ids (switching needs root). */
  uid?: number;
  gid?: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL of the process group. */
  killGraceMs?: number;
}

export type RunOutcome =
  | { kind: 'exit'; code: number }
  | { kind: 'signal'; signal: string }
  | { kind: 'timeout' }
  | { kind: 'aborted' }
  /** Could not be started at all (fork/exec/setuid failure). */
  | { kind: 'spawn-error'; code: string; message: string };

export interface RunResult {
  outcome: RunOutcome;
  pid: number | undefined;
  durationMs: number;
  /** The last bytes of each stream, for the log line. */
  stdout: string;
  stderr: string;
}

/** Bytes kept from the end of stdout and of stderr. */
export const TAIL_BYTES = 2048;
/** After the script exits, how long to wait for output still in the pipes. */
const DRAIN_MS = 200;

/**
 * keepalived's cmd_str(): each word in single quotes (no escaping of quotes inside), except a
 * first word starting with '<' or '>', which stays bare so redirection-only commands work.
 */
export function shellCommandLine(argv: readonly string[]): string {
  return argv.map((w, i) => (i === 0 && (w.startsWith('<') || w.startsWith('>')) ? w : `'${w}'`)).join(' ');
}

class Tail {
  private buf = Buffer.alloc(0);
  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    if (this.buf.length > TAIL_BYTES) this.buf = this.buf.subarray(this.buf.length - TAIL_BYTES);
  }
  text(): string {
    return this.buf.toString('utf8');
  }
}

export function runNotifyCommand(spec: RunSpec): Promise<RunResult> {
  const started = performance.now();
  const out = new Tail();
  const err = new Tail();
  const result = (outcome: RunOutcome, pid: number | undefined): RunResult => ({
    outcome,
    pid,
    durationMs: Math.round(performance.now() - started),
    stdout: out.text(),
    stderr: err.text(),
  });
  if (spec.signal?.aborted) return Promise.resolve(result({ kind: 'aborted' }, undefined));
  const [file, ...args] = spec.shell ? ['/bin/sh', '-c', shellCommandLine(spec.argv)] : spec.argv;
  if (file === undefined || file === '') {
    return Promise.resolve(
      result({ kind: 'spawn-error', code: 'EINVAL', message: 'empty command' }, undefined),
    );
  }

  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(file, args, {
        // setsid(): the script leads its own process group, the unit we kill.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        shell: false,
        ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
        ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
      });
    } catch (e) {
      const ne = e as NodeJS.ErrnoException;
      resolve(result({ kind: 'spawn-error', code: ne.code ?? 'EUNKNOWN', message: ne.message }, undefined));
      return;
    }
    const pid = child.pid;
    let stopReason: 'timeout' | 'aborted' | null = null;
    let settled = false;
    let exitOutcome: RunOutcome | null = null;
    let drainTimer: NodeJS.Timeout | undefined;

    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));

    const killGroup = (sig: NodeJS.Signals): void => {
      if (pid === undefined) return;
      try {
        process.kill(-pid, sig);
      } catch {
        // ESRCH: the whole group is already gone.
      }
    };
    const stop = (why: 'timeout' | 'aborted'): void => {
      if (stopReason !== null || exitOutcome !== null) return;
      stopReason = why;
      killGroup('SIGTERM');
      // Sent even if the leader dies of the SIGTERM: a child that ignores TERM must not survive.
      const k = setTimeout(() => killGroup('SIGKILL'), spec.killGraceMs ?? 1000);
      k.unref();
    };
    const timer = setTimeout(() => stop('timeout'), spec.timeoutMs);
    const onAbort = (): void => stop('aborted');
    spec.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = (o: RunOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      spec.signal?.removeEventListener('abort', onAbort);
      // A background child of the script may keep the pipes open: keep draining them (keepalived
      // gives scripts /dev/null, where writes never fail) without holding floatip's event loop.
      for (const s of [child.stdout, child.stderr]) {
        s.removeAllListeners('data');
        s.resume();
        (s as unknown as { unref?: () => void }).unref?.();
      }
      resolve(result(o, pid));
    };

    child.once('error', (e: NodeJS.ErrnoException) => {
      // 'error' without a pid: the process never started (ENOENT, EACCES, EPERM on setuid).
      if (pid === undefined) finish({ kind: 'spawn-error', code: e.code ?? 'EUNKNOWN', message: e.message });
    });
    child.once('exit', (code, signal) => {
      const o: RunOutcome =
        stopReason !== null
          ? { kind: stopReason }
          : code !== null
            ? { kind: 'exit', code }
            : { kind: 'signal', signal: signal ?? 'unknown' };
      exitOutcome = o;
      drainTimer = setTimeout(() => finish(o), DRAIN_MS);
    });
    child.once('close', () => {
      // 'exit' always comes first and sets the outcome; 'close' only says the pipes are drained.
      if (exitOutcome !== null) finish(exitOutcome);
    });
  });
}
