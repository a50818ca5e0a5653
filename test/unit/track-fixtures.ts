/** Small config builders for the tracker tests (not a test file itself). */
import { pino, type Logger } from 'pino';
import type {
  FileTrackerSpec,
  FloatipConfig,
  InstanceSpec,
  ProcessTrackerSpec,
  ScriptTrackerSpec,
  SyncGroupSpec,
} from '../../src/config/model.js';
import type { Timers } from '../../src/track/types.js';

const pos = { file: 'test', line: 1, col: 1 };

export function instance(name: string, o: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    name,
    interface: 'eth0',
    vrid: 1,
    priority: 100,
    advertIntervalCs: 100,
    version: 2,
    family: 'ipv4',
    preempt: true,
    preemptDelayMs: 0,
    downTimerAdverts: 3,
    unicastPeers: [],
    unicastTtl: 255,
    checkUnicastSrc: true,
    virtualIps: [],
    excludedVirtualIps: [],
    trackScripts: [],
    trackInterfaces: [],
    trackProcesses: [],
    trackFiles: [],
    notify: {},
    providers: [],
    extra: {},
    pos,
    ...o,
  };
}

export function trackConfig(o: {
  instances?: InstanceSpec[];
  scripts?: (Partial<ScriptTrackerSpec> & { name: string })[];
  processes?: (Partial<ProcessTrackerSpec> & { name: string; process?: string })[];
  files?: (Partial<FileTrackerSpec> & { name: string })[];
  syncGroups?: (Partial<SyncGroupSpec> & { name: string; members: string[] })[];
  scriptUser?: string;
}): FloatipConfig {
  return {
    file: 'test.conf',
    format: 'keepalived',
    global: {
      garpMasterDelayMs: 5000,
      garpMasterRepeat: 5,
      garpMasterRefreshMs: 0,
      garpMasterRefreshRepeat: 1,
      enableScriptSecurity: false,
      vrrpVersion: 2,
      extra: {},
      ...(o.scriptUser !== undefined ? { scriptUser: o.scriptUser } : {}),
    },
    instances: o.instances ?? [],
    scripts: (o.scripts ?? []).map((s) => ({
      script: '/bin/true',
      intervalMs: 1000,
      weight: 0,
      weightReverse: false,
      rise: 1,
      fall: 1,
      initFail: false,
      pos,
      ...s,
    })),
    processes: (o.processes ?? []).map((p) => ({
      process: p.name,
      weight: 0,
      weightReverse: false,
      quorum: 1,
      delayMs: 0,
      pos,
      ...p,
    })),
    files: (o.files ?? []).map((f) => ({ file: '/nonexistent', weight: 1, weightReverse: false, pos, ...f })),
    syncGroups: (o.syncGroups ?? []).map((g) => ({
      notify: {},
      trackScripts: [],
      trackInterfaces: [],
      trackProcesses: [],
      trackFiles: [],
      pos,
      ...g,
    })),
  };
}

export const silentLog: Logger = pino({ level: 'silent' });

/** A logger that keeps every line, for asserting what operators would read. */
export function memoryLog(): { log: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const log: Logger = pino(
    { level: 'debug' },
    {
      write(s: string) {
        const o = JSON.parse(s) as { level: number; msg: string };
        lines.push({ level: o.level, msg: o.msg });
      },
    },
  );
  return { log, lines };
}

/** Hand-driven timers: advance() fires what is due, in time order, letting promises settle between. */
export class FakeTimers implements Timers {
  now = 0;
  private seq = 0;
  private readonly due = new Map<number, { at: number; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.due.set(id, { at: this.now + ms, fn });
    return id;
  }

  clearTimeout(h: unknown): void {
    this.due.delete(h as number);
  }

  get pending(): number {
    return this.due.size;
  }

  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    await settle();
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.due) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.due.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
      await settle();
    }
    this.now = end;
  }
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** Retries an assertion until it passes or 3 s pass (for real file and process I/O). */
export async function eventually(check: () => void, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
