import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { loadConfig, loadConfigText } from '../../src/config/load.js';
import { parseKeepalived, splitQuotedEscaped } from '../../src/config/keepalived-conf.js';
import { formatDiagnostic, type ConfigDiagnostic, type InstanceSpec } from '../../src/config/model.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', 'fixtures', 'config');

function find(ds: ConfigDiagnostic[], fragment: string): ConfigDiagnostic {
  const d = ds.find((x) => x.message.includes(fragment));
  assert.ok(d, `no diagnostic containing "${fragment}" in:\n${ds.map(formatDiagnostic).join('\n')}`);
  return d;
}

function errors(ds: ConfigDiagnostic[]): string[] {
  return ds.filter((d) => d.severity === 'error').map(formatDiagnostic);
}

function instance(text: string): string {
  return `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n${text}\n  virtual_ipaddress {\n    10.99.0.100/24\n  }\n}\n`;
}

async function one(
  body: string,
): Promise<{ inst: InstanceSpec | undefined; diagnostics: ConfigDiagnostic[] }> {
  const r = await loadConfigText(instance(body), 't.conf');
  return { inst: r.config?.instances[0], diagnostics: r.diagnostics };
}

void test('lexer: comments, quotes, braces without blanks, and continuation lines', async () => {
  const text = [
    'global_defs{ router_id "my router" # comment with { brace',
    '  ! a whole-line comment',
    '  script_user \\#hash\\!bang',
    '  notification_email_from a@b \\',
    '     c@d',
    '}',
  ].join('\n');
  const r = await parseKeepalived(text, 'lex.conf');
  assert.deepEqual(errors(r.diagnostics), []);
  const g = r.statements[0];
  assert.equal(g?.keyword.text, 'global_defs');
  const block = g?.block ?? [];
  assert.deepEqual(
    block.map((s) => [s.keyword.text, ...s.args.map((a) => a.text)]),
    [
      ['router_id', 'my router'],
      ['script_user', '#hash!bang'],
      ['notification_email_from', 'a@b', 'c@d'],
    ],
  );
  const cont = block[2]?.args[1];
  assert.deepEqual(cont?.pos, { file: 'lex.conf', line: 5, col: 6 });
  assert.deepEqual(block[0]?.args[0]?.pos, { file: 'lex.conf', line: 1, col: 24 });
});

void test('lexer: unterminated quote and unbalanced braces are errors with positions', async () => {
  const r = await parseKeepalived('global_defs {\n  router_id "oops\n', 'q.conf');
  assert.deepEqual(find(r.diagnostics, 'unterminated').pos, { file: 'q.conf', line: 2, col: 13 });
  assert.deepEqual(find(r.diagnostics, 'never closed').pos, { file: 'q.conf', line: 1, col: 1 });
  const r2 = await parseKeepalived('}\n', 'b.conf');
  assert.deepEqual(find(r2.diagnostics, "extra '}'").pos, { file: 'b.conf', line: 1, col: 1 });
});

void test("splitQuotedEscaped follows keepalived's script word rules", () => {
  assert.deepEqual(splitQuotedEscaped(`"/bin/x 'a b'" user`).words, ["/bin/x 'a b'", 'user']);
  assert.deepEqual(splitQuotedEscaped(`'/bin/x a' \\x41\\tB`).words, ['/bin/x a', 'A\tB']);
  assert.equal(splitQuotedEscaped(`"open`).error, 'missing terminating "');
});

