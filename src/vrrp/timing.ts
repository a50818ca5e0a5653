/**
 * VRRP timer arithmetic in integer microseconds, rounded exactly as keepalived 2.2.7 rounds it.
 *
 * keepalived keeps every interval in TIMER_HZ units (µs) in unsigned integers, so its takeover
 * times are not the RFC's real-number formulas but their truncated integer versions. A backup
 * that takes over even a few µs earlier or later than keepalived would change which of two
 * racing nodes wins, so the truncation is reproduced here literally.
 */

/** keepalived's TIMER_HZ: timer units per second. */
const TIMER_HZ = 1_000_000;
/** keepalived's TIMER_CENTI_HZ: timer units per centisecond (the v3 wire unit of intervals). */
export const US_PER_CS = 10_000;

/**
 * Skew_Time for an instance with effective priority `priority`.
 *
 * Mirrors VRRP_TIMER_SKEW_CALC in keepalived/include/vrrp.h with pri_val = 256 - priority:
 *  - v2: `pri_val * TIMER_HZ / 256`, evaluated left to right in integers (RFC 3768 ignores the
 *    advert interval here: (256 - p) / 256 seconds).
 *  - v3: `pri_val * (master_adver_int / TIMER_CENTI_HZ) * 625 / 16`, i.e. the RFC 5798
 *    (256 - p) × Master_Adver_Interval / 256 with the interval in whole centiseconds and the
 *    division by 16 truncating once at the end.
 */
export function skewTimeUs(version: 2 | 3, priority: number, masterAdverIntervalCs: number): number {
  const priVal = 256 - priority;
  if (version === 3) {
    return Math.floor((priVal * masterAdverIntervalCs * 625) / 16);
  }
  return Math.floor((priVal * TIMER_HZ) / 256);
}

/**
 * Master_Down_Interval = downTimerAdverts × Master_Adver_Interval + Skew_Time.
 *
 * Mirrors VRRP_MS_DOWN_TIMER in keepalived/include/vrrp.h (`down_timer_adverts *
 * master_adver_int + VRRP_TIMER_SKEW`), with master_adver_int in µs.
 */
export function masterDownIntervalUs(
  version: 2 | 3,
  priority: number,
  masterAdverIntervalCs: number,
  downTimerAdverts: number,
): number {
  return (
    downTimerAdverts * masterAdverIntervalCs * US_PER_CS +
    skewTimeUs(version, priority, masterAdverIntervalCs)
  );
}
