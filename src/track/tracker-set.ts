/**
 * All trackers of one config and the inputs they give each VRRP instance. Each tracked object runs
 * once however many instances follow it; an instance's inputs are recomputed from the current
 * state of its trackers whenever one of them changes, and listeners hear only real changes.
 */
import type { Logger } from 'pino';
import type { FloatipConfig } from '../config/model.js';
import { splitQuotedEscaped } from '../config/keepalived-conf.js';
import { FileTracker } from './file.js';
import { InterfaceTracker, readLinkState, type LinkReader } from './interface.js';
import { resolveLinks, type TrackLink } from './links.js';
import { PeriodicCheck } from './periodic.js';
import { matches, ProcessTracker, scanProc, type ProcEntry } from './process.js';
import { httpProbe, scriptProbe, tcpProbe } from './probes.js';
import { runScript as realRunScript, type ScriptRunner } from './script-exec.js';
import type { Tracker, TrackerEvent } from './tracker.js';
import {
  realTimers,
  type ChangeCause,
  type ChangeListener,
  type NetChecks,
  type Timers,
  type TrackerKind,
  type TrackerStatus,
  type TrackInputs,
} from './types.js';
import { scriptIdentity } from './users.js';
import { binaryContribution, fileContribution } from './weights.js';

export interface TrackerDeps {
  log: Logger;
  timers?: Timers;
  /** Runs one script; tests inject a fake. */
  runScript?: ScriptRunner;
  readLink?: LinkReader;
  scanProcesses?: (wantCmdline: boolean) => Promise<ProcEntry[]>;
  /** Poll intervals in ms; each at least 100, default 1000. */
  pollMs?: { interface?: number; process?: number; file?: number };
  /** Effective uid, for the script `user` checks; default process.geteuid(). */
  euid?: number;
  /** Sync groups that set keepalived's sync_group_tracking_weight (not in the config model yet). */
  syncGroupTrackingWeight?: ReadonlySet<string>;
}

const key = (kind: TrackerKind, name: string): string => `${kind}:${name}`;

export class TrackerSet {
  private readonly trackers = new Map<string, Tracker>();
  private readonly processTrackers: ProcessTracker[] = [];
  private readonly links: Map<string, TrackLink[]>;
  /** tracker key → instances following it. */
  private readonly followers = new Map<string, string[]>();
  private readonly last = new Map<string, TrackInputs>();
  private readonly listeners: ChangeListener[] = [];
  private readonly timers: Timers;
  private readonly log: Logger;
  private readonly procPollMs: number;
  private procTimer: unknown = null;
  private procScan: Promise<void> | null = null;
  private firstScan: Promise<void> = Promise.resolve();
  private started = false;
  private stopped = false;
  private readonly scan: (wantCmdline: boolean) => Promise<ProcEntry[]>;

