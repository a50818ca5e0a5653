/**
 * What happened, in order, for a human reading a failure: a ring of the last lines, or everything
 * when replaying with --trace. Lines carry virtual time in ms with µs precision.
 */
export interface TraceLine {
  t: number;
  text: string;
}

export class TraceLog {
  private lines: TraceLine[] = [];
  private next = 0;
  private wrapped = false;

  /** capacity 0 = keep everything. */
  constructor(readonly capacity: number) {}

  add(t: number, text: string): void {
    if (this.capacity === 0) {
      this.lines.push({ t, text });
      return;
    }
    if (this.lines.length < this.capacity) this.lines.push({ t, text });
    else {
      this.lines[this.next] = { t, text };
      this.wrapped = true;
    }
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first. */
  entries(): TraceLine[] {
    if (this.capacity === 0 || !this.wrapped) return [...this.lines];
    return [...this.lines.slice(this.next), ...this.lines.slice(0, this.next)];
  }
}

export function fmtMs(us: number): string {
  return `${(us / 1000).toFixed(3)} ms`;
}

export function formatTrace(lines: readonly TraceLine[]): string {
  return lines.map((l) => `${(l.t / 1000).toFixed(3).padStart(11)} ms  ${l.text}`).join('\n');
}
