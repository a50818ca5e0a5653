/** The script provider's own options (the `providers: - type: script` entry of an instance). */
import { parseDuration } from '../../src/config/duration.js';

export interface ScriptOptions {
  /**
   * Upper bound for one notify command. keepalived never times out notify_master/backup/fault;
   * floatip does, so a hung script cannot hold up the next transition forever.
   */
  timeoutMs: number;
  /** For notify_stop and the generic notify on STOP: keepalived kills those after 1 s. */
  stopTimeoutMs: number;
}

const KNOWN = ['timeout', 'stop_timeout'] as const;
export const DEFAULT_TIMEOUT_MS = 30_000;
/** keepalived: system_call_script(..., TIMER_HZ, ...) for STOP, then SIGKILL of the group. */
export const DEFAULT_STOP_TIMEOUT_MS = 1_000;

export function parseScriptOptions(raw: Record<string, unknown>, instance: string): ScriptOptions {
  for (const key of Object.keys(raw)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      throw new Error(
        `instance ${instance}: script provider: unknown option "${key}"; the options are ${KNOWN.join(', ')}`,
      );
    }
  }
  const duration = (key: (typeof KNOWN)[number], dflt: number): number => {
    const v = raw[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'string' && typeof v !== 'number') {
      throw new Error(
        `instance ${instance}: script provider: option ${key} must be a duration like "30s", not ${JSON.stringify(v)}`,
      );
    }
    const d = parseDuration(v);
    if (!d.ok) throw new Error(`instance ${instance}: script provider: option ${key}: ${d.message}`);
    if (d.ms <= 0)
      throw new Error(`instance ${instance}: script provider: option ${key} must be more than 0`);
    return d.ms;
  };
  return {
    timeoutMs: duration('timeout', DEFAULT_TIMEOUT_MS),
    stopTimeoutMs: duration('stop_timeout', DEFAULT_STOP_TIMEOUT_MS),
  };
}
