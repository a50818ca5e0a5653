/**
 * The Terraform code itself: `terraform fmt -check` whenever terraform is installed, and, when a
 * local mirror of the hashicorp/aws provider exists (no registry is reachable here), `terraform
 * validate` of the module and of every example plus the module's `terraform test` suite, which
 * plans and applies against a mocked AWS provider. Each check skips with one line when its tool
 * is missing. Runs on a copy, so no .terraform directory lands in the work tree.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TERRAFORM_DIR = fileURLToPath(new URL('../../terraform/', import.meta.url));
const PLUGIN_DIR = process.env.FLOATIP_TF_PLUGIN_DIR ?? '/opt/tf-plugins';
// No version checks over the network, no user CLI config (its absence only prints a warning).
const ENV = {
  ...process.env,
  CHECKPOINT_DISABLE: '1',
  TF_CLI_CONFIG_FILE: '/dev/null',
  TF_IN_AUTOMATION: '1',
};

function terraformBinary(): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir || '.', 'terraform');
    if (existsSync(p)) return p;
  }
  return null;
}

async function tf(bin: string, cwd: string, args: string[], timeout = 300_000): Promise<string> {
  try {
    const r = await run(bin, [...args, '-no-color'], { cwd, env: ENV, timeout, maxBuffer: 16 << 20 });
    return r.stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    assert.fail(`terraform ${args.join(' ')} in ${cwd} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

const bin = terraformBinary();
const hasAwsMirror = existsSync(join(PLUGIN_DIR, 'registry.terraform.io', 'hashicorp', 'aws'));

void test('terraform fmt -check -recursive terraform/', async (t) => {
  if (!bin) {
    t.skip('terraform: skipped, no terraform binary on PATH');
    return;
  }
  const r = await run(bin, ['fmt', '-check', '-recursive', '-no-color', TERRAFORM_DIR], { env: ENV }).catch(
    (err: { stdout?: string; code?: number }) => ({ stdout: err.stdout ?? '', code: err.code }),
  );
  assert.equal(
    r.stdout,
    '',
    `files terraform fmt would rewrite (run terraform fmt -recursive terraform/):\n${r.stdout}`,
  );
});

void test("terraform validate (module and examples) and the module's terraform test, offline", async (t) => {
  if (!bin || !hasAwsMirror) {
    t.skip(`terraform: skipped, needs terraform and a hashicorp/aws provider mirror in ${PLUGIN_DIR}`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'floatip-tf-'));
  try {
    cpSync(TERRAFORM_DIR, join(work, 'terraform'), {
      recursive: true,
      filter: (src) => !src.includes('/.terraform'),
    });
    const module = join(work, 'terraform', 'modules', 'aws-floatip-pair');
    const examples = readdirSync(join(work, 'terraform', 'examples')).map((e) =>
      join(work, 'terraform', 'examples', e),
    );
    assert.deepEqual(examples.map((e) => e.split('/').at(-1)).sort(), ['eip', 'route', 'secondary-ip']);
    for (const dir of [module, ...examples]) {
      await tf(bin, dir, ['init', '-backend=false', '-input=false', `-plugin-dir=${PLUGIN_DIR}`]);
    }
    // The module is validated by its own test run; the examples by validate.
    for (const dir of examples)
      assert.match(await tf(bin, dir, ['validate']), /The configuration is valid/, dir);
    const out = await tf(bin, module, ['test']);
    assert.match(out, /Success! \d+ passed, 0 failed/, out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