void test('full.conf: every mapped construct', async () => {
  const r = await loadConfig(join(fixtures, 'full.conf'));
  assert.deepEqual(errors(r.diagnostics), []);
  const c = r.config;
  assert.ok(c);
  assert.equal(c.format, 'keepalived');
  const g = c.global;
  assert.equal(g.routerId, 'lb1');
  assert.equal(g.garpMasterDelayMs, 2000);
  assert.equal(g.garpMasterRepeat, 3);
  assert.equal(g.garpMasterRefreshMs, 60_000);
  assert.equal(g.garpMasterRefreshRepeat, 2);
  assert.equal(g.vrrpVersion, 3);
  assert.equal(g.scriptUser, 'keepalived_script');
  assert.equal(g.scriptGroup, 'scriptgrp');
  assert.equal(g.enableScriptSecurity, true);
  assert.equal(g.notifyFifo, '/run/keepalived.fifo');
  assert.equal(g.notifyFifoScript, '/usr/local/bin/fifo.sh arg');
  assert.equal(g.checkUnicastSrc, true);
  assert.deepEqual(g.extra.notification_email, ['ops@example.com']);

  const [chk, long] = c.scripts;
  assert.deepEqual(
    { ...chk, pos: undefined },
    {
      name: 'chk_haproxy',
      script: 'killall -0 haproxy',
      intervalMs: 2000,
      timeoutMs: 3000,
      weight: -30,
      weightReverse: true,
      rise: 2,
      fall: 3,
      initFail: true,
      user: 'nobody',
      group: 'nogroup',
      pos: undefined,
    },
  );
  assert.deepEqual(chk?.pos, { file: join(fixtures, 'full.conf'), line: 19, col: 13 });
  // keepalived's defaults: interval 1 s, weight 0, rise/fall 1, no timeout.
  assert.equal(long?.script, '/usr/local/bin/check with-continued-arg');
  assert.equal(long?.intervalMs, 1000);
  assert.equal(long?.weight, 0);
  assert.equal(long?.timeoutMs, undefined);

  const p = c.processes[0];
  assert.equal(p?.process, 'nginx');
  assert.equal(p?.params, '-g daemon');
  assert.equal(p?.paramMatch, 'exact');
  assert.equal(p?.weight, 10);
  assert.equal(p?.quorum, 2);
  assert.equal(p?.quorumMax, 4);
  assert.equal(p?.delayMs, 1500);
  assert.equal(p?.terminateDelayMs, 1500);
  assert.equal(p?.forkDelayMs, 1500);

  const f = c.files[0];
  assert.equal(f?.file, '/var/run/maint');
  assert.equal(f?.weight, -50);
  assert.equal(f?.weightReverse, true);
  assert.deepEqual(f?.initFile, { value: 0, overwrite: true });

  const [v1, v2] = c.instances;
  assert.ok(v1 && v2);
  assert.equal(v1.initialState, 'BACKUP');
  assert.equal(v1.vrid, 60);
  assert.equal(v1.priority, 120);
  assert.equal(v1.version, 3, 'inherits vrrp_version 3 from global_defs');
  assert.equal(v1.advertIntervalCs, 50);
  assert.equal(v1.preempt, false);
  assert.equal(v1.unicastSrcIp, '10.99.0.1');
  assert.deepEqual(v1.unicastPeers, ['10.99.0.2', '10.99.0.3']);
  assert.deepEqual(v1.extra['unicast_peer 10.99.0.2'], ['min_ttl', '250', 'max_ttl', '255']);
  assert.equal(v1.unicastTtl, 64);
  assert.deepEqual(v1.virtualIps, [
    { address: '10.99.0.100', prefix: 24, family: 'ipv4', dev: 'eth1', label: 'eth1:vip' },
    { address: '10.99.0.101', prefix: 32, family: 'ipv4' },
  ]);
  assert.deepEqual(v1.extra['virtual_ipaddress 10.99.0.101'], ['brd', '+', 'no_track']);
  assert.deepEqual(v1.excludedVirtualIps, [{ address: '10.99.1.100', prefix: 24, family: 'ipv4' }]);
  assert.deepEqual(v1.trackScripts, [{ name: 'chk_haproxy' }, { name: 'chk_long', weight: 5 }]);
  assert.deepEqual(v1.trackInterfaces, [{ name: 'eth1', weight: -20 }, { name: 'eth2' }]);
  assert.deepEqual(v1.trackProcesses, [{ name: 'track_nginx', weight: 15, reverse: true }]);
  assert.deepEqual(v1.trackFiles, [{ name: 'tf_maint' }]);
  assert.deepEqual(v1.notify, {
    master: "/usr/local/bin/master.sh 'quoted arg'",
    backup: '/usr/local/bin/backup.sh',
    fault: '/usr/local/bin/fault.sh',
    stop: '/usr/local/bin/stop.sh',
    deleted: '/usr/local/bin/deleted.sh',
    generic: '/usr/local/bin/notify.sh',
  });
  assert.equal(v1.garpMasterDelayMs, 4000);
  assert.equal(v1.garpMasterRepeat, 6);
  assert.equal(v1.garpMasterRefreshMs, 30_000);
  assert.equal(v1.downTimerAdverts, 5);
  assert.deepEqual(v1.extra.dont_track_primary, []);
  assert.deepEqual(v1.extra.accept, []);
  assert.deepEqual(
    v1.providers.map((x) => x.type),
    ['garp'],
  );

  // state MASTER without priority: keepalived makes it the address owner.
  assert.equal(v2.priority, 255);
  assert.equal(v2.preemptDelayMs, 0, 'preempt_delay is cleared for initial state MASTER');
  assert.equal(v2.version, 3);

  assert.deepEqual(c.syncGroups[0]?.members, ['VI_1', 'VI_2']);
  assert.deepEqual(c.syncGroups[0]?.notify, { master: '/usr/local/bin/group_master.sh' });
  assert.deepEqual(c.syncGroups[0]?.trackScripts, [{ name: 'chk_haproxy', weight: -10 }]);

  const file = join(fixtures, 'full.conf');
  assert.deepEqual(find(r.diagnostics, 'track_script chk_missing is not defined').pos, {
    file,
    line: 72,
    col: 5,
  });
  assert.deepEqual(find(r.diagnostics, "unknown keyword 'bogus_keyword'").pos, { file, line: 96, col: 3 });
  assert.equal(find(r.diagnostics, "unknown keyword 'bogus_keyword'").severity, 'warning');
  assert.deepEqual(find(r.diagnostics, "floatip ignores 'virtual_server'").pos, { file, line: 121, col: 1 });
  assert.equal(
    r.diagnostics.filter((d) => d.message.includes('real_server')).length,
    0,
    'one warning per skipped block',
  );
  assert.deepEqual(find(r.diagnostics, 'preempt_delay does not work').pos, { file, line: 104, col: 17 });
});

