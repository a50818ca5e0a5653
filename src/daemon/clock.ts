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
