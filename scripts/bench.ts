/**
 * `npm run bench`: failover detection and idle footprint of floatip next to keepalived 2.2.7,
 * in network namespaces this script creates and removes (needs root). Prints a markdown report
 * and writes it, with every trial as JSON, to bench-results/.
 *
 *   npm run bench                     full run: 20 trials per cell, 15 s footprint windows
 *   npm run bench -- --trials 30      more trials
 *   npm run bench -- --quick          one trial per cell, 2 s windows (what CI runs)
 *   npm run bench -- --only footprint (or detection, cloud) to run one part
 *   npm run bench -- --cloud-trials 10   trials per cloud row at latency 0 (default 6; 300 ms rows: half)
 *   npm run bench -- --out DIR        where the JSON and markdown go
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './bench/build.js';
import {
  CLOUD_COUNTS,
  cloudNodeNames,
  cloudPairs,
  runCloud,
  type CloudBlock,
  type CloudTrial,
} from './bench/cloud.js';
import { DETECTION_CONFIGS } from './bench/configs.js';
import { detectionFormula, FAULTS, runDetection, type Trial } from './bench/detection.js';
import { runFootprint, type FootprintRow } from './bench/footprint.js';
import { createBenchLab, type BenchLab } from './bench/lab.js';
import { loadAverage, machineInfo } from './bench/machine.js';
import {
  cloudRows,
  cloudTable,
  cloudTrialNote,
  detectionRows,
  detectionTable,
  footprintTable,
  machineBlock,
  trialNote,
  type CloudRow,
  type DetectionRow,
} from './bench/report.js';

type Part = 'detection' | 'footprint' | 'cloud';
const PARTS: Part[] = ['detection', 'footprint', 'cloud'];
/**
 * Trials per cloud row at emulator latency 0 in a full run; the 300 ms rows get half as many.
 * The cloud part restarts a node per trial and, at 300 ms, waits out several API round trips, so
 * its trials cost 2–5 s each; these counts keep a full run under 15 minutes on 2 cores.
 */
const CLOUD_TRIALS_FULL = 6;

interface Args {
  trials: number;
  windowSec: number;
  quick: boolean;
  out: string;
  only?: Part;
  cloudTrials: number;
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      trials: { type: 'string' },
      window: { type: 'string' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      only: { type: 'string' },
      'cloud-trials': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run bench -- [--quick] [--trials N] [--cloud-trials N] [--window SECONDS] [--only detection|footprint|cloud] [--out DIR]\n',
    );
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const trials = values.trials === undefined ? (quick ? 1 : 20) : Number(values.trials);
  if (!Number.isInteger(trials) || trials < 1)
    throw new Error(`--trials must be a whole number ≥ 1, got "${values.trials}"`);
  const windowSec = values.window === undefined ? (quick ? 2 : 15) : Number(values.window);
  if (!(windowSec > 0)) throw new Error(`--window must be a number of seconds > 0, got "${values.window}"`);
  const only = values.only as Part | undefined;
  if (only !== undefined && !PARTS.includes(only))
    throw new Error(`--only takes ${PARTS.map((p) => `"${p}"`).join(', ')}, got "${only}"`);
  const cloudTrials =
    values['cloud-trials'] === undefined ? (quick ? 1 : CLOUD_TRIALS_FULL) : Number(values['cloud-trials']);
  if (!Number.isInteger(cloudTrials) || cloudTrials < 1)
    throw new Error(`--cloud-trials must be a whole number ≥ 1, got "${values['cloud-trials']}"`);
  return {
    trials,
    windowSec,
    quick,
    cloudTrials,
    out: values.out ?? join(REPO_ROOT, 'bench-results'),
    ...(only ? { only } : {}),
  };
}

/** Quick: N = 1 only, one trial per mechanism at latency 0. Full: every count, latency 0 then 300 ms. */
function cloudPlan(args: Args): { counts: number[]; blocks: CloudBlock[] } {
  if (args.quick) return { counts: [1], blocks: [{ latencyMs: 0, trials: args.cloudTrials }] };
  return {
    counts: CLOUD_COUNTS,
    blocks: [
      { latencyMs: 0, trials: args.cloudTrials },
      { latencyMs: 300, trials: Math.ceil(args.cloudTrials / 2) },
    ],
  };
}

