/**
 * floatip as it is deployed runs compiled JavaScript (bin/floatip.js → dist/), not through the
 * tsx loader, which costs ~1 s of startup and tens of MiB of memory that a footprint comparison
 * must not charge to floatip. dist/ may be stale or missing in a working tree, so the benchmark
 * transpiles the current source into a private directory (no type check: that is `npm run
 * typecheck`'s job, and a half-typed file elsewhere in the tree must not stop a benchmark).
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Source trees floatip's runtime imports from (providers are wired in from src/). */
const TREES = ['src', 'providers'];

export interface FloatipBuild {
  dir: string;
  /** argv prefix that runs the CLI: `[node, <dir>/src/cli/main.js]`. */
  argv: string[];
  remove(): void;
}

function walk(dir: string): string[] {
  let out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

export function buildFloatip(): FloatipBuild {
  const dir = mkdtempSync(join(tmpdir(), 'floatip-bench-build-'));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    const tsconfig = ts.readConfigFile(join(REPO_ROOT, 'tsconfig.json'), (p) => ts.sys.readFile(p));
    const parsed = ts.parseJsonConfigFileContent(tsconfig.config ?? {}, ts.sys, REPO_ROOT);
    const compilerOptions: ts.CompilerOptions = {
      ...parsed.options,
      // transpileModule cannot see package.json's "type": "module", so say ESM outright.
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      noEmit: false,
      sourceMap: false,
      declaration: false,
      declarationMap: false,
    };
    for (const tree of TREES) {
      for (const file of walk(join(REPO_ROOT, tree))) {
        const out = join(dir, relative(REPO_ROOT, file)).replace(/\.ts$/, '.js');
        const res = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions, fileName: file });
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, res.outputText);
      }
    }
    // main.ts reads its version from ../../package.json; bare imports resolve through node_modules.
    copyFileSync(join(REPO_ROOT, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  } catch (err) {
    remove();
    throw new Error(`bench: cannot transpile floatip from ${REPO_ROOT}src: ${(err as Error).message}`);
  }
  return { dir, argv: [process.execPath, join(dir, 'src', 'cli', 'main.js')], remove };
}
