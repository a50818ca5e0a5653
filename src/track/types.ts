import type { Logger } from 'pino';
import type {
  HttpCheckSpec as ModelHttpCheckSpec,
  TcpCheckSpec as ModelTcpCheckSpec,
} from '../config/model.js';

export type TrackerKind = 'script' | 'interface' | 'process' | 'file' | 'http' | 'tcp';

/** One tracker as an operator sees it (`floatip status`, /status). */
export interface TrackerStatus {
  name: string;
  kind: TrackerKind;
  /** null while a script-like check has not finished its first run. */
  up: boolean | null;
  /** The file tracker's last value; absent for the other kinds. */
  value?: number;
  detail: string;
}

/** What the trackers ask of one VRRP instance: feed `delta` to setWeights, `faults` to setFault. */
export interface TrackInputs {
  /** Σ of the weights currently applied, added to the base priority as keepalived's total_priority. */
  delta: number;
  /** One line per tracker holding the instance in FAULT; empty = no fault. */
  faults: string[];
}

/** Why an instance's inputs changed: the tracker that moved and how. */
export interface ChangeCause {
  kind: TrackerKind;
  tracker: string;
  from: string;
  to: string;
  /** The weight this instance applies to the tracker (after TrackRef overrides); 0 = fault-only. */
  weight: number;
  reverse: boolean;
  /** Ready-made log line. */
  text: string;
}

export type ChangeListener = (instance: string, inputs: TrackInputs, cause: ChangeCause) => void;

/**
 * The checks as the config model has them (src/config/model.ts), without source positions, and
 * with the defaults (expected status 200, no init_fail) optional for callers that build them in code.
 */
export type HttpCheckSpec = Omit<ModelHttpCheckSpec, 'pos' | 'expectStatus' | 'initFail'> & {
  expectStatus?: number;
  initFail?: boolean;
};
export type TcpCheckSpec = Omit<ModelTcpCheckSpec, 'pos' | 'initFail'> & { initFail?: boolean };

/** http/tcp checks share the vrrp_script name space: instances list them under trackScripts. */
export interface NetChecks {
  http?: HttpCheckSpec[];
  tcp?: TcpCheckSpec[];
}

/** The timer calls trackers use, injectable so tests can drive time by hand. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export type { Logger };
