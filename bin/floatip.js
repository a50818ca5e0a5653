#!/usr/bin/env node
// Runs the compiled CLI (built by `npm ci` through the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('floatip: dist/ is missing; run `npm run build` (npm ci does it through prepare)\n');
  process.exit(70);
}
const { runAsProgram } = await import(entry.href);
runAsProgram(process.argv);
