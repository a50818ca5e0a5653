/**
 * The IAM policies printed in docs/aws.md and README.md are the provider's real `permissions`: each
 * ```json policy is checked against permissionsFor() of every aws provider in the ```yaml example
 * just before it, and every YAML example must parse as valid aws options.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parseAwsOptions } from '../../providers/aws/options.js';
import { permissionsFor } from '../../providers/aws/permissions.js';

interface Block {
  lang: string;
  text: string;
  line: number;
}

function codeBlocks(markdown: string): Block[] {
  const out: Block[] = [];
  const re = /^```(\w+)\n([\s\S]*?)^```/gm;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) {
    out.push({ lang: m[1]!, text: m[2]!, line: markdown.slice(0, m.index).split('\n').length });
  }
  return out;
}

/** The aws entries of a YAML example: a `providers:` list, possibly under an instance. */
function awsProviders(yamlText: string): Array<Record<string, unknown>> {
  const found: Array<Record<string, unknown>> = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach(walk);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.type === 'aws') {
      const { type: _type, ...options } = o;
      found.push(options);
      return;
    }
    Object.values(o).forEach(walk);
  };
  walk(parseYaml(yamlText));
  return found;
}

interface PolicyCheck {
  file: string;
  line: number;
  actions: string[];
  providers: Array<Record<string, unknown>>;
}

function policiesOf(file: string): PolicyCheck[] {
  const blocks = codeBlocks(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'));
  const out: PolicyCheck[] = [];
  let lastYaml: Block | undefined;
  for (const b of blocks) {
    if (b.lang === 'yaml') lastYaml = b;
    if (b.lang !== 'json') continue;
    const doc = JSON.parse(b.text) as { Statement?: Array<{ Action?: string[] }> };
    if (!doc.Statement) continue;
    assert.ok(lastYaml, `${file}:${b.line}: an IAM policy needs the YAML example it belongs to before it`);
    out.push({
      file,
      line: b.line,
      actions: doc.Statement.flatMap((s) => s.Action ?? []),
      providers: awsProviders(lastYaml.text),
    });
  }
  return out;
}

for (const file of ['docs/aws.md', 'README.md']) {
  void test(`${file}: every IAM policy equals permissionsFor() of the aws providers in the YAML before it`, () => {
    const checks = policiesOf(file);
    assert.ok(checks.length >= 3, `${file} shows a policy for each of the three mechanisms`);
    const mechanisms = new Set<string>();
    for (const c of checks) {
      assert.ok(
        c.providers.length > 0,
        `${c.file}:${c.line}: the YAML before the policy has no aws provider`,
      );
      for (const p of c.providers) {
        const options = parseAwsOptions(p, 'VI_1');
        mechanisms.add(options.mechanism);
        assert.deepEqual(
          [...c.actions].sort(),
          permissionsFor(options),
          `${c.file}:${c.line}: the policy for ${JSON.stringify(p)}`,
        );
      }
    }
    assert.deepEqual([...mechanisms].sort(), ['eip', 'route', 'secondary-ip']);
  });
}
