import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { detectFormat, loadConfig, loadConfigText } from '../../src/config/load.js';
import { parseDuration } from '../../src/config/duration.js';
import {
  NOTIFY_TIMING_DEFAULTS,
  formatDiagnostic,
  notifyTimingsFor,
  type ConfigDiagnostic,
} from '../../src/config/model.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', 'fixtures', 'config');

function find(ds: ConfigDiagnostic[], fragment: string): ConfigDiagnostic {
  const d = ds.find((x) => x.message.includes(fragment));
  assert.ok(d, `no diagnostic containing "${fragment}" in:\n${ds.map(formatDiagnostic).join('\n')}`);
  return d;
}

const minimal = (extra = '') =>
  `instances:\n  - name: VI_1\n    interface: eth0\n    vrid: 51\n    virtual_ips: [10.99.0.100/24]\n${extra}`;

void test('durations: units, plain seconds, and rejects', () => {
  assert.deepEqual(parseDuration('100ms'), { ok: true, ms: 100 });
  assert.deepEqual(parseDuration('2.5s'), { ok: true, ms: 2500 });
  assert.deepEqual(parseDuration('0.1s'), { ok: true, ms: 100 });
  assert.deepEqual(parseDuration('1m'), { ok: true, ms: 60_000 });
  assert.deepEqual(parseDuration(3), { ok: true, ms: 3000 });
  assert.deepEqual(parseDuration('3'), { ok: true, ms: 3000 });
  assert.equal(parseDuration('fast').ok, false);
  assert.equal(parseDuration(-1).ok, false);
  assert.equal(parseDuration('0.0001s').ok, false);
});

void test('detectFormat by extension, then by content', () => {
  assert.equal(detectFormat('a.yaml', ''), 'yaml');
  assert.equal(detectFormat('a.yml', 'vrrp_instance X {'), 'yaml');
  assert.equal(detectFormat('keepalived.conf', 'instances: []'), 'keepalived');
  assert.equal(detectFormat('config', 'global_defs {\n}\n'), 'keepalived');
  assert.equal(detectFormat('config', 'instances:\n  - name: x\n'), 'yaml');
});

void test('full.yaml maps every section with the documented defaults', async () => {
  const r = await loadConfig(join(fixtures, 'full.yaml'));
  assert.deepEqual(r.diagnostics.map(formatDiagnostic), []);
  const c = r.config;
  assert.ok(c);
  assert.equal(c.format, 'yaml');
  assert.equal(c.global.controlListen, '127.0.0.1:9712');
  assert.equal(c.global.vrrpVersion, 3);
  assert.equal(c.global.garpMasterRefreshRepeat, 1);
  const i = c.instances[0];
  assert.ok(i);
  assert.equal(i.advertIntervalCs, 10);
  assert.equal(i.preemptDelayMs, 5000);
  assert.equal(i.downTimerAdverts, 3);
  assert.equal(i.unicastSrcIp, '10.99.0.1');
  assert.deepEqual(i.virtualIps[1], {
    address: '10.99.0.101',
    prefix: 24,
    family: 'ipv4',
    dev: 'eth1',
    label: 'eth1:vip',
  });
  assert.deepEqual(i.trackScripts, [{ name: 'chk_haproxy' }, { name: 'chk_x', weight: -20 }]);
  assert.deepEqual(i.trackProcesses, [{ name: 'nginx', weight: 10, reverse: true }]);
  assert.deepEqual(
    i.providers.map((p) => [p.type, p.options]),
    [
      ['garp', {}],
      ['aws', { mechanism: 'eip', allocation_id: 'eipalloc-0123456789abcdef0' }],
    ],
  );
  assert.deepEqual(i.providers[1]?.pos, { file: join(fixtures, 'full.yaml'), line: 40, col: 9 });
  assert.deepEqual(i.pos, { file: join(fixtures, 'full.yaml'), line: 11, col: 5 });
  const chk = c.scripts.find((s) => s.name === 'chk_x');
  assert.equal(chk?.intervalMs, 1500);
  assert.equal(chk?.timeoutMs, 1000);
  assert.equal(c.scripts[0]?.weight, -30);
  assert.equal(c.processes[0]?.delayMs, 500);
  assert.deepEqual(c.files[0]?.initFile, { value: 0, overwrite: true });
  assert.deepEqual(c.syncGroups[0]?.members, ['VI_1']);
});

void test('schema errors point at the YAML node: unknown keys, ranges, bad durations, AH', async () => {
  const r = await loadConfig(join(fixtures, 'bad.yaml'));
  assert.equal(r.config, null);
  const file = join(fixtures, 'bad.yaml');
  assert.deepEqual(find(r.diagnostics, "unknown key 'priorty'").pos, { file, line: 5, col: 5 });
  const vrid = find(r.diagnostics, 'instances[0].vrid');
  assert.deepEqual(vrid.pos, { file, line: 4, col: 11 });
  assert.match(vrid.message, /1\.\.255/);
  assert.deepEqual(find(r.diagnostics, "'fast' is not a duration").pos, { file, line: 6, col: 22 });
  assert.deepEqual(find(r.diagnostics, 'AH').pos, { file, line: 7, col: 19 });
  assert.deepEqual(find(r.diagnostics, 'expected an IPv4 or IPv6 address').pos, { file, line: 9, col: 26 });
  assert.ok(r.diagnostics.every((d) => d.severity === 'error' && d.pos));
});

