/**
 * Idle footprint: RSS and CPU time of a master and a backup over a fixed window, for 1, 10 and
 * 100 VRRPv3 instances at advert_int 1 and 0.1 (v2 cannot express 0.1). The floatip pair and the
 * keepalived pair run at the same time on their own nodes with distinct VRIDs; CPU time is
 * accounted per process, so one pair's work does not show up in the other's numbers.
 */
import { renderConfig, type InstanceSpec } from './configs.js';
import { IMPLS, sleep, startDaemon, type BenchDaemon, type Impl } from './daemons.js';
import type { BenchLab } from './lab.js';
import { usage, type Usage } from './procstat.js';

export const FOOTPRINT_COUNTS = [1, 10, 100];
export const FOOTPRINT_INTERVALS = [1, 0.1];
const VRID_BASE: Record<Impl, number> = { floatip: 0, keepalived: 100 };
const VIP_NET: Record<Impl, string> = { floatip: '10.99.2', keepalived: '10.99.3' };

export interface FootprintRow {
  instances: number;
  advertInt: number;
  impl: Impl;
  role: 'master' | 'backup';
  windowSec: number;
  /** Share of one core over the window, in percent. */
  cpuPercent: number;
  cpuSec: number;
  rssMiB: number;
  peakRssMiB: number;
  /** Instances in the expected state when the window started. */
  settled: number;
}

export interface FootprintOptions {
  windowSec: number;
  warmupSec: number;
  counts?: number[];
  intervals?: number[];
  log: (line: string) => void;
}

function instances(impl: Impl, n: number, role: 'master' | 'backup'): InstanceSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `VI_${i + 1}`,
    vrid: VRID_BASE[impl] + i + 1,
    vip: `${VIP_NET[impl]}.${i + 1}`,
    state: role === 'master' ? 'MASTER' : 'BACKUP',
    priority: role === 'master' ? 150 : 100,
  }));
}

function countIn(d: BenchDaemon, state: 'MASTER' | 'BACKUP'): number {
  let n = 0;
  for (const s of d.states().values()) if (s === state) n++;
  return n;
}

export async function runFootprint(env: BenchLab, o: FootprintOptions): Promise<FootprintRow[]> {
  const rows: FootprintRow[] = [];
  for (const n of o.counts ?? FOOTPRINT_COUNTS) {
    for (const advertInt of o.intervals ?? FOOTPRINT_INTERVALS) {
      o.log(`footprint: ${n} instance(s), advert_int ${advertInt}, ${o.windowSec} s window`);
      const running: { impl: Impl; role: 'master' | 'backup'; d: BenchDaemon }[] = [];
      try {
        const settled = (r: (typeof running)[number]): number =>
          countIn(r.d, r.role === 'master' ? 'MASTER' : 'BACKUP');
        // Masters first: started together, a slow master could lose instances to its backup at
        // startup and the pair would spend the window flapping instead of idling.
        for (const [idx, role] of (['master', 'backup'] as const).entries()) {
          const started = await Promise.all(
            IMPLS.map(async (impl) => {
              const nodes = env.sites[impl].nodes;
              const conf = renderConfig({
                routerId: `bench-${nodes[idx]!.name}`,
                version: 3,
                advertInt,
                src: nodes[idx]!.addr4,
                peer: nodes[1 - idx]!.addr4,
                instances: instances(impl, n, role),
              });
              const d = await startDaemon(env.lab, impl, nodes[idx]!, conf, {
                floatipArgv: env.floatip.argv,
                startTimeoutMs: 60000,
              });
              const r = { impl, role, d };
              running.push(r);
              return r;
            }),
          );
          const end = Date.now() + 30000 + 4000 * advertInt;
          while (started.some((r) => settled(r) < n) && Date.now() < end) await sleep(100);
        }
        await sleep(o.warmupSec * 1000);
        const before = running.map((r) => ({
          r,
          u: usage(r.d.pids),
          t: process.hrtime.bigint(),
          s: settled(r),
        }));
        await sleep(o.windowSec * 1000);
        for (const b of before) {
          const u: Usage = usage(b.r.d.pids);
          const wall = Number(process.hrtime.bigint() - b.t) / 1e9;
          const cpuSec = u.cpuSec - b.u.cpuSec;
          rows.push({
            instances: n,
            advertInt,
            impl: b.r.impl,
            role: b.r.role,
            windowSec: wall,
            cpuSec,
            cpuPercent: (cpuSec / wall) * 100,
            rssMiB: u.rssKiB / 1024,
            peakRssMiB: u.hwmKiB / 1024,
            settled: b.s,
          });
          if (b.s < n)
            o.log(`  warning: ${b.r.d.label} had ${b.s}/${n} instances settled when the window began`);
        }
      } finally {
        await Promise.all(running.map((r) => r.d.stop().catch(() => null)));
      }
    }
  }
  const order = (r: FootprintRow): number =>
    r.instances * 1e4 + (10 - r.advertInt) * 10 + (r.role === 'master' ? 0 : 1);
  return rows.sort((a, b) => order(a) - order(b));
}
