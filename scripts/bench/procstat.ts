/** CPU time and memory of running processes, from /proc/PID/stat and /proc/PID/status. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clkTck: number | undefined;

/** Clock ticks per second for /proc/PID/stat's utime and stime (almost always 100). */
export function clockTicks(): number {
  if (clkTck === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(r.stdout?.trim());
    clkTck = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return clkTck;
}

/** utime + stime of one process in seconds. */
export function cpuSeconds(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm (field 2) may hold spaces and parentheses: fields after it start past the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error(`/proc/${pid}/stat: cannot read utime/stime from "${text.trim()}"`);
  return (utime + stime) / clockTicks();
}

/** VmRSS and VmHWM in KiB. */
export function memoryKiB(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    if (!m) throw new Error(`/proc/${pid}/status has no ${name} line`);
    return Number(m[1]);
  };
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

export interface Usage {
  cpuSec: number;
  rssKiB: number;
  hwmKiB: number;
}

/** Sum over a set of processes (keepalived's parent and VRRP child count as one daemon). */
export function usage(pids: number[]): Usage {
  let cpuSec = 0;
  let rssKiB = 0;
  let hwmKiB = 0;
  for (const pid of pids) {
    cpuSec += cpuSeconds(pid);
    const m = memoryKiB(pid);
    rssKiB += m.rss;
    hwmKiB += m.hwm;
  }
  return { cpuSec, rssKiB, hwmKiB };
}