void test('YAML syntax errors and missing required keys carry positions', async () => {
  const syntax = await loadConfigText('instances:\n  - name: [unclosed\n', 's.yaml');
  assert.equal(syntax.config, null);
  assert.equal(syntax.diagnostics[0]?.pos?.file, 's.yaml');
  assert.match(syntax.diagnostics[0]?.message ?? '', /YAML syntax/);
  const missing = await loadConfigText('instances:\n  - name: VI_1\n    vrid: 5\n', 'm.yaml');
  assert.deepEqual(find(missing.diagnostics, 'instances[0].interface: is required').pos, {
    file: 'm.yaml',
    line: 2,
    col: 5,
  });
});

void test('defaults: version 3, priority 100, garp provider; passwords over 8 bytes are errors', async () => {
  const r = await loadConfigText(minimal(), 'd.yaml');
  const i = r.config?.instances[0];
  assert.equal(i?.version, 3);
  assert.equal(i?.priority, 100);
  assert.equal(i?.advertIntervalCs, 100);
  assert.equal(i?.checkUnicastSrc, true);
  assert.deepEqual(
    i?.providers.map((p) => p.type),
    ['garp'],
  );
  const none = await loadConfigText(minimal('    providers: []\n'), 'd.yaml');
  assert.deepEqual(none.config?.instances[0]?.providers, []);
  const pw = await loadConfigText(
    minimal('    version: 2\n    auth: { type: PASS, password: "123456789" }\n'),
    'p.yaml',
  );
  assert.equal(pw.config, null);
  assert.deepEqual(find(pw.diagnostics, 'at most 8').pos, { file: 'p.yaml', line: 7, col: 35 });
});

void test('shared checks also run for YAML: undefined script reference, v2 advert rounding', async () => {
  const r = await loadConfigText(
    minimal('    version: 2\n    advert_interval: 1.5s\n    track: { scripts: [nope] }\n'),
    'c.yaml',
  );
  assert.ok(r.config);
  assert.equal(r.config.instances[0]?.advertIntervalCs, 200);
  assert.deepEqual(find(r.diagnostics, 'whole seconds').pos, { file: 'c.yaml', line: 7, col: 22 });
  assert.deepEqual(find(r.diagnostics, 'track_script nope is not defined').pos, {
    file: 'c.yaml',
    line: 8,
    col: 24,
  });
  assert.deepEqual(r.config.instances[0]?.trackScripts, []);
  const sg = await loadConfigText(minimal('sync_groups:\n  G: { members: [VI_1, VI_2] }\n'), 'g.yaml');
  assert.equal(sg.config, null);
  assert.deepEqual(find(sg.diagnostics, 'names instance VI_2').pos, { file: 'g.yaml', line: 7, col: 24 });
});

void test('notify-stage timings: global defaults, per-instance overrides, minimums', async () => {
  const text =
    'global:\n  hold_off: 30s\n  reconcile_interval: 2s\n' +
    minimal('    provider_timeout: 3s\n    hold_off: 5s\n');
  const r = await loadConfigText(text, 'timings.yaml');
  assert.ok(r.config, r.diagnostics.map(formatDiagnostic).join('\n'));
  const inst = r.config.instances[0]!;
  assert.deepEqual(notifyTimingsFor(r.config.global, inst), {
    providerTimeoutMs: 3000,
    reconcileIntervalMs: 2000,
    holdOffMs: 5000,
  });
  const none = await loadConfigText(minimal(), 'none.yaml');
  assert.ok(none.config);
  assert.deepEqual(notifyTimingsFor(none.config.global, none.config.instances[0]!), NOTIFY_TIMING_DEFAULTS);

  const bad = await loadConfigText(minimal('    reconcile_interval: 10ms\n'), 'bad.yaml');
  assert.equal(bad.config, null);
  const d = find(bad.diagnostics, 'reconcile_interval must be at least 100 ms');
  assert.equal(d.pos?.line, 6);
});

void test('http_checks / tcp_checks: parsed with defaults, share the script name space, bad URLs located', async () => {
  const text =
    minimal('    track: { scripts: [web, db] }\n') +
    'http_checks:\n  web: { url: "http://127.0.0.1:8080/health" }\n' +
    'tcp_checks:\n  db: { host: 127.0.0.1, port: 5432, interval: 2s, fall: 3 }\n';
  const r = await loadConfigText(text, 'checks.yaml');
  assert.ok(r.config, r.diagnostics.map(formatDiagnostic).join('\n'));
  assert.deepEqual(
    r.config.httpChecks?.map(({ pos: _p, ...c }) => c),
    [
      {
        name: 'web',
        url: 'http://127.0.0.1:8080/health',
        expectStatus: 200,
        intervalMs: 1000,
        weight: 0,
        weightReverse: false,
        rise: 1,
        fall: 1,
        initFail: false,
      },
    ],
  );
  assert.equal(r.config.tcpChecks?.[0]?.port, 5432);
  assert.equal(r.config.tcpChecks?.[0]?.intervalMs, 2000);
  assert.deepEqual(
    r.config.instances[0]!.trackScripts.map((t) => t.name),
    ['web', 'db'],
  );

  const bad = await loadConfigText(minimal() + 'http_checks:\n  web: { url: "ftp://x/" }\n', 'bad.yaml');
  assert.equal(bad.config, null);
  assert.equal(find(bad.diagnostics, 'expected an http:// or https:// URL').pos?.line, 7);

  const dup = await loadConfigText(
    minimal() + 'scripts:\n  web: { script: /bin/true }\nhttp_checks:\n  web: { url: "http://127.0.0.1/" }\n',
    'dup.yaml',
  );
  assert.equal(dup.config, null);
  find(dup.diagnostics, 'script or check web is already defined');
});
