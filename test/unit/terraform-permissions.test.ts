/**
 * terraform/modules/aws-floatip-pair/permissions.json is what the module's IAM policy allows. Its
 * action lists must be exactly permissionsFor() of the options the module's configs produce, for
 * every mechanism and with release_on_leave on and off; and every action must say how iam.tf
 * scopes it, so a new action in permissionsFor() fails here before it fails a terraform plan.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { MECHANISMS, parseAwsOptions, type Mechanism } from '../../providers/aws/options.js';
import { permissionsFor } from '../../providers/aws/permissions.js';

const MODULE = new URL('../../terraform/modules/aws-floatip-pair/', import.meta.url);

interface PermissionsFile {
  actions: Record<string, { release: string[]; keep: string[] }>;
  resource_types: Record<string, string[]>;
}

const file = JSON.parse(readFileSync(new URL('permissions.json', MODULE), 'utf8')) as PermissionsFile;

/** The provider entry the module's template writes for a mechanism (see templates/floatip-*.yaml.tftpl). */
function moduleOptions(mechanism: Mechanism, release: boolean): Record<string, unknown> {
  switch (mechanism) {
    case 'eip':
      return { mechanism, allocation_id: 'eipalloc-0123456789abcdef0', detach_on_release: release };
    case 'secondary-ip':
      return { mechanism, unassign_on_release: release };
    case 'route':
      return { mechanism, route_tables: ['rtb-0123456789abcdef0'], destinations: ['192.168.100.10/32'] };
  }
}

void test('permissions.json lists every mechanism of the aws provider and nothing else', () => {
  assert.deepEqual(Object.keys(file.actions).sort(), [...MECHANISMS].sort());
});

for (const mechanism of MECHANISMS) {
  for (const release of [true, false]) {
    const key = release ? 'release' : 'keep';
    void test(`permissions.json ${mechanism}.${key} equals permissionsFor() with release_on_leave ${release}`, () => {
      const expected = permissionsFor(parseAwsOptions(moduleOptions(mechanism, release), 'VI_1'));
      assert.deepEqual(file.actions[mechanism]?.[key], expected);
    });
  }
}

void test('every listed action has resource types; only Describe* (no resource-level permissions) have none', () => {
  const used = new Set(Object.values(file.actions).flatMap((v) => [...v.release, ...v.keep]));
  assert.deepEqual(
    Object.keys(file.resource_types).sort(),
    [...used].sort(),
    'resource_types keys = listed actions',
  );
  for (const [action, types] of Object.entries(file.resource_types)) {
    const read = action.startsWith('ec2:Describe');
    assert.equal(types.length === 0, read, `${action}: resource types ${JSON.stringify(types)}`);
  }
});

void test('iam.tf has ARNs for every resource type permissions.json names', () => {
  const iam = readFileSync(new URL('iam.tf', MODULE), 'utf8');
  const block = /arns_by_type = \{([\s\S]*?)\n {2}\}/.exec(iam)?.[1];
  assert.ok(block, 'iam.tf: locals.arns_by_type not found');
  const mapped = new Set([...block.matchAll(/^\s*"([a-z-]+)"\s*=/gm)].map((m) => m[1]));
  for (const types of Object.values(file.resource_types)) {
    for (const t of types) assert.ok(mapped.has(t), `iam.tf arns_by_type has no "${t}"`);
  }
});
