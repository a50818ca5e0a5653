/**
 * track_file: an integer read from a file, multiplied by the weight. keepalived watches with
 * inotify; this polls (default every second), which costs one small read per file and needs no
 * watch on a directory that may not exist yet.
 */
import { open, stat, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { FileTrackerSpec } from '../config/model.js';
import type { Observation, Tracker, TrackerEvent } from './tracker.js';
import type { Timers } from './types.js';

const INT32_MIN = -(2 ** 31);
const INT32_MAX_PLUS_1 = 2 ** 31;

/**
 * strtol(text, NULL, 0) as keepalived calls it: leading blanks, an optional sign, then hex after
 * 0x, octal after 0, else decimal; whatever follows is ignored, and no digits at all is 0.
 * Returns null for a number outside what keepalived accepts (int32, plus 2^31).
 */
export function parseTrackValue(text: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*))?/.exec(text);
  let v = 0;
  if (m) {
    if (m[2] !== undefined) v = parseInt(m[2], 16);
    else if (m[3] !== undefined) v = parseInt(m[3], 8);
    else if (m[4] !== undefined) v = Number(m[4]);
    if (m[1] === '-') v = -v;
  }
  if (!Number.isFinite(v) || v < INT32_MIN || v > INT32_MAX_PLUS_1) return null;
  return v;
}

export async function readTrackFile(path: string): Promise<{ value: number | null; note: string }> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // keepalived: a file it cannot open reads as 0.
    return { value: 0, note: code === 'ENOENT' ? 'missing, read as 0' : `cannot open (${code}), read as 0` };
  }
  try {
    const buf = Buffer.alloc(127);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('latin1');
    const value = parseTrackValue(text);
    return value === null
      ? { value: null, note: `invalid number ${JSON.stringify(text.trim().slice(0, 40))}, ignored` }
      : { value, note: '' };
  } finally {
    await fh.close();
  }
}

/** init_file: write the value if the file is missing, or always with `overwrite` (regular files only). */
export async function initTrackFile(spec: FileTrackerSpec, log: Logger): Promise<void> {
  const init = spec.initFile;
  if (!init) return;
  try {
    const st = await stat(spec.file);
    if (!init.overwrite) return;
    if (!st.isFile()) {
      log.error(
        { event: 'track-error', kind: 'file', tracker: spec.name, file: spec.file },
        `track_file ${spec.name}: cannot initialise ${spec.file}: it is not a regular file`,
      );
      return;
    }
  } catch {
    // Missing: create it.
  }
  try {
    await writeFile(spec.file, `${init.value}\n`);
  } catch (err) {
    log.error(
      { event: 'track-error', kind: 'file', tracker: spec.name, file: spec.file, err },
      `track_file ${spec.name}: cannot initialise ${spec.file}: ${(err as Error).message}; create its directory or fix permissions`,
    );
  }
}

export class FileTracker implements Tracker {
  readonly kind = 'file' as const;
  readonly firstResult: Promise<void>;
  private resolveFirst!: () => void;
  private value: number | null = null;
  private note = 'not read yet';
  private timer: unknown = null;
  private stopped = false;
  private reading: Promise<void> | null = null;
  private emit: (e: TrackerEvent) => void = () => {};

  constructor(
    readonly spec: FileTrackerSpec,
    private readonly pollMs: number,
    private readonly timers: Timers,
    private readonly log: Logger,
  ) {
    this.firstResult = new Promise((r) => (this.resolveFirst = r));
  }

  get name(): string {
    return this.spec.name;
  }

  observe(): Observation {
    return this.value === null ? { up: null } : { up: this.value === 0, value: this.value };
  }

  detail(): string {
    const v = this.value === null ? 'no value yet' : `value ${this.value}`;
    return this.note ? `${v} (${this.note})` : v;
  }

  start(emit: (e: TrackerEvent) => void): void {
    this.emit = emit;
    this.reading = initTrackFile(this.spec, this.log).then(() => this.poll());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    await this.reading;
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    const r = await readTrackFile(this.spec.file);
    if (this.stopped) return;
    if (r.note !== this.note && r.note !== '') {
      this.log.warn(
        { event: 'track-result', kind: 'file', tracker: this.name, file: this.spec.file },
        `track_file ${this.name}: ${this.spec.file} ${r.note}`,
      );
    }
    this.note = r.note;
    // An invalid number keeps the last value, as keepalived ignores it; before any value that is 0.
    const next = r.value ?? this.value ?? 0;
    if (next !== this.value) {
      const before = this.value;
      this.value = next;
      this.emit({
        from: before === null ? 'unknown' : String(before),
        to: String(next),
        detail: this.detail(),
      });
    }
    this.resolveFirst();
    this.timer = this.timers.setTimeout(() => {
      this.reading = this.poll();
    }, this.pollMs);
  }
}
