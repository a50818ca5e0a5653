/**
 * The daemon's monotonic clock in integer microseconds, the unit the VRRP reducer uses.
 * Monotonic so that an NTP step or a manual `date -s` never fires or starves a Master_Down timer.
 */
export interface Clock {
  nowUs(): number;
}

const origin = process.hrtime.bigint();

export const monotonicClock: Clock = {
  nowUs: () => Number((process.hrtime.bigint() - origin) / 1000n),
};

/** A pending deadline; cancel() is idempotent. */
export interface Deadline {
  cancel(): void;
}

/**
 * Call `onFire` once the clock reaches `atUs`. Node's timers run on a millisecond loop clock
 * that can fire a fraction of a millisecond before an hrtime deadline, and the reducers rightly
 * ignore early fires, so an early wake-up re-arms for the remainder instead of being lost.
 * `unref`: the deadline alone does not keep the process alive.
 */
export function armDeadline(
  clock: Clock,
  atUs: number,
  onFire: () => void,
  opts: { unref?: boolean } = {},
): Deadline {
  let handle: NodeJS.Timeout | null = null;
  const schedule = (): void => {
    handle = setTimeout(fire, Math.max(0, Math.ceil((atUs - clock.nowUs()) / 1000)));
    if (opts.unref) handle.unref();
  };
  const fire = (): void => {
    if (atUs - clock.nowUs() > 0) {
      schedule();
      return;
    }
    handle = null;
    onFire();
  };
  schedule();
  return {
    cancel: () => {
      if (handle) clearTimeout(handle);
      handle = null;
    },
  };
}