function log(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2));
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    process.stderr.write(
      'bench: needs root on Linux (it creates network namespaces); run it as root or with sudo\n',
    );
    return 1;
  }
  const machine = machineInfo();
  if (machine.keepalived === 'not found') {
    process.stderr.write(
      'bench: keepalived is not installed (apt-get install keepalived); it is the baseline\n',
    );
    return 1;
  }
  const command = `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`;
  const t0 = Date.now();
  log(
    `bench: ${args.quick ? 'quick' : 'full'} run, ${args.trials} trial(s), footprint window ${args.windowSec} s`,
  );
  let env: BenchLab | undefined;
  let trials: Trial[] = [];
  let rows: DetectionRow[] = [];
  let footprint: FootprintRow[] = [];
  let cloudTrials: CloudTrial[] = [];
  let cloud: CloudRow[] = [];
  const runs = (p: Part): boolean => args.only === undefined || args.only === p;
  const plan = cloudPlan(args);
  const pairs = runs('cloud') ? cloudPairs(plan.counts) : [];
  try {
    env = await createBenchLab(cloudNodeNames(pairs));
    log(`lab ${env.lab.id} ready (floatip compiled into ${env.floatip.dir})`);
    if (runs('detection')) {
      trials = await runDetection(env, { trials: args.trials, configs: DETECTION_CONFIGS, log });
      rows = detectionRows(trials, DETECTION_CONFIGS, FAULTS, detectionFormula);
    }
    if (runs('footprint')) {
      footprint = await runFootprint(env, {
        windowSec: args.windowSec,
        warmupSec: args.quick ? 1 : 3,
        log,
      });
    }
    if (runs('cloud')) {
      cloudTrials = await runCloud(env, { pairs, blocks: plan.blocks, log });
      cloud = cloudRows(cloudTrials);
    }
  } finally {
    await env?.close();
  }
  machine.loadAvgEnd = loadAverage();
  const totalSec = (Date.now() - t0) / 1000;

  const md: string[] = [
    `# floatip vs keepalived ${machine.keepalived}: ${args.quick ? 'quick' : 'full'} benchmark`,
    '',
  ];
  md.push(machineBlock(machine, totalSec, command), '');
  if (runs('detection')) {
    md.push(
      '## Failover detection (ms from the fault on the wire)',
      '',
      detectionTable(rows),
      '',
      trialNote(trials),
      '',
    );
  }
  if (runs('footprint')) {
    md.push(
      `## Idle footprint (VRRPv3 unicast, ${args.windowSec} s window; CPU % of one core, keepalived = parent + VRRP child)`,
      '',
      footprintTable(footprint),
      '',
    );
  }
  if (runs('cloud')) {
    md.push(
      '## Cloud path (AWS provider against the EC2 emulator; ms)',
      '',
      'One pair of floatip nodes per mechanism and N (VRRPv3 unicast, advert_interval 100ms), all running side by side; ' +
        'trials go round the pairs; the master is frozen with SIGSTOP. ' +
        // Not the detection table's wording: the quick test counts rows by it.
        'Transition = the first advert the new master sends, on the wire; the request is the first AssociateAddress / ReplaceRoute ' +
        'on the wire (both from the observer); holder confirmed = the emulator committed every target to the new ENI. ' +
        'Calls: every request the new master made, until its post-acquire read-back was answered.',
      '',
      cloudTable(cloud),
      '',
      cloudTrialNote(cloudTrials),
      '',
    );
  }
  const text = md.join('\n');
  process.stdout.write(text);

  mkdirSync(args.out, { recursive: true });
  const stamp = new Date(t0).toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const base = join(args.out, `bench-${args.quick ? 'quick-' : ''}${stamp}`);
  writeFileSync(`${base}.md`, text);
  writeFileSync(
    `${base}.json`,
    JSON.stringify(
      {
        kind: args.quick ? 'quick' : 'full',
        command,
        startedAt: new Date(t0).toISOString(),
        totalSec,
        machine,
        args,
        detection: { rows, trials },
        footprint,
        cloud: { rows: cloud, trials: cloudTrials },
      },
      null,
      2,
    ) + '\n',
  );
  log(`wrote ${base}.md and ${base}.json (${totalSec.toFixed(0)} s in all)`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
