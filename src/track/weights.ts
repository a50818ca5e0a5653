/**
 * keepalived's arithmetic for tracked objects (vrrp_track.c, track_file.c, keepalived_netlink.c),
 * written as "what does this tracker contribute now" instead of keepalived's running increments.
 * Summing the current contributions gives the same total_priority as keepalived's += / -= on every
 * transition, and cannot drift if a transition is missed.
 */

export interface Contribution {
  delta: number;
  fault: boolean;
}

/**
 * Script, interface, process, http and tcp trackers. With weight 0 the tracker only decides FAULT
 * (reverse: FAULT while up). Otherwise a positive weight is added while up and a negative one
 * while down; `reverse` multiplies by -1 (keepalived's weight_multiplier).
 */
export function binaryContribution(up: boolean, weight: number, reverse: boolean): Contribution {
  if (weight === 0) return { delta: 0, fault: up === reverse };
  const m = reverse ? -1 : 1;
  if (up) return { delta: weight > 0 ? weight * m : 0, fault: false };
  return { delta: weight < 0 ? weight * m : 0, fault: false };
}

/** keepalived's floor for a tracked file: value × weight at or below it means FAULT. */
export const FILE_FAULT = -254;
const FILE_MAX = 253;

/**
 * track_file: weight 0 means a non-zero value is FAULT (reverse: zero is FAULT). Otherwise
 * value × weight (× -1 if reverse) is added, clamped to 253, and a product ≤ -254 is FAULT and adds
 * nothing.
 */
export function fileContribution(value: number, weight: number, reverse: boolean): Contribution {
  if (weight === 0) return { delta: 0, fault: (value !== 0) !== reverse };
  const status = value * weight * (reverse ? -1 : 1);
  if (status <= FILE_FAULT) return { delta: 0, fault: true };
  return { delta: Math.min(status, FILE_MAX), fault: false };
}

/**
 * vrrp_script's rise/fall counter exactly as vrrp_script_child_thread keeps it: `result` runs from
 * 0 to rise+fall-1 and the script is good at rise or above. A success below rise-1 counts up, the
 * one reaching rise jumps to the top; a failure above rise counts down, the one at rise drops to 0.
 * So `fall` consecutive failures take a good script down and `rise` consecutive successes bring a
 * bad one up, and a single opposite result resets the streak.
 */
export class RiseFall {
  private result: number;
  /** true until the first result: keepalived's SCRIPT_INIT_STATE_INIT. */
  private init: boolean;

  constructor(
    readonly rise: number,
    readonly fall: number,
    initFail: boolean,
  ) {
    if (!Number.isInteger(rise) || rise < 1) throw new Error(`rise ${rise} must be an integer ≥ 1`);
    if (!Number.isInteger(fall) || fall < 1) throw new Error(`fall ${fall} must be an integer ≥ 1`);
    // vrrp_init_script: an unknown script needs one success; init_fail needs `rise` of them.
    this.result = initFail ? 0 : rise - 1;
    this.init = !initFail;
  }

  /** null = no result yet (never with init_fail, which starts down). */
  get up(): boolean | null {
    if (this.init) return null;
    return this.result >= this.rise;
  }

  /** Feed one run's outcome; returns the new state when it changed, else undefined. */
  record(success: boolean): boolean | undefined {
    const before = this.up;
    const top = this.rise + this.fall - 1;
    if (success) {
      if (this.result < this.rise - 1) this.result++;
      else this.result = top;
    } else if (this.result > this.rise) {
      this.result--;
    } else {
      this.result = 0;
    }
    this.init = false;
    const after = this.up;
    return after === before ? undefined : (after as boolean);
  }

  /** Progress for status lines: "2/3 successes" while rising, "1/2 failures" while falling. */
  progress(): string {
    const up = this.up;
    if (up === null) return 'no result yet';
    if (up) {
      const fails = this.rise + this.fall - 1 - this.result;
      return fails === 0 ? 'good' : `good, ${fails}/${this.fall} failures`;
    }
    return this.result === 0 ? 'bad' : `bad, ${this.result}/${this.rise} successes`;
  }
}
