/**
 * Runs one health-check command the way keepalived's system_call_script does: argv exec'd directly
 * (no shell), in its own process group, optionally as another uid/gid; on timeout the whole group
 * is SIGKILLed so a script's children cannot outlive it and pile up.
 */
import { spawn } from 'node:child_process';

export interface ScriptRun {
  argv: string[];
  timeoutMs: number;
  uid?: number;
  gid?: number;
  /** Aborting kills the process group (daemon stop). */
  signal?: AbortSignal;
}

export type ScriptOutcome =
  | { type: 'exit'; code: number }
  | { type: 'signal'; signal: string }
  | { type: 'timeout' }
  /** The command could not be started at all (not found, not executable). */
  | { type: 'error'; code: string; message: string };

export type ScriptRunner = (run: ScriptRun) => Promise<ScriptOutcome>;

const STDERR_KEEP = 256;

export const runScript: ScriptRunner = (run) =>
  new Promise((resolve) => {
    const [file, ...args] = run.argv;
    if (file === undefined || file === '') {
      resolve({ type: 'error', code: 'EINVAL', message: 'empty command' });
      return;
    }
    let settled = false;
    let timedOut = false;
    const child = spawn(file, args, {
      // detached = setsid(): the child leads a new process group, which is what we kill on timeout.
      detached: true,
      // Output is discarded as keepalived does (/dev/null); unbounded output must not fill memory.
      stdio: ['ignore', 'ignore', 'ignore'],
      shell: false,
      ...(run.uid !== undefined ? { uid: run.uid } : {}),
      ...(run.gid !== undefined ? { gid: run.gid } : {}),
    });
    const finish = (o: ScriptOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
      resolve(o);
    };
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone: the exit event follows.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, run.timeoutMs);
    const onAbort = (): void => {
      timedOut = true;
      killGroup();
    };
    run.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err: NodeJS.ErrnoException) => {
      finish({ type: 'error', code: err.code ?? 'EUNKNOWN', message: err.message.slice(0, STDERR_KEEP) });
    });
    child.once('exit', (code, signal) => {
      if (timedOut) finish({ type: 'timeout' });
      else if (code !== null) finish({ type: 'exit', code });
      else finish({ type: 'signal', signal: signal ?? 'unknown' });
    });
  });

/** Explains a failed start in terms an operator can act on. */
export function describeStartError(argv0: string, code: string, message: string): string {
  switch (code) {
    case 'ENOENT':
      return `${argv0} not found; check the path (scripts are exec'd directly, not through a shell)`;
    case 'EACCES':
      return `${argv0} is not executable by the script user; chmod +x it or check the user`;
    case 'ENOEXEC':
      return `${argv0} is not a valid executable; add a #! line`;
    case 'EPERM':
      return `cannot switch to the script user to run ${argv0}; floatip must run as root for "user"`;
    default:
      return `${argv0} could not be started: ${message}`;
  }
}
