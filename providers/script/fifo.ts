/**
 * keepalived's notify_fifo (lib/notify.c fifo_open/fifo_close, vrrp_notify.c notify_fifo): one
 * FIFO for the whole process, created with mode 0644 if missing (and then handed to the script
 * user), its reader `notify_fifo_script` started with the FIFO path as its last argument, then
 * opened O_RDWR|O_NONBLOCK|O_NOFOLLOW. Opening it read-write means neither the open nor a write
 * ever waits for a reader; when nobody drains it and the pipe buffer is full, lines are dropped,
 * exactly as keepalived drops them. Every script provider shares the one handle per path.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, constants, lstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import koffi from 'koffi';
import type { Logger } from 'pino';
import type { NotifyState } from '../../src/notify/provider.js';
import { shellCommandLine } from './run-script.js';
import type { PreparedCommand, ScriptIds } from './security.js';

const libc = koffi.load(null);
const mkfifo_ = libc.func('int mkfifo(const char *path, uint32_t mode)') as (
  p: string,
  mode: number,
) => number;

/** The line keepalived writes: the name is quoted, the priority is 0 for a sync group. */
export function fifoLine(
  kind: 'INSTANCE' | 'GROUP',
  name: string,
  state: NotifyState,
  priority: number,
): string {
  return `${kind} "${name}" ${state} ${priority}\n`;
}

export interface FifoSpec {
  path: string;
  /** Owner given to a FIFO floatip creates (keepalived: the default script user). */
  owner: ScriptIds;
  script?: PreparedCommand;
  log: Logger;
}

export interface NotifyFifo {
  readonly path: string;
  /** false when the line was dropped (pipe full or closed). */
  write(line: string): boolean;
  /** Drop this user's reference; the last one closes, unlinks and stops the reader script. */
  release(): void;
}

interface Shared {
  fd: number;
  created: boolean;
  refs: number;
  reader: ChildProcess | null;
  log: Logger;
  dropped: number;
}

const open = new Map<string, Shared>();

export function openNotifyFifo(spec: FifoSpec): NotifyFifo {
  let s = open.get(spec.path);
  if (!s) {
    s = create(spec);
    open.set(spec.path, s);
  }
  s.refs++;
  const shared = s;
  let released = false;
  return {
    path: spec.path,
    write(line: string): boolean {
      if (released) return false;
      try {
        writeSync(shared.fd, line);
        return true;
      } catch (e) {
        // EAGAIN: the reader is not keeping up. keepalived ignores the failure silently; a
        // debug line keeps it visible without flooding the log when nobody reads the FIFO.
        shared.dropped++;
        shared.log.debug(
          { fifo: spec.path, code: (e as NodeJS.ErrnoException).code },
          'notify fifo line dropped',
        );
        return false;
      }
    },
    release(): void {
      if (released) return;
      released = true;
      if (--shared.refs > 0) return;
      open.delete(spec.path);
      close(spec.path, shared);
    },
  };
}

function create(spec: FifoSpec): Shared {
  const { path, log } = spec;
  let created = false;
  if (mkfifo_(path, 0o644) === 0) {
    created = true;
    if (spec.owner.uid !== process.geteuid?.() || spec.owner.gid !== process.getegid?.()) {
      try {
        chownSync(path, spec.owner.uid, spec.owner.gid);
      } catch (e) {
        log.warn({ fifo: path, err: (e as Error).message }, 'failed to set uid:gid for notify fifo');
      }
    }
  } else {
    const errno = koffi.errno();
    if (errno !== koffi.os.errno.EEXIST) {
      throw new Error(
        `notify_fifo ${path}: unable to create the FIFO (errno ${errno}); check that the directory exists and is writable by floatip`,
      );
    }
    let isFifo = false;
    try {
      isFifo = lstatSync(path).isFIFO();
    } catch {
      // Raced away; the open below reports it.
    }
    if (!isFifo) {
      throw new Error(`notify_fifo ${path}: exists and is not a FIFO; remove it or choose another path`);
    }
  }

  // keepalived starts the reader before opening, so the reader is never late for the first line.
  const reader = spec.script ? startReader(spec.script, path, log) : null;
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (e) {
    if (created) unlinkQuietly(path);
    if (reader?.pid !== undefined) killGroup(reader.pid, 'SIGKILL');
    throw new Error(`notify_fifo ${path}: unable to open: ${(e as Error).message}`);
  }
  log.info({ fifo: path, created, reader: spec.script?.argv[0] }, 'notify fifo open');
  return { fd, created, refs: 0, reader, log, dropped: 0 };
}

function startReader(cmd: PreparedCommand, path: string, log: Logger): ChildProcess {
  const argv = [...cmd.argv, path];
  const [file, ...args] = cmd.shell ? ['/bin/sh', '-c', shellCommandLine(argv)] : argv;
  const self = { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 };
  const child = spawn(file as string, args, {
    detached: true,
    // The reader runs for floatip's lifetime, like keepalived's (which gives it /dev/null).
    stdio: 'ignore',
    ...(cmd.ids.uid !== self.uid ? { uid: cmd.ids.uid } : {}),
    ...(cmd.ids.gid !== self.gid ? { gid: cmd.ids.gid } : {}),
  });
  child.on('error', (e) =>
    log.warn({ fifo: path, argv, err: e.message }, 'notify fifo script could not start'),
  );
  child.on('exit', (code, signal) =>
    log.info({ fifo: path, argv, exitCode: code, signal }, 'notify fifo script terminated'),
  );
  // The reader must not keep floatip alive at shutdown; close() stops it.
  child.unref();
  return child;
}

function close(path: string, s: Shared): void {
  // Unlinked first, like keepalived, so a reader that reopens the path in a loop cannot find it.
  if (s.created) unlinkQuietly(path);
  try {
    closeSync(s.fd);
  } catch {
    // Already closed.
  }
  const pid = s.reader?.pid;
  if (pid !== undefined && s.reader?.exitCode === null && s.reader.signalCode === null) {
    killGroup(pid, 'SIGTERM');
    setTimeout(() => killGroup(pid, 'SIGKILL'), 1000).unref();
  }
  if (s.dropped > 0)
    s.log.warn({ fifo: path, dropped: s.dropped }, 'notify fifo lines dropped: no reader kept up');
}

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // Gone already.
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Someone else removed it.
  }
}
