/**
 * The floatip configs the Terraform module writes. terraform cannot render them here without AWS,
 * so examples-rendered/MECHANISM.yaml holds node a's config as terraform renders it (the module's
 * `terraform test`, run by terraform-module.test.ts, asserts that equality), MECHANISM.vars.json the
 * values main.tf passes. Here: the template with those values substituted is that file, the file
 * loads with floatip's own loader and CLI, and its aws entry parses and asks for exactly the IAM
 * actions the module's policy allows.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAwsOptions, MECHANISMS } from '../../providers/aws/options.js';
import { permissionsFor } from '../../providers/aws/permissions.js';
import { parseGarpOptions } from '../../providers/garp/options.js';
import { main } from '../../src/cli/main.js';
import { loadConfigText } from '../../src/config/load.js';

const MODULE = new URL('../../terraform/modules/aws-floatip-pair/', import.meta.url);
const read = (rel: string): string => readFileSync(new URL(rel, MODULE), 'utf8');

const permissions = JSON.parse(read('permissions.json')) as {
  actions: Record<string, { release: string[]; keep: string[] }>;
};

function placeholders(template: string): Set<string> {
  return new Set([...template.matchAll(/\$\{([a-z_]+)\}/g)].map((m) => m[1]!));
}

/** What terraform's templatefile does for a template with plain ${name} interpolations only. */
function render(template: string, vars: Record<string, string>): string {
  assert.doesNotMatch(
    template,
    /%\{/,
    'config templates must stay free of directives so this test can render them',
  );
  return template.replace(/\$\{([a-z_]+)\}/g, (_, name: string) => {
    const v = vars[name];
    assert.ok(v !== undefined, `no value for \${${name}}`);
    return v;
  });
}

/** `[a, b]` as main.tf joins a list into the template. */
const flowList = (s: string): string[] => s.slice(1, -1).split(', ');

/** The keys of locals.config_vars in main.tf: what every config template is rendered with. */
function configVarKeys(): Set<string> {
  const main = read('main.tf');
  const block = /config_vars = \[for i in range\(2\) : \{([\s\S]*?)\n {2}\}\]/.exec(main)?.[1];
  assert.ok(block, 'main.tf: locals.config_vars not found');
  return new Set([...block.matchAll(/^\s*([a-z_]+)\s*=/gm)].map((m) => m[1]!));
}

async function loadRendered(text: string, mechanism: string) {
  const { config, diagnostics } = await loadConfigText(text, `${mechanism}.yaml`);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors, [], `${mechanism}: the rendered config has errors`);
  assert.ok(config);
  assert.equal(config.instances.length, 1);
  return config.instances[0]!;
}

void test('main.tf passes every config template exactly the placeholders the templates use', () => {
  const used = new Set<string>();
  for (const m of MECHANISMS) {
    for (const p of placeholders(read(`templates/floatip-${m}.yaml.tftpl`))) used.add(p);
  }
  assert.deepEqual([...configVarKeys()].sort(), [...used].sort());
});

for (const mechanism of MECHANISMS) {
  const template = read(`templates/floatip-${mechanism}.yaml.tftpl`);
  const vars = JSON.parse(read(`examples-rendered/${mechanism}.vars.json`)) as Record<string, string>;
  const rendered = read(`examples-rendered/${mechanism}.yaml`);

  void test(`${mechanism}: the template with the example values is examples-rendered/${mechanism}.yaml`, () => {
    assert.deepEqual(
      Object.keys(vars).sort(),
      [...configVarKeys()].sort(),
      'vars.json keys = main.tf config_vars',
    );
    assert.equal(render(template, vars), rendered);
  });

  void test(`${mechanism}: the rendered config loads, unicast to the peer, and its provider options parse`, async () => {
    const inst = await loadRendered(rendered, mechanism);
    assert.equal(inst.unicastSrcIp, vars.self_ip);
    assert.deepEqual(inst.unicastPeers, [vars.peer_ip]);
    assert.equal(inst.version, 3);
    assert.deepEqual(
      inst.virtualIps.map((v) => `${v.address}/${v.prefix}`),
      [`${vars.vrrp_address}/32`],
    );
    const aws = inst.providers.filter((p) => p.type === 'aws');
    assert.equal(aws.length, 1, 'one aws provider entry');
    const options = parseAwsOptions(aws[0]!.options, inst.name);
    assert.equal(options.mechanism, mechanism);
    if (options.mechanism === 'eip') assert.deepEqual(options.eips, [{ allocationId: vars.allocation_id }]);
    if (options.mechanism === 'route') {
      assert.deepEqual(options.routeTables, flowList(vars.route_tables!));
      assert.deepEqual(options.destinations, flowList(vars.destinations!));
    }
    for (const p of inst.providers.filter((x) => x.type !== 'aws')) {
      assert.equal(p.type, 'garp', `unexpected provider ${p.type}`);
      assert.deepEqual(parseGarpOptions(p.options, inst.name), { announce: false, manageAddresses: true });
    }
    assert.deepEqual(
      inst.providers.map((p) => p.type),
      mechanism === 'route' ? ['garp', 'aws'] : ['aws'],
    );
    assert.deepEqual(permissionsFor(options), permissions.actions[mechanism]!.release);
  });

  void test(`${mechanism}: release_on_leave = false asks for permissions.json's keep list`, async () => {
    const inst = await loadRendered(render(template, { ...vars, release_on_leave: 'false' }), mechanism);
    const aws = inst.providers.find((p) => p.type === 'aws');
    assert.ok(aws);
    assert.deepEqual(
      permissionsFor(parseAwsOptions(aws.options, inst.name)),
      permissions.actions[mechanism]!.keep,
    );
  });

  void test(`${mechanism}: \`floatip check -f\` accepts the rendered config, as cloud-init runs it`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'floatip-tf-'));
    try {
      const path = join(dir, 'floatip.yaml');
      writeFileSync(path, rendered);
      assert.equal(await main(['node', 'floatip', 'check', '-q', '-f', path]), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

void test('cloud-init writes the config where the systemd unit runs floatip on it', () => {
  const cloudInit = read('templates/cloud-init.yaml.tftpl');
  const unit = read('templates/floatip.service');
  assert.match(cloudInit, /- path: \/etc\/floatip\/floatip\.yaml\n/);
  assert.match(cloudInit, /- path: \/etc\/systemd\/system\/floatip\.service\n/);
  assert.match(cloudInit, /\[npm, install, --global, \$\{jsonencode\(floatip_package\)\}\]/);
  assert.match(unit, /^ExecStart=\/usr\/bin\/env floatip run -f \/etc\/floatip\/floatip\.yaml$/m);
  assert.match(unit, /^Restart=on-failure$/m);
});
