/**
 * A check run every interval with vrrp_script's rise/fall hysteresis: scripts, and floatip's http
 * and tcp checks. Runs are started at a fixed rate from start() like keepalived's script thread,
 * and a run still going when the next is due is not doubled up: that run is skipped.
 */
import type { Logger } from 'pino';
import { RiseFall } from './weights.js';
import { showUp, type Observation, type Tracker, type TrackerEvent } from './tracker.js';
import type { Timers, TrackerKind } from './types.js';

export interface ProbeResult {
  ok: boolean;
  /** Why, in a few words: "exit status 1", "timed out after 2000 ms", "HTTP 503". */
  detail: string;
}

export type Probe = (signal: AbortSignal) => Promise<ProbeResult>;

export interface PeriodicOptions {
  intervalMs: number;
  rise: number;
  fall: number;
  initFail: boolean;
}

export class PeriodicCheck implements Tracker {
  readonly firstResult: Promise<void>;
  private resolveFirst!: () => void;
  private readonly hysteresis: RiseFall;
  private timer: unknown = null;
  private running: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private lastDetail = 'not run yet';
  private stopped = false;
  private emit: (e: TrackerEvent) => void = () => {};

  constructor(
    readonly kind: TrackerKind,
    readonly name: string,
    private readonly probe: Probe,
    private readonly opts: PeriodicOptions,
    private readonly timers: Timers,
    private readonly log: Logger,
  ) {
    this.hysteresis = new RiseFall(opts.rise, opts.fall, opts.initFail);
    this.firstResult = new Promise((r) => (this.resolveFirst = r));
    // init_fail is a result already: the script starts down.
    if (opts.initFail) {
      this.lastDetail = 'init_fail';
      this.resolveFirst();
    }
  }

  observe(): Observation {
    return { up: this.hysteresis.up };
  }

  detail(): string {
    return `${this.lastDetail} (${this.hysteresis.progress()})`;
  }

  start(emit: (e: TrackerEvent) => void): void {
    this.emit = emit;
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.abort.abort();
    await this.running;
  }

  private tick(): void {
    if (this.stopped) return;
    this.timer = this.timers.setTimeout(() => this.tick(), this.opts.intervalMs);
    if (this.running) {
      this.log.warn(
        { event: 'track-skip', kind: this.kind, tracker: this.name },
        `${this.kind} ${this.name}: previous run still going at the next interval; skipping this run`,
      );
      return;
    }
    this.running = this.runOnce().finally(() => {
      this.running = null;
    });
  }

  private async runOnce(): Promise<void> {
    let result: ProbeResult;
    try {
      result = await this.probe(this.abort.signal);
    } catch (err) {
      result = { ok: false, detail: `check failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (this.stopped) return;
    const before = this.hysteresis.up;
    if (result.detail !== this.lastDetail && !result.ok) {
      // Once per new reason, not once per interval: a check failing every second must not flood the log.
      this.log.warn(
        { event: 'track-result', kind: this.kind, tracker: this.name, detail: result.detail },
        `${this.kind} ${this.name}: ${result.detail}`,
      );
    }
    this.lastDetail = result.detail;
    const changed = this.hysteresis.record(result.ok);
    this.resolveFirst();
    if (changed !== undefined)
      this.emit({ from: showUp(before), to: showUp(changed), detail: this.detail() });
  }
}
