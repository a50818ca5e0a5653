/**
 * Durations in the native YAML format: "250ms", "1s", "2.5s", "5m", or a plain number of seconds.
 * Everything is normalized to milliseconds; sub-millisecond precision is rejected rather than
 * silently rounded, because the VRRP timers that use these values are millisecond timers.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

const DURATION_RE = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?$/;

export type DurationResult = { ok: true; ms: number } | { ok: false; message: string };

/** Parses a duration written as a string with a unit or as a number of seconds. */
export function parseDuration(value: string | number): DurationResult {
  let amount: number;
  let unit: string;
  if (typeof value === 'number') {
    amount = value;
    unit = 's';
  } else {
    const m = DURATION_RE.exec(value.trim());
    if (!m || m[1] === undefined) {
      return {
        ok: false,
        message: `'${value}' is not a duration; write e.g. "100ms", "1s", "2.5s", "5m" or a number of seconds`,
      };
    }
    amount = Number(m[1]);
    unit = m[2] ?? 's';
  }
  if (!Number.isFinite(amount) || amount < 0) {
    return { ok: false, message: `duration ${String(value)} must be a non-negative number of seconds` };
  }
  const factor = UNIT_MS[unit] ?? 1000;
  const ms = amount * factor;
  const rounded = Math.round(ms);
  // Floating point turns "0.1s" into 100.00000000000001 ms; anything further off is a real fraction.
  if (Math.abs(ms - rounded) > 1e-6) {
    return {
      ok: false,
      message: `duration ${String(value)} has sub-millisecond precision; use whole milliseconds`,
    };
  }
  return { ok: true, ms: rounded };
}

/** Human form used in messages and docs: 1000 → "1s", 250 → "250ms". */
export function formatDuration(ms: number): string {
  if (ms !== 0 && ms % 1000 === 0) return `${ms / 1000}s`;
  if (ms >= 1000) return `${ms / 1000}s`;
  return `${ms}ms`;
}
