// The keepalived configs the captures in /work/shared were taken with must load exactly as keepalived read them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { KEEPALIVED_FIXTURES } from '../support/pcap.js';
import { formatDiagnostic, type FloatipConfig } from '../../src/config/model.js';

const sharedDir = KEEPALIVED_FIXTURES;

async function load(name: string): Promise<{ config: FloatipConfig; warnings: string[] }> {
  const r = await loadConfig(join(sharedDir, name));
  assert.ok(r.config, `${name} did not load:\n${r.diagnostics.map(formatDiagnostic).join('\n')}`);
  return { config: r.config, warnings: r.diagnostics.map(formatDiagnostic) };
}

void test('kaA.conf', async () => {
  const { config, warnings } = await load('kaA.conf');
  assert.deepEqual(warnings, [
    `${join(sharedDir, 'kaA.conf')}:19:15: warning: instance VI_1: auth_pass is 9 bytes; VRRPv2 carries 8, so it is truncated to 'secretpw' as keepalived does (peers must use the same 8 bytes)`,
  ]);
  assert.equal(config.global.routerId, 'nodeA');
  assert.equal(config.global.garpMasterDelayMs, 1000);
  assert.equal(config.global.garpMasterRepeat, 2);
  const i = config.instances[0];
  assert.ok(i);
  assert.equal(config.instances.length, 1);
  assert.equal(i.name, 'VI_1');
  assert.equal(i.initialState, 'MASTER');
  assert.equal(i.interface, 'vA');
  assert.equal(i.vrid, 51);
  assert.equal(i.priority, 150);
  assert.equal(i.advertIntervalCs, 100);
  assert.equal(i.version, 2);
  assert.equal(i.family, 'ipv4');
  assert.equal(i.unicastSrcIp, '10.99.0.1');
  assert.deepEqual(i.unicastPeers, ['10.99.0.2']);
  assert.equal(i.auth?.type, 'PASS');
  assert.deepEqual(i.auth?.password, Buffer.from('secretpw'));
  assert.deepEqual(
    i.virtualIps.map((v) => `${v.address}/${v.prefix}`),
    ['10.99.0.100/24', '10.99.0.101/24'],
  );
  assert.deepEqual(i.notify, {
    generic: '/usr/bin/env NODE=A /usr/local/bin/notify.sh',
    master: '/usr/bin/env NODE=AM /usr/local/bin/notify.sh extra1',
  });
  assert.equal(i.preempt, true);
  assert.equal(i.downTimerAdverts, 3);
});

void test('kaB.conf', async () => {
  const { config } = await load('kaB.conf');
  const i = config.instances[0];
  assert.equal(i?.initialState, 'BACKUP');
  assert.equal(i?.priority, 100);
  assert.equal(i?.unicastSrcIp, '10.99.0.2');
  assert.deepEqual(i?.unicastPeers, ['10.99.0.1']);
  assert.deepEqual(i?.auth?.password, Buffer.from('secretpw'));
  assert.equal(i?.notify.master, '/usr/bin/env NODE=BM /usr/local/bin/notify.sh extra1');
});

void test('kaB2.conf: v2 and v3 instances, v3 drops its authentication', async () => {
  const { config, warnings } = await load('kaB2.conf');
  assert.equal(config.global.scriptUser, 'root');
  assert.equal(config.global.enableScriptSecurity, true);
  assert.equal(config.global.garpMasterRepeat, 1);
  const [v2, v3] = config.instances;
  assert.equal(v2?.name, 'VI_2');
  assert.equal(v2?.version, 2);
  assert.equal(v2?.vrid, 51);
  assert.deepEqual(v2?.auth?.password, Buffer.from('secretpw'));
  assert.equal(v3?.name, 'VI_3');
  assert.equal(v3?.version, 3);
  assert.equal(v3?.vrid, 52);
  assert.equal(v3?.advertIntervalCs, 50);
  assert.equal(v3?.auth, undefined);
  assert.deepEqual(v3?.unicastPeers, ['10.99.0.1']);
  assert.deepEqual(warnings, [
    `${join(sharedDir, 'kaB2.conf')}:39:3: warning: instance VI_3: VRRP version 3 has no authentication; the authentication block is ignored (as keepalived does)`,
  ]);
});

void test('kaB3.conf: multicast v3', async () => {
  const { config, warnings } = await load('kaB3.conf');
  assert.deepEqual(warnings, []);
  const i = config.instances[0];
  assert.equal(i?.name, 'VM_3');
  assert.equal(i?.vrid, 53);
  assert.equal(i?.version, 3);
  assert.equal(i?.priority, 100);
  assert.equal(i?.advertIntervalCs, 100);
  assert.deepEqual(i?.unicastPeers, []);
  assert.equal(i?.unicastSrcIp, undefined);
  assert.equal(i?.initialState, undefined);
  assert.deepEqual(i?.virtualIps, [{ address: '10.99.0.120', prefix: 24, family: 'ipv4' }]);
  assert.equal(config.global.garpMasterDelayMs, 5000, "keepalived's default");
  assert.equal(config.global.garpMasterRepeat, 5, "keepalived's default");
});

function stripPositions(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v;
  if (Array.isArray(v)) return v.map(stripPositions);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => k !== 'pos')
        .map(([k, x]) => [k, stripPositions(x)]),
    );
  }
  return v;
}

void test('kaA.yaml loads to the same model as kaA.conf', async () => {
  const { config: fromConf } = await load('kaA.conf');
  const r = await loadConfig(fileURLToPath(new URL('../fixtures/config/kaA.yaml', import.meta.url)));
  assert.deepEqual(r.diagnostics.map(formatDiagnostic), []);
  assert.ok(r.config);
  const { file: _f1, format: _y, ...yamlModel } = r.config;
  const { file: _f2, format: _k, ...confModel } = fromConf;
  assert.deepEqual(stripPositions(yamlModel), stripPositions(confModel));
});