  constructor(
    config: FloatipConfig,
    deps: TrackerDeps,
    checks: NetChecks = { http: config.httpChecks ?? [], tcp: config.tcpChecks ?? [] },
  ) {
    this.log = deps.log;
    this.timers = deps.timers ?? realTimers;
    const poll = (v: number | undefined, what: string): number => {
      const ms = v ?? 1000;
      if (!(ms >= 100)) throw new Error(`${what} poll interval ${ms} ms is too short; use at least 100 ms`);
      return ms;
    };
    const ifPoll = poll(deps.pollMs?.interface, 'interface');
    this.procPollMs = poll(deps.pollMs?.process, 'process');
    const filePoll = poll(deps.pollMs?.file, 'file');
    const run = deps.runScript ?? realRunScript;
    const euid = deps.euid ?? process.geteuid?.() ?? 0;
    this.scan = deps.scanProcesses ?? ((wantCmdline) => scanProc('/proc', wantCmdline));

    const resolved = resolveLinks(config, checks, {
      ...(deps.syncGroupTrackingWeight ? { syncGroupTrackingWeight: deps.syncGroupTrackingWeight } : {}),
    });
    for (const w of resolved.warnings) this.log.warn({ event: 'track-config' }, w);
    this.links = resolved.links;
    const wanted = new Set<string>();
    for (const [inst, ls] of this.links) {
      for (const l of ls) {
        const k = key(l.kind, l.name);
        wanted.add(k);
        this.followers.set(k, [...(this.followers.get(k) ?? []), inst]);
      }
    }

    for (const s of config.scripts) {
      if (!wanted.has(key('script', s.name))) continue;
      const who = `vrrp_script ${s.name}`;
      const split = splitQuotedEscaped(s.script);
      if (split.error || split.words.length === 0 || split.words[0] === '') {
        throw new Error(
          `${who}: cannot split script ${JSON.stringify(s.script)} into a command: ${split.error ?? 'it is empty'}`,
        );
      }
      const global = config.global;
      const user = s.user ?? global.scriptUser;
      const group = s.user !== undefined ? s.group : global.scriptGroup;
      const ids = scriptIdentity(who, user, group, { euid });
      const timeoutMs = s.timeoutMs ?? s.intervalMs;
      this.add(
        new PeriodicCheck(
          'script',
          s.name,
          scriptProbe(split.words, timeoutMs, ids, run),
          { intervalMs: s.intervalMs, rise: s.rise, fall: s.fall, initFail: s.initFail },
          this.timers,
          this.log,
        ),
      );
    }
    for (const h of checks.http ?? []) {
      if (!wanted.has(key('http', h.name))) continue;
      const probe = httpProbe(h.url, h.expectStatus ?? 200, h.timeoutMs ?? h.intervalMs);
      this.add(new PeriodicCheck('http', h.name, probe, periodic(h), this.timers, this.log));
    }
    for (const t of checks.tcp ?? []) {
      if (!wanted.has(key('tcp', t.name))) continue;
      const probe = tcpProbe(t.host, t.port, t.timeoutMs ?? t.intervalMs);
      this.add(new PeriodicCheck('tcp', t.name, probe, periodic(t), this.timers, this.log));
    }
    const readLink = deps.readLink ?? readLinkState;
    for (const k of wanted) {
      if (!k.startsWith('interface:')) continue;
      const name = k.slice('interface:'.length);
      this.add(new InterfaceTracker(name, readLink, ifPoll, this.timers, this.log));
    }
    for (const p of config.processes) {
      if (!wanted.has(key('process', p.name))) continue;
      const t = new ProcessTracker(p, this.timers, this.log);
      this.processTrackers.push(t);
      this.add(t);
    }
    for (const f of config.files) {
      if (!wanted.has(key('file', f.name))) continue;
      this.add(new FileTracker(f, filePoll, this.timers, this.log));
    }
    for (const inst of this.links.keys()) this.last.set(inst, this.compute(inst));
  }

  /** Starts every check; scripts, /proc and files get their first run at once. */
  start(): void {
    if (this.started) throw new Error('TrackerSet.start() called twice');
    this.started = true;
    for (const t of this.trackers.values()) t.start((e) => this.onEvent(t, e));
    if (this.processTrackers.length > 0) {
      this.firstScan = this.scanOnce();
      this.procScan = this.firstScan;
    }
  }

  /** Stops polling and kills running scripts (their process groups). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.procTimer !== null) this.timers.clearTimeout(this.procTimer);
    this.procTimer = null;
    await Promise.all([...this.trackers.values()].map((t) => t.stop()));
    await this.procScan;
  }

  /**
   * Resolves when every tracker has a first result (scripts: first exit or timeout). keepalived
   * keeps an instance from taking MASTER while its scripts are still in their initial state; the
   * daemon can await this before starting instances.
   */
  async firstResults(): Promise<void> {
    await Promise.all([...this.trackers.values()].map((t) => t.firstResult));
    await this.firstScan;
  }

  /** Current inputs for one instance; an instance without trackers gets { delta: 0, faults: [] }. */
  inputs(instance: string): TrackInputs {
    return this.compute(instance);
  }

  onChange(cb: ChangeListener): void {
    this.listeners.push(cb);
  }

