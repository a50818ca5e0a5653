import type { TrackerKind } from './types.js';

/** What a tracker says right now. */
export interface Observation {
  /** null: no result yet (a script that has not finished its first run). */
  up: boolean | null;
  /** Only file trackers: the integer read from the file. */
  value?: number;
}

export interface TrackerEvent {
  from: string;
  to: string;
  detail: string;
}

/** One tracked object (script, interface, process, file, http, tcp), shared by every instance that follows it. */
export interface Tracker {
  readonly kind: TrackerKind;
  readonly name: string;
  observe(): Observation;
  /** Human-readable state for status output and fault lines. */
  detail(): string;
  /** `emit` is called after every change of observe(). */
  start(emit: (e: TrackerEvent) => void): void;
  stop(): Promise<void>;
  /** Resolves once the tracker has its first real result. */
  readonly firstResult: Promise<void>;
}

export function showUp(up: boolean | null): string {
  return up === null ? 'unknown' : up ? 'up' : 'down';
}