void test('vrid and priority ranges are errors at the value', async () => {
  const r = await loadConfigText(
    'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 300\n    priority 0\n}\n',
    'kaA.conf',
  );
  assert.equal(r.config, null);
  assert.equal(
    formatDiagnostic(find(r.diagnostics, 'virtual_router_id 300')),
    'kaA.conf:3:21: error: virtual_router_id 300 is out of range; use 1..255',
  );
  assert.deepEqual(find(r.diagnostics, 'priority 0').pos, { file: 'kaA.conf', line: 4, col: 14 });
  const missing = await loadConfigText('vrrp_instance VI_1 {\n  interface eth0\n}\n', 'm.conf');
  assert.match(find(missing.diagnostics, 'no virtual_router_id').message, /1\.\.255/);
});

void test('interface is required; duplicate instance names and VRIDs are errors', async () => {
  const r = await loadConfigText('vrrp_instance VI_1 {\n  virtual_router_id 5\n}\n', 'x.conf');
  assert.deepEqual(find(r.diagnostics, 'has no interface').pos, { file: 'x.conf', line: 1, col: 15 });
  const dup = await loadConfigText(instance('') + instance(''), 'd.conf');
  assert.equal(dup.config, null);
  assert.deepEqual(find(dup.diagnostics, 'already defined').pos, { file: 'd.conf', line: 9, col: 15 });
  assert.ok(find(dup.diagnostics, 'virtual_router_id 51 is already used on eth0'));
});

void test('advert_int: float seconds, v2 rounds to whole seconds with a warning, v3 keeps centiseconds', async () => {
  const v2 = await one('  advert_int 1.6');
  assert.equal(v2.inst?.advertIntervalCs, 200);
  assert.deepEqual(find(v2.diagnostics, 'must be whole seconds').pos, { file: 't.conf', line: 4, col: 14 });
  const small = await one('  advert_int 0.3');
  assert.equal(small.inst?.advertIntervalCs, 100, 'rounds up to the 1 s minimum');
  const v3 = await one('  version 3\n  advert_int 0.25');
  assert.equal(v3.inst?.advertIntervalCs, 25);
  assert.equal(v3.diagnostics.length, 0);
  const dflt = await one('');
  assert.equal(dflt.inst?.advertIntervalCs, 100);
  assert.equal(dflt.inst?.priority, 100);
  assert.equal(dflt.inst?.version, 2);
});

void test('authentication: PASS truncation warning, AH error, v3 ignores auth', async () => {
  const pass = await one('  authentication {\n    auth_type PASS\n    auth_pass 0123456789\n  }');
  assert.equal(pass.inst?.auth?.password.toString(), '01234567');
  const w = find(pass.diagnostics, 'truncated');
  assert.equal(w.severity, 'warning');
  assert.deepEqual(w.pos, { file: 't.conf', line: 6, col: 15 });
  const short = await one('  authentication {\n    auth_type PASS\n    auth_pass abc\n  }');
  assert.deepEqual([...(short.inst?.auth?.password ?? [])], [0x61, 0x62, 0x63, 0, 0, 0, 0, 0]);
  const ah = await one('  authentication {\n    auth_type AH\n    auth_pass abc\n  }');
  const e = find(ah.diagnostics, 'AH');
  assert.equal(e.severity, 'error');
  assert.match(e.message, /use auth_type PASS/);
  assert.deepEqual(e.pos, { file: 't.conf', line: 5, col: 15 });
  const v3 = await one('  version 3\n  authentication {\n    auth_type PASS\n    auth_pass abc\n  }');
  assert.equal(v3.inst?.auth, undefined);
  assert.equal(find(v3.diagnostics, 'version 3 has no authentication').severity, 'warning');
});