  status(): TrackerStatus[] {
    return [...this.trackers.values()].map((t) => {
      const o = t.observe();
      const s: TrackerStatus = { name: t.name, kind: t.kind, up: o.up, detail: t.detail() };
      if (o.value !== undefined) s.value = o.value;
      return s;
    });
  }

  private add(t: Tracker): void {
    this.trackers.set(key(t.kind, t.name), t);
  }

  private compute(instance: string): TrackInputs {
    let delta = 0;
    const faults: string[] = [];
    for (const l of this.links.get(instance) ?? []) {
      const t = this.trackers.get(key(l.kind, l.name));
      if (!t) continue;
      const o = t.observe();
      let c;
      if (l.kind === 'file') {
        if (o.value === undefined) continue;
        c = fileContribution(o.value, l.weight, l.reverse);
      } else {
        if (o.up === null) continue;
        c = binaryContribution(o.up, l.weight, l.reverse);
      }
      delta += c.delta;
      // Fault lines name the state, not the changing detail, so they only differ when the fault does.
      if (c.fault) faults.push(faultLine(l, o.up, o.value));
    }
    return { delta, faults };
  }

  private onEvent(t: Tracker, e: TrackerEvent): void {
    if (this.stopped) return;
    const k = key(t.kind, t.name);
    this.log.info(
      { event: 'track-change', kind: t.kind, tracker: t.name, from: e.from, to: e.to, detail: e.detail },
      `${t.kind} ${t.name}: ${e.from} -> ${e.to} (${e.detail})`,
    );
    for (const inst of this.followers.get(k) ?? []) {
      const next = this.compute(inst);
      const prev = this.last.get(inst);
      if (prev && prev.delta === next.delta && sameList(prev.faults, next.faults)) continue;
      this.last.set(inst, next);
      const l = (this.links.get(inst) ?? []).find((x) => x.kind === t.kind && x.name === t.name);
      const weight = l?.weight ?? 0;
      const reverse = l?.reverse ?? false;
      const what = weight === 0 ? 'fault-only' : `weight ${weight}${reverse ? ' reverse' : ''}`;
      const cause: ChangeCause = {
        kind: t.kind,
        tracker: t.name,
        from: e.from,
        to: e.to,
        weight,
        reverse,
        text: `${t.kind} ${t.name} ${e.from} -> ${e.to} (${what}; ${e.detail})`,
      };
      for (const cb of this.listeners) {
        try {
          cb(inst, next, cause);
        } catch (err) {
          this.log.error({ err, instance: inst }, 'tracker change listener failed');
        }
      }
    }
  }

  private async scanOnce(): Promise<void> {
    const wantCmdline = this.processTrackers.some((p) => p.matcher.params !== null);
    try {
      const procs = await this.scan(wantCmdline);
      if (this.stopped) return;
      for (const t of this.processTrackers) t.update(procs.filter((p) => matches(t.matcher, p)).length);
    } catch (err) {
      this.log.error(
        { event: 'track-error', kind: 'process', err },
        `process tracking: ${(err as Error).message}`,
      );
      // The state stays unknown, but firstResults() must not wait for a scan that cannot succeed.
      for (const t of this.processTrackers) t.scanFailed((err as Error).message);
    }
    if (this.stopped) return;
    this.procTimer = this.timers.setTimeout(() => {
      this.procScan = this.scanOnce();
    }, this.procPollMs);
  }
}

function periodic(s: { intervalMs: number; rise: number; fall: number; initFail?: boolean }): {
  intervalMs: number;
  rise: number;
  fall: number;
  initFail: boolean;
} {
  return { intervalMs: s.intervalMs, rise: s.rise, fall: s.fall, initFail: s.initFail ?? false };
}

function faultLine(l: TrackLink, up: boolean | null, value: number | undefined): string {
  const rev = l.reverse ? ' (reverse)' : '';
  if (l.kind === 'file') {
    return l.weight === 0
      ? `file ${l.name} value ${value}${rev}`
      : `file ${l.name} value ${value} x weight ${l.weight}${rev} is at or below -254`;
  }
  const own = l.own ? ' (the instance interface)' : '';
  return `${l.kind} ${l.name}${own} ${up ? 'up' : 'down'}${rev}`;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
