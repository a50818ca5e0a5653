/** What the numbers were measured on: they mean little without it. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release } from 'node:os';
import type { MachineInfo } from './report.js';

export function loadAverage(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');
}

export function machineInfo(): MachineInfo {
  let cpuModel = 'unknown';
  try {
    cpuModel =
      /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux; the benchmark will refuse to run anyway
  }
  const ka = spawnSync('keepalived', ['--version'], { encoding: 'utf8' });
  const kaVersion = /Keepalived (v\S+)/.exec(`${ka.stdout ?? ''}${ka.stderr ?? ''}`)?.[1] ?? 'not found';
  return {
    nproc: availableParallelism(),
    cpuModel,
    kernel: release(),
    node: process.version,
    keepalived: kaVersion,
    loadAvgStart: loadAverage(),
  };
}
