/**
 * vrrp_track_process: how many running processes match, whether that is within
 * [quorum, quorum_max], debounced by fork_delay / terminate_delay.
 *
 * keepalived learns of fork/exec/exit from the netlink proc connector, which needs
 * CAP_NET_ADMIN, a multicast netlink socket and a receive thread; here /proc is scanned on a
 * modest interval (default 1 s) instead. A process that lives less than one interval can be
 * missed, which the delays exist to smooth over anyway.
 */
import { readdir, readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ProcessTrackerSpec } from '../config/model.js';
import { showUp, type Observation, type Tracker, type TrackerEvent } from './tracker.js';
import type { Timers } from './types.js';

export interface ProcessMatcher {
  /** Compared with the process's comm, or with argv[0] of its cmdline when `params` matter. */
  process: string;
  /** null: match on comm. Otherwise match on cmdline with these parameters. */
  params: string[] | null;
  paramMatch: 'exact' | 'partial' | 'initial';
}

export function matcherOf(spec: ProcessTrackerSpec): ProcessMatcher {
  const full = spec.params !== undefined || spec.paramMatch !== undefined;
  return {
    process: spec.process,
    params: full ? (spec.params ?? '').split(/\s+/).filter((w) => w !== '') : null,
    paramMatch: spec.paramMatch ?? 'exact',
  };
}

/**
 * keepalived's check_params on the NUL-joined words after argv[0]: exact needs the same words;
 * partial needs the configured words as a prefix; initial also lets the last configured word be a
 * prefix of the process's word.
 */
export function paramsMatch(m: ProcessMatcher, procArgs: string[]): boolean {
  const want = m.params ?? [];
  const have = procArgs.map((a) => a + '\0').join('');
  const wanted = want.map((a) => a + '\0').join('');
  if (m.paramMatch === 'exact') return have === wanted;
  if (wanted.length === 0) return true;
  if (m.paramMatch === 'partial') return have.startsWith(wanted);
  return have.startsWith(wanted.slice(0, -1));
}

export interface ProcEntry {
  comm: string;
  /** argv; empty for kernel threads and zombies. */
  cmdline: string[];
}

export function matches(m: ProcessMatcher, p: ProcEntry): boolean {
  if (m.params === null) return p.comm === m.process;
  const [argv0, ...rest] = p.cmdline;
  return argv0 === m.process && paramsMatch(m, rest);
}

/** Every live (non-zombie) process: comm from /proc/PID/stat, argv from /proc/PID/cmdline. */
export async function scanProc(root = '/proc', wantCmdline = true): Promise<ProcEntry[]> {
  const out: ProcEntry[] = [];
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    throw new Error(`cannot list ${root}: ${(err as Error).message}; process tracking needs procfs`);
  }
  await Promise.all(
    names
      .filter((n) => /^\d+$/.test(n))
      .map(async (pid) => {
        try {
          const stat = await readFile(`${root}/${pid}/stat`, 'latin1');
          // comm may contain spaces and parentheses: it runs from the first '(' to the last ')'.
          const open = stat.indexOf('(');
          const close = stat.lastIndexOf(')');
          if (open < 0 || close < open) return;
          if (stat.slice(close + 2, close + 3) === 'Z') return;
          const comm = stat.slice(open + 1, close);
          let cmdline: string[] = [];
          if (wantCmdline) {
            const raw = await readFile(`${root}/${pid}/cmdline`, 'utf8');
            cmdline = raw === '' ? [] : raw.replace(/\0$/, '').split('\0');
          }
          out.push({ comm, cmdline });
        } catch {
          // The process exited between readdir and read.
        }
      }),
  );
  return out;
}

export class ProcessTracker implements Tracker {
  readonly kind = 'process' as const;
  readonly firstResult: Promise<void>;
  private resolveFirst!: () => void;
  private count: number | null = null;
  /** The status instances see; moves only after the delay. */
  private haveQuorum: boolean | null = null;
  private pending: { to: boolean; timer: unknown } | null = null;
  private lastError: string | null = null;
  private emit: (e: TrackerEvent) => void = () => {};
  readonly matcher: ProcessMatcher;
  private readonly quorumMax: number;

  constructor(
    readonly spec: ProcessTrackerSpec,
    private readonly timers: Timers,
    private readonly log: Logger,
  ) {
    this.matcher = matcherOf(spec);
    this.quorumMax = spec.quorumMax ?? Number.POSITIVE_INFINITY;
    this.firstResult = new Promise((r) => (this.resolveFirst = r));
  }

  get name(): string {
    return this.spec.name;
  }

  observe(): Observation {
    return { up: this.haveQuorum };
  }

  detail(): string {
    if (this.count === null) return this.lastError ? `scan failed: ${this.lastError}` : 'not scanned yet';
    const max = Number.isFinite(this.quorumMax) ? `..${this.quorumMax}` : '+';
    const waiting = this.pending
      ? `, ${this.pending.to ? 'quorum gained' : 'quorum lost'}, waiting out the delay`
      : '';
    return `${this.count} running, quorum ${this.spec.quorum}${max}${waiting}`;
  }

  start(emit: (e: TrackerEvent) => void): void {
    this.emit = emit;
  }

  stop(): Promise<void> {
    this.cancelPending();
    return Promise.resolve();
  }

  /** The scan itself failed: keep the last state, stop anyone waiting for a first result. */
  scanFailed(reason: string): void {
    this.lastError = reason;
    this.resolveFirst();
  }

  /** Called by the set after each /proc scan with this tracker's match count. */
  update(count: number): void {
    this.count = count;
    this.lastError = null;
    const now = count >= this.spec.quorum && count <= this.quorumMax;
    if (this.haveQuorum === null) {
      // initialise_process_tracking_priorities: the first count counts at once, no delay.
      this.haveQuorum = now;
      this.resolveFirst();
      this.emit({ from: 'unknown', to: showUp(now), detail: this.detail() });
      return;
    }
    if (now === this.haveQuorum) {
      // Back where we were before the delay ran out: keepalived cancels the timer, nothing is reported.
      this.cancelPending();
      return;
    }
    if (this.pending) return;
    const delay = now
      ? (this.spec.forkDelayMs ?? this.spec.delayMs)
      : (this.spec.terminateDelayMs ?? this.spec.delayMs);
    if (delay <= 0) {
      this.set(now);
      return;
    }
    this.log.info(
      { event: 'track-delay', kind: 'process', tracker: this.name, count, delayMs: delay },
      `process ${this.name}: quorum ${now ? 'gained' : 'lost'} (${count} running); confirming in ${delay} ms`,
    );
    this.pending = {
      to: now,
      timer: this.timers.setTimeout(() => {
        this.pending = null;
        const c = this.count ?? 0;
        this.set(c >= this.spec.quorum && c <= this.quorumMax);
      }, delay),
    };
  }

  private set(now: boolean): void {
    if (now === this.haveQuorum) return;
    const before = this.haveQuorum;
    this.haveQuorum = now;
    this.emit({ from: showUp(before), to: showUp(now), detail: this.detail() });
  }

  private cancelPending(): void {
    if (this.pending) this.timers.clearTimeout(this.pending.timer);
    this.pending = null;
  }
}
