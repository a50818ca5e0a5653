/**
 * The simulator's agenda: a binary min-heap ordered by (time, insertion sequence). The sequence
 * number makes equal-time events run in the order they were scheduled, which is what makes a run
 * a pure function of its seed.
 */
export interface Scheduled<T> {
  t: number;
  seq: number;
  item: T;
}

export class EventQueue<T> {
  private heap: Scheduled<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(t: number, item: T): void {
    if (!Number.isSafeInteger(t)) throw new Error(`EventQueue.push: time ${t} is not an integer µs`);
    const e = { t, seq: this.seq++, item };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as Scheduled<T>;
      if (!before(e, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
  }

  peekTime(): number | null {
    return this.heap[0]?.t ?? null;
  }

  pop(): Scheduled<T> | null {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return null;
    const last = h.pop() as Scheduled<T>;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const rv = h[r];
        let c = l;
        if (rv !== undefined && before(rv, h[l] as Scheduled<T>)) c = r;
        const child = h[c] as Scheduled<T>;
        if (!before(child, last)) break;
        h[i] = child;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function before<T>(a: Scheduled<T>, b: Scheduled<T>): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}
