/**
 * The simulated segment: who can reach whom (possibly one way only), per-packet delay with
 * jitter, duplication, and bursts of loss and reordering. Reachability is decided when a packet
 * is sent; a packet already in flight when a partition starts still arrives, as it would on a real
 * wire where the cut happens somewhere along the path.
 */
import type { NetConditions } from './scenario.js';
import type { Prng } from './prng.js';

export interface Copy {
  delayUs: number;
  /** Delayed beyond the steady-state bound by a reorder burst. */
  late: boolean;
}

export type Fate = { lost: true } | { lost: false; copies: Copy[] };

export class Network {
  private reach: boolean[][];
  /** Per link, when the last in-order packet arrives (FIFO outside reorder bursts). */
  private readonly lastArrival: number[][];
  lossProb = 0;
  reorderProb = 0;
  reorderMaxExtraUs = 0;

  constructor(
    readonly n: number,
    readonly conditions: NetConditions,
  ) {
    this.reach = full(n);
    this.lastArrival = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  }

  canReach(from: number, to: number): boolean {
    return from !== to && (this.reach[from]?.[to] ?? false);
  }

  /** Installs a reachability matrix; returns the nodes whose links changed (either direction). */
  setReach(next: boolean[][]): number[] {
    const changed = new Set<number>();
    for (let a = 0; a < this.n; a++) {
      for (let b = 0; b < this.n; b++) {
        if (a === b) continue;
        const want = next[a]?.[b] ?? false;
        if ((this.reach[a]?.[b] ?? false) !== want) {
          changed.add(a);
          changed.add(b);
        }
      }
    }
    this.reach = next.map((row) => [...row]);
    return [...changed].sort((x, y) => x - y);
  }

  heal(): number[] {
    return this.setReach(full(this.n));
  }

  /**
   * What happens to one packet from → to sent at `now`. Draws from rng in a fixed order. Outside
   * reorder bursts a link is FIFO, as a switched LAN is: jitter never lets a packet overtake an
   * earlier one from the same sender (a resumed node's burst arrives in the order it was sent).
   */
  fate(rng: Prng, from: number, to: number, now: number): Fate {
    if (this.lossProb > 0 && rng.chance(this.lossProb)) return { lost: true };
    const copies: Copy[] = [this.copy(rng, from, to, now)];
    if (rng.chance(this.conditions.dupProb)) copies.push(this.copy(rng, from, to, now));
    return { lost: false, copies };
  }

  private copy(rng: Prng, from: number, to: number, now: number): Copy {
    let delayUs = this.conditions.baseDelayUs + rng.int(0, this.conditions.jitterUs);
    if (this.reorderProb > 0 && rng.chance(this.reorderProb)) {
      delayUs += rng.int(1, Math.max(1, this.reorderMaxExtraUs));
      return { delayUs, late: true };
    }
    const row = this.lastArrival[from];
    const prev = row?.[to] ?? 0;
    if (now + delayUs < prev) delayUs = prev - now;
    if (row) row[to] = now + delayUs;
    return { delayUs, late: false };
  }
}

function full(n: number): boolean[][] {
  return Array.from({ length: n }, () => Array.from({ length: n }, () => true));
}
