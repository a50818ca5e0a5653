/**
 * floatip and keepalived behind one interface, so every benchmark step treats them alike: same
 * config file, same fault (SIGSTOP of the process that sends adverts; SIGTERM for a graceful
 * stop), same way of reading the state from the log.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab, LabNode, LabProcess } from '../../test/netns/harness.js';
import { startKeepalived } from '../../test/netns/keepalived.js';

export type Impl = 'floatip' | 'keepalived';
export const IMPLS: Impl[] = ['floatip', 'keepalived'];
export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

export interface BenchDaemon {
  impl: Impl;
  node: LabNode;
  label: string;
  /** Processes whose CPU time and memory count as the daemon's (keepalived: parent + VRRP child). */
  pids: number[];
  /** Number of log lines so far; pass to waitForState to look only at later lines. */
  mark(): number;
  /** Last state of each instance according to the log lines from `since` on. */
  states(since?: number): Map<string, VrrpState>;
  waitForState(instance: string, state: VrrpState, timeoutMs: number, since?: number): Promise<void>;
  /** SIGSTOP / SIGCONT of the process that sends adverts. */
  freeze(): void;
  thaw(): void;
  /** SIGTERM: a priority-0 advert, then exit. */
  stop(): Promise<number | null>;
  /** SIGKILL, frozen or not: a crash, no goodbye advert and no provider release. */
  kill(): Promise<void>;
  lines(): string[];
}

export interface StartOptions {
  /** argv prefix that runs the floatip CLI. */
  floatipArgv: string[];
  startTimeoutMs?: number;
  /** floatip picks the config format by extension; default keepalived.conf. */
  configName?: string;
  /** Extra environment of the floatip process. */
  env?: Record<string, string>;
}

type Extract = (line: string) => { instance: string; state: VrrpState } | undefined;

function extractFloatip(line: string): { instance: string; state: VrrpState } | undefined {
  if (!line.startsWith('{') || !line.includes('"transition"')) return undefined;
  try {
    const j = JSON.parse(line) as { event?: string; instance?: string; to?: string };
    if (j.event === 'transition' && j.instance && j.to)
      return { instance: j.instance, state: j.to as VrrpState };
  } catch {
    // not a log line
  }
  return undefined;
}

const KA_ENTERING = /\((\S+)\) Entering (INIT|BACKUP|MASTER|FAULT|STOP) STATE/;
function extractKeepalived(line: string): { instance: string; state: VrrpState } | undefined {
  const m = KA_ENTERING.exec(line);
  return m ? { instance: m[1]!, state: m[2] as VrrpState } : undefined;
}

function logStates(lines: () => string[], extract: Extract) {
  const states = (since = 0): Map<string, VrrpState> => {
    const out = new Map<string, VrrpState>();
    const ls = lines();
    for (let i = since; i < ls.length; i++) {
      const e = extract(ls[i]!);
      if (e) out.set(e.instance, e.state);
    }
    return out;
  };
  const waitForState = async (
    label: string,
    instance: string,
    state: VrrpState,
    timeoutMs: number,
    since = 0,
  ): Promise<void> => {
    const end = Date.now() + timeoutMs;
    let scanned = since;
    for (;;) {
      const ls = lines();
      for (; scanned < ls.length; scanned++) {
        const e = extract(ls[scanned]!);
        if (e && e.instance === instance && e.state === state) return;
      }
      if (Date.now() > end)
        throw new Error(
          `${label}: (${instance}) did not enter ${state} within ${timeoutMs} ms; last output:\n${ls.slice(-15).join('\n')}`,
        );
      await sleep(10);
    }
  };
  return { states, waitForState };
}

export async function startDaemon(
  lab: Lab,
  impl: Impl,
  node: LabNode,
  config: string,
  opts: StartOptions,
): Promise<BenchDaemon> {
  const timeout = opts.startTimeoutMs ?? 30000;
  if (impl === 'keepalived') {
    const ka = await startKeepalived(lab, node, config, { startTimeoutMs: timeout });
    const lines = (): string[] => ka.proc.lines();
    const ls = logStates(lines, extractKeepalived);
    return {
      impl,
      node,
      label: ka.proc.label,
      pids: [ka.proc.pid, ka.vrrpPid],
      mark: () => ka.mark(),
      states: ls.states,
      waitForState: (i, s, t, since) => ls.waitForState(ka.proc.label, i, s, t, since),
      freeze: () => ka.freeze(),
      thaw: () => ka.thaw(),
      stop: () => ka.stop(),
      async kill() {
        for (const pid of [ka.vrrpPid, ka.proc.pid]) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        await ka.proc.exited;
      },
      lines,
    };
  }
  const dir = mkdtempSync(join(tmpdir(), `${lab.id}-bench-fip-${node.name}-`));
  const confPath = join(dir, opts.configName ?? 'keepalived.conf');
  writeFileSync(confPath, config);
  const label = `floatip@${node.name}`;
  const proc: LabProcess = lab.spawn(
    node.ns,
    [...opts.floatipArgv, 'run', '-f', confPath, '--stats-file', join(dir, 'stats.json'), '--no-pretty'],
    { label, ...(opts.env ? { env: opts.env } : {}) },
  );
  void proc.exited.then(() => rmSync(dir, { recursive: true, force: true }));
  await proc.waitForLine((l) => l.startsWith('{') && l.includes('"event":"ready"'), timeout);
  const lines = (): string[] => proc.lines();
  const ls = logStates(lines, extractFloatip);
  return {
    impl,
    node,
    label,
    pids: [proc.pid],
    mark: () => lines().length,
    states: ls.states,
    waitForState: (i, s, t, since) => ls.waitForState(label, i, s, t, since),
    freeze: () => proc.signal('SIGSTOP'),
    thaw: () => proc.signal('SIGCONT'),
    stop: () => proc.stop(3000),
    async kill() {
      proc.signal('SIGKILL');
      await proc.exited;
    },
    lines,
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
