/**
 * `npm run bench`: failover detection and idle footprint of floatip next to keepalived 2.2.7,
 * in network namespaces this script creates and removes (needs root). Prints a markdown report
 * and writes it, with every trial as JSON, to bench-results/.
 *
 *   npm run bench                     full run: 20 trials per cell, 15 s footprint windows
 *   npm run bench -- --trials 30      more trials
 *   npm run bench -- --quick          one trial per cell, 2 s windows (what CI runs)
 *   npm run bench -- --only footprint (or detection) to run one part
 *   npm run bench -- --out DIR        where the JSON and markdown go
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './bench/build.js';
import { DETECTION_CONFIGS } from './bench/configs.js';
import { detectionFormula, FAULTS, runDetection, type Trial } from './bench/detection.js';
import { runFootprint, type FootprintRow } from './bench/footprint.js';
import { createBenchLab, type BenchLab } from './bench/lab.js';
import { loadAverage, machineInfo } from './bench/machine.js';
import {
  detectionRows,
  detectionTable,
  footprintTable,
  machineBlock,
  trialNote,
  type DetectionRow,
} from './bench/report.js';

const CLOUD_LINE = 'Cloud path (AWS API failover): skipped — pending AWS provider.';

interface Args {
  trials: number;
  windowSec: number;
  quick: boolean;
  out: string;
  only?: 'detection' | 'footprint';
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
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run bench -- [--quick] [--trials N] [--window SECONDS] [--only detection|footprint] [--out DIR]\n',
    );
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const trials = values.trials === undefined ? (quick ? 1 : 20) : Number(values.trials);
  if (!Number.isInteger(trials) || trials < 1)
    throw new Error(`--trials must be a whole number ≥ 1, got "${values.trials}"`);
  const windowSec = values.window === undefined ? (quick ? 2 : 15) : Number(values.window);
  if (!(windowSec > 0)) throw new Error(`--window must be a number of seconds > 0, got "${values.window}"`);
  const only = values.only;
  if (only !== undefined && only !== 'detection' && only !== 'footprint')
    throw new Error(`--only takes "detection" or "footprint", got "${only}"`);
  return {
    trials,
    windowSec,
    quick,
    out: values.out ?? join(REPO_ROOT, 'bench-results'),
    ...(only ? { only } : {}),
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
  try {
    env = await createBenchLab();
    log(`lab ${env.lab.id} ready (floatip compiled into ${env.floatip.dir})`);
    if (args.only !== 'footprint') {
      trials = await runDetection(env, { trials: args.trials, configs: DETECTION_CONFIGS, log });
      rows = detectionRows(trials, DETECTION_CONFIGS, FAULTS, detectionFormula);
    }
    if (args.only !== 'detection') {
      footprint = await runFootprint(env, {
        windowSec: args.windowSec,
        warmupSec: args.quick ? 1 : 3,
        log,
      });
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
  if (args.only !== 'footprint') {
    md.push(
      '## Failover detection (ms from the fault on the wire)',
      '',
      detectionTable(rows),
      '',
      trialNote(trials),
      '',
    );
  }
  if (args.only !== 'detection') {
    md.push(
      `## Idle footprint (VRRPv3 unicast, ${args.windowSec} s window; CPU % of one core, keepalived = parent + VRRP child)`,
      '',
      footprintTable(footprint),
      '',
    );
  }
  md.push(`## Cloud path`, '', CLOUD_LINE, '');
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
        cloud: { skipped: true, reason: 'pending AWS provider' },
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
