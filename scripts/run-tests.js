#!/usr/bin/env node
// Runs the node:test suites. Node 20's --test takes no globs, so the files are listed here.
// Usage: node scripts/run-tests.js [unit|sim|netns|all]...
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const groups = process.argv.slice(2);
const roots =
  groups.length === 0 || groups.includes('all') ? ['test', 'providers'] : groups.map((g) => join('test', g));

function walk(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = roots.flatMap(walk).sort();
if (files.length === 0) {
  console.error(`run-tests: no *.test.ts files under ${roots.join(', ')}`);
  process.exit(1);
}
// netns suites share the kernel's namespace table and the 2 CPUs: run files one at a time.
// The spec report goes to the terminal; a TAP copy gives the totals for the closing line.
const tapDir = mkdtempSync(join(tmpdir(), 'floatip-tests-'));
const tapFile = join(tapDir, 'report.tap');
const r = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  { stdio: 'inherit' },
);
const totals = { pass: 0, fail: 0, skipped: 0 };
try {
  // Only the unindented summary lines count; nested subtests print their own.
  for (const m of readFileSync(tapFile, 'utf8').matchAll(/^# (pass|fail|skipped) (\d+)$/gm)) {
    totals[m[1]] = Number(m[2]);
  }
} catch (err) {
  console.error(`run-tests: cannot read the TAP report: ${err.message}`);
} finally {
  rmSync(tapDir, { recursive: true, force: true });
}
console.log(`\ntests: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
process.exit(r.status ?? 1);
