/** Markdown tables and the summary rows the JSON carries. */
import type { CloudTrial } from './cloud.js';
import type { CloudMechanism } from './cloud-seed.js';
import type { DetectionConfig } from './configs.js';
import type { FaultKind, Trial } from './detection.js';
import type { Impl } from './daemons.js';
import type { FootprintRow } from './footprint.js';
import { summarize, type Summary } from './stats.js';

export type Metric = 'advert' | 'garp' | 'client';
export const METRICS: Metric[] = ['advert', 'garp', 'client'];
const METRIC_LABEL: Record<Metric, string> = {
  advert: "new master's first advert",
  garp: 'first gratuitous ARP',
  client: "client's first TCP connect",
};
const FAULT_LABEL: Record<FaultKind, string> = {
  hard: 'hard (SIGSTOP master)',
  graceful: 'graceful (priority 0)',
};

export interface DetectionRow {
  config: string;
  fault: FaultKind;
  metric: Metric;
  formulaSec: number;
  trials: Record<Impl, { ok: number; failed: number }>;
  /** Seconds; undefined when no trial saw the event. */
  floatip?: Summary;
  keepalived?: Summary;
  /** Why a side has no numbers, for the table. */
  missing: Partial<Record<Impl, string>>;
  /** floatip median / keepalived median. */
  ratio?: number;
}

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  kernel: string;
  node: string;
  keepalived: string;
  loadAvgStart: string;
  loadAvgEnd?: string;
}

export function detectionRows(
  trials: Trial[],
  configs: DetectionConfig[],
  faults: FaultKind[],
  formula: (c: DetectionConfig, f: FaultKind) => number,
): DetectionRow[] {
  const rows: DetectionRow[] = [];
  for (const c of configs) {
    for (const fault of faults) {
      const mine = trials.filter((t) => t.config === c.name && t.fault === fault);
      for (const metric of METRICS) {
        const row: DetectionRow = {
          config: c.name,
          fault,
          metric,
          formulaSec: formula(c, fault),
          trials: { floatip: { ok: 0, failed: 0 }, keepalived: { ok: 0, failed: 0 } },
          missing: {},
        };
        for (const impl of ['floatip', 'keepalived'] as const) {
          const ts = mine.filter((t) => t.impl === impl);
          const ok = ts.filter((t) => t.ok);
          row.trials[impl] = { ok: ok.length, failed: ts.length - ok.length };
          const values = ok.map((t) => t[metric]).filter((v): v is number => v !== undefined);
          const s = summarize(values);
          if (s) row[impl] = s;
          else if (ok.length === 0) row.missing[impl] = 'n/a — no successful trial';
          else if (metric === 'advert') row.missing[impl] = 'n/a — no advert seen';
          else if (metric === 'garp') row.missing[impl] = 'n/a — no GARP seen';
          else if (ok.every((t) => t.garp === undefined)) row.missing[impl] = 'n/a — no GARP seen';
          else row.missing[impl] = 'n/a — no connection seen';
        }
        if (row.floatip && row.keepalived && row.keepalived.median > 0)
          row.ratio = row.floatip.median / row.keepalived.median;
        rows.push(row);
      }
    }
  }
  return rows;
}

const ms = (s: number): string => (s * 1000).toFixed(1);

function cells(s: Summary | undefined, missing: string | undefined): string[] {
  if (!s) return [missing ?? 'n/a', '–', '–'];
  return [ms(s.median), ms(s.p95), ms(s.max)];
}

export function detectionTable(rows: DetectionRow[]): string {
  const out = [
    '| config | fault | until | RFC formula ms | floatip median | p95 | max | keepalived median | p95 | max | floatip / keepalived |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    out.push(
      `| ${r.config} | ${FAULT_LABEL[r.fault]} | ${METRIC_LABEL[r.metric]} | ${ms(r.formulaSec)} | ${cells(r.floatip, r.missing.floatip).join(' | ')} | ${cells(r.keepalived, r.missing.keepalived).join(' | ')} | ${r.ratio === undefined ? '–' : r.ratio.toFixed(2)} |`,
    );
  }
  return out.join('\n');
}

/** Trials per cell, and a list of failed trials if there were any. */
export function trialNote(trials: Trial[]): string {
  const failed = trials.filter((t) => !t.ok);
  const counts = new Map<string, number>();
  for (const t of trials)
    counts.set(`${t.config}/${t.fault}/${t.impl}`, (counts.get(`${t.config}/${t.fault}/${t.impl}`) ?? 0) + 1);
  const ns = [...new Set(counts.values())];
  let s = `Trials per implementation and cell: ${ns.join(', ')} (interleaved floatip, keepalived, floatip, …).`;
  if (failed.length > 0) {
    s += ` ${failed.length} trial(s) failed and are left out:\n`;
    for (const t of failed)
      s += `\n- ${t.config} ${t.fault} #${t.index + 1} ${t.impl}: ${t.error?.split('\n')[0]}`;
  }
  return s;
}

function ratio(a: number, b: number, unitFloor: number): string {
  if (b < unitFloor && a < unitFloor) return '–';
  if (b < unitFloor) return `> ${(a / unitFloor).toFixed(0)}`;
  return (a / b).toFixed(2);
}