void test('families: IPv6 VIPs need v3, peers must match the instance family', async () => {
  const v6 = await loadConfigText(
    'vrrp_instance V6 {\n  interface eth0\n  virtual_router_id 9\n  virtual_ipaddress {\n    fd00::10/64\n  }\n}\n',
    'six.conf',
  );
  assert.deepEqual(errors(v6.diagnostics), []);
  assert.equal(v6.config?.instances[0]?.family, 'ipv6');
  assert.equal(v6.config?.instances[0]?.version, 3, 'IPv6 defaults to version 3');
  assert.equal(v6.config?.instances[0]?.virtualIps[0]?.prefix, 64);
  const v6v2 = await loadConfigText(
    'vrrp_instance V6 {\n  interface eth0\n  virtual_router_id 9\n  version 2\n  virtual_ipaddress {\n    fd00::10\n  }\n}\n',
    'six.conf',
  );
  assert.deepEqual(find(v6v2.diagnostics, 'need VRRP version 3').pos, { file: 'six.conf', line: 4, col: 11 });
  const peers = await one('  unicast_peer {\n    fd00::2\n  }');
  assert.deepEqual(find(peers.diagnostics, 'unicast peer fd00::2 is ipv6').pos, {
    file: 't.conf',
    line: 5,
    col: 5,
  });
  const mixed = await loadConfigText(
    instance('').replace('10.99.0.100/24', '10.99.0.100/24\n    fd00::1'),
    'mix.conf',
  );
  assert.ok(find(mixed.diagnostics, 'virtual address fd00::1 is ipv6'));
});

void test('sync groups: unknown member is an error at the member', async () => {
  const r = await loadConfigText(
    instance('') + 'vrrp_sync_group G {\n  group {\n    VI_1 VI_9\n  }\n}\n',
    's.conf',
  );
  assert.equal(r.config, null);
  assert.deepEqual(find(r.diagnostics, 'names instance VI_9').pos, { file: 's.conf', line: 11, col: 10 });
});

void test('unknown keywords warn and parsing continues; unknown root blocks are skipped', async () => {
  const r = await loadConfigText(
    'frobnicate {\n  vrrp_instance X {\n  }\n}\n' + instance('  xyz 1'),
    'u.conf',
  );
  assert.deepEqual(errors(r.diagnostics), []);
  assert.deepEqual(find(r.diagnostics, "unknown keyword 'frobnicate'").pos, {
    file: 'u.conf',
    line: 1,
    col: 1,
  });
  assert.deepEqual(find(r.diagnostics, "unknown keyword 'xyz'").pos, { file: 'u.conf', line: 8, col: 3 });
  assert.deepEqual(
    r.config?.instances.map((i) => i.name),
    ['VI_1'],
  );
});

void test('include: glob expanded in sorted order, relative to the including file, also inside blocks', async () => {
  const r = await loadConfig(join(fixtures, 'include', 'main.conf'));
  assert.deepEqual(errors(r.diagnostics), []);
  assert.deepEqual(
    r.config?.instances.map((i) => [i.name, i.virtualIps.map((v) => v.address)]),
    [
      ['VI_A', ['10.99.0.11']],
      ['VI_B', ['10.99.0.12']],
      ['VI_MAIN', ['10.99.0.10']],
    ],
  );
  assert.deepEqual(r.config?.instances[0]?.pos, {
    file: join(fixtures, 'include', 'conf.d', '10-first.conf'),
    line: 1,
    col: 15,
  });
});

void test("include: errors carry the included file's own path", async () => {
  const r = await loadConfig(join(fixtures, 'include-error', 'main.conf'));
  assert.equal(r.config, null);
  assert.deepEqual(find(r.diagnostics, 'priority 300').pos, {
    file: join(fixtures, 'include-error', 'bad.conf'),
    line: 4,
    col: 12,
  });
});

void test('include: a loop is an error, a missing literal file is an error, an empty glob a warning', async () => {
  const r = await loadConfig(join(fixtures, 'loop', 'a.conf'));
  assert.equal(r.config, null);
  const loop = find(r.diagnostics, 'include loop');
  assert.deepEqual(loop.pos, { file: join(fixtures, 'loop', 'b.conf'), line: 1, col: 1 });
  const missing = await loadConfigText('include nowhere.conf\n', join(fixtures, 'x.conf'));
  assert.equal(find(missing.diagnostics, 'does not exist').severity, 'error');
  const empty = await loadConfigText('include none/*.conf\n' + instance(''), join(fixtures, 'x.conf'));
  assert.equal(find(empty.diagnostics, 'matched no files').severity, 'warning');
  assert.ok(empty.config);
});

void test('IO errors become diagnostics', async () => {
  const r = await loadConfig(join(fixtures, 'does-not-exist.conf'));
  assert.equal(r.config, null);
  assert.match(find(r.diagnostics, 'cannot read').message, /no such file/);
});
