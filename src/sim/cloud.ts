/**
 * The cloud, reduced to what split-brain rules need: one floating address, and whoever's claim
 * landed last holds it, until its holder releases it. A claim is an API call that takes effect after a latency, even if the
 * caller has died or stepped down meanwhile, as a real cloud API call does. The holder policy's
 * reads and liveness answers are served by the simulator from this state.
 */
export interface Claim {
  node: number;
  issuedAt: number;
  landsAt: number;
}

export class CloudHolder {
  holder: number | null = null;
  /** Claims that have landed, oldest first (for traces). */
  readonly landed: Claim[] = [];

  land(c: Claim): void {
    this.holder = c.node;
    this.landed.push(c);
  }

  /** A race-safe release: frees the address only if `node` holds it now. */
  release(node: number): boolean {
    if (this.holder !== node) return false;
    this.holder = null;
    return true;
  }
}