export function footprintTable(rows: FootprintRow[]): string {
  const out = [
    '| instances | advert_int | role | floatip RSS MiB | keepalived RSS MiB | RSS ratio | floatip CPU % | keepalived CPU % | CPU ratio |',
    '|---:|---:|---|---:|---:|---:|---:|---:|---:|',
  ];
  const key = (r: FootprintRow): string => `${r.instances}/${r.advertInt}/${r.role}`;
  const seen = new Set<string>();
  for (const r of rows) {
    if (seen.has(key(r))) continue;
    seen.add(key(r));
    const f = rows.find((x) => key(x) === key(r) && x.impl === 'floatip');
    const k = rows.find((x) => key(x) === key(r) && x.impl === 'keepalived');
    // One clock tick over the window is the smallest CPU share /proc can show.
    const floor = f ? (0.01 / f.windowSec) * 100 : 0.01;
    out.push(
      `| ${r.instances} | ${r.advertInt} | ${r.role} | ${f ? f.rssMiB.toFixed(1) : '–'} | ${k ? k.rssMiB.toFixed(1) : '–'} | ${f && k ? (f.rssMiB / k.rssMiB).toFixed(1) : '–'} | ${f ? f.cpuPercent.toFixed(2) : '–'} | ${k ? k.cpuPercent.toFixed(2) : '–'} | ${f && k ? ratio(f.cpuPercent, k.cpuPercent, floor) : '–'} |`,
    );
  }
  return out.join('\n');
}

export function machineBlock(m: MachineInfo, totalSec: number, command: string): string {
  return [
    `- machine: ${m.nproc} CPU(s), ${m.cpuModel}; kernel ${m.kernel}`,
    `- node ${m.node}; keepalived ${m.keepalived}`,
    `- load average (1, 5, 15 min) at start: ${m.loadAvgStart}; at end: ${m.loadAvgEnd ?? '?'}`,
    `- total run time: ${totalSec.toFixed(0)} s`,
    `- command: \`${command}\``,
  ].join('\n');
}

export interface CloudRow {
  mechanism: CloudMechanism;
  n: number;
  latencyMs: number;
  trials: { ok: number; failed: number };
  /** Seconds, over successful trials. */
  request?: Summary;
  confirmed?: Summary;
  detect?: Summary;
  /** Calls per failover by the new master (medians and maxima over trials). */
  calls?: { mutating: Summary; readBack: Summary; failed: Summary };
}

export function cloudRows(trials: CloudTrial[]): CloudRow[] {
  const rows: CloudRow[] = [];
  const key = (t: CloudTrial): string => `${t.mechanism}/${t.n}/${t.latencyMs}`;
  const seen = new Set<string>();
  for (const t of trials) {
    if (seen.has(key(t))) continue;
    seen.add(key(t));
    const mine = trials.filter((x) => key(x) === key(t));
    const ok = mine.filter((x) => x.ok);
    const row: CloudRow = {
      mechanism: t.mechanism,
      n: t.n,
      latencyMs: t.latencyMs,
      trials: { ok: ok.length, failed: mine.length - ok.length },
    };
    const pick = (f: (x: CloudTrial) => number | undefined): Summary | undefined =>
      summarize(ok.map(f).filter((v): v is number => v !== undefined));
    const request = pick((x) => x.request);
    const confirmed = pick((x) => x.confirmed);
    const detect = pick((x) => x.detect);
    const mutating = pick((x) => x.calls?.mutating);
    const readBack = pick((x) => x.calls?.readBack);
    const failed = pick((x) => x.calls?.failed);
    if (request) row.request = request;
    if (confirmed) row.confirmed = confirmed;
    if (detect) row.detect = detect;
    if (mutating && readBack && failed) row.calls = { mutating, readBack, failed };
    rows.push(row);
  }
  const order = (r: CloudRow): number => (r.mechanism === 'eip' ? 0 : 1e6) + r.latencyMs * 1000 + r.n;
  return rows.sort((a, b) => order(a) - order(b));
}

const CLOUD_MECHANISM_LABEL: Record<CloudMechanism, string> = {
  eip: 'eip (N Elastic IPs)',
  route: 'route (N routes, 1 table)',
};

function callsCell(c: CloudRow['calls']): string {
  if (!c) return 'n/a';
  const range = (s: Summary): string => (s.min === s.max ? `${s.min}` : `${s.min}–${s.max}`);
  const text = `${range(c.mutating)} + ${range(c.readBack)}`;
  return c.failed.max > 0 ? `${text}, ≤ ${c.failed.max} failed` : text;
}

export function cloudTable(rows: CloudRow[]): string {
  const out = [
    '| mechanism | N | emulator latency ms | trials | transition → first mutating request median | p95 | max | fault → holder confirmed median | p95 | max | calls per failover (mutating + read-back) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const trials = r.trials.failed > 0 ? `${r.trials.ok} (+${r.trials.failed} failed)` : `${r.trials.ok}`;
    const missing = r.trials.ok === 0 ? 'n/a — no successful trial' : undefined;
    out.push(
      `| ${CLOUD_MECHANISM_LABEL[r.mechanism]} | ${r.n} | ${r.latencyMs} | ${trials} | ${cells(r.request, missing).join(' | ')} | ${cells(r.confirmed, missing).join(' | ')} | ${callsCell(r.calls)} |`,
    );
  }
  return out.join('\n');
}

/** Failed cloud trials, listed like the detection part's. */
export function cloudTrialNote(trials: CloudTrial[]): string {
  const failed = trials.filter((t) => !t.ok);
  let s = `Trials per row as listed; they go round the pairs (eip N=1, route N=1, eip N=10, …).`;
  if (failed.length > 0) {
    s += ` ${failed.length} trial(s) failed and are left out:\n`;
    for (const t of failed)
      s += `\n- ${t.mechanism} N=${t.n} latency ${t.latencyMs} ms #${t.index + 1}: ${t.error?.split('\n')[0]}`;
  }
  return s;
}
