/**
 * InstanceRunner as a sync group member: its step hook, and events injected from inside that hook
 * (the daemon's coordinator answers a member's want-master in the same tick).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { loadConfigText } from '../../src/config/load.js';
import type { InstanceSpec } from '../../src/config/model.js';
import { InstanceRunner, type TransitionInfo } from '../../src/daemon/instance-runner.js';
import type { VrrpTransport } from '../../src/transport/types.js';
import type { Effect } from '../../src/vrrp/instance.js';

const silent = pino({ level: 'silent' });

async function spec(): Promise<InstanceSpec> {
  const r = await loadConfigText(
    `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  unicast_src_ip 10.99.0.2
  unicast_peer {
    10.99.0.1
  }
  virtual_ipaddress {
    10.99.0.100/24
  }
}`,
    '/virtual/test.conf',
    'keepalived',
  );
  assert.ok(r.config?.instances[0], r.diagnostics.map((d) => d.message).join('\n'));
  return r.config.instances[0];
}

function harness(t: import('node:test').TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let nowMs = 0;
  const sent: number[] = [];
  const transport: VrrpTransport = {
    options: { family: 'ipv4', ifname: 'eth0', sourceIp: '10.99.0.2', unicastPeers: [], unicastTtl: 255 },
    send: async () => {
      sent.push(nowMs);
    },
    close: () => undefined,
  };
  const clock = { nowUs: () => Math.round(nowMs * 1000) };
  const advance = (ms: number): void => {
    for (let i = 0; i < ms; i++) {
      nowMs += 1;
      t.mock.timers.tick(1);
    }
  };
  return { sent, transport, clock, advance };
}

test('runner in a sync group: Master_Down only says want-master; the step hook sees it', async (t) => {
  const h = harness(t);
  const runner = new InstanceRunner(await spec(), '10.99.0.2', h.clock, silent, 'G1');
  const steps: { state: string; wantMaster: boolean; effects: string[] }[] = [];
  runner.onStep((view, effects) =>
    steps.push({ state: view.state, wantMaster: view.wantMaster, effects: effects.map((e) => e.type) }),
  );
  runner.bindTransport(h.transport);
  runner.start();
  h.advance(3610);
  assert.equal(runner.vrrpState, 'BACKUP');
  assert.equal(runner.wantMaster, true);
  assert.equal(runner.syncGroup, 'G1');
  assert.deepEqual(h.sent, [], 'no advert while held');
  assert.deepEqual(steps.at(-1), {
    state: 'BACKUP',
    wantMaster: true,
    effects: ['set-timer', 'want-master'],
  });
  // Held: the re-armed Master_Down fires again and says the same.
  h.advance(3610);
  assert.equal(runner.vrrpState, 'BACKUP');
  assert.equal(steps.filter((s) => s.effects.includes('want-master')).length, 2);
});

test('runner in a sync group: sync-master injected from inside its own step is a normal MASTER entry', async (t) => {
  const h = harness(t);
  const runner = new InstanceRunner(await spec(), '10.99.0.2', h.clock, silent, 'G1');
  const transitions: TransitionInfo[] = [];
  runner.onTransition((x) => transitions.push(x));
  runner.onStep((_view, effects: readonly Effect[]) => {
    const wish = effects.find((e) => e.type === 'want-master');
    if (wish?.type === 'want-master') runner.syncMaster(wish.reason);
  });
  runner.bindTransport(h.transport);
  runner.start();
  h.advance(3610);
  assert.equal(runner.vrrpState, 'MASTER');
  assert.equal(runner.wantMaster, false);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    transitions.map((x) => `${x.from}->${x.to}:${x.reason}`),
    ['INIT->BACKUP:startup', 'BACKUP->MASTER:master-down-timer'],
  );
  assert.equal(h.sent.length, 1);
  // The held Master_Down was cancelled: from now on only adverts, once a second.
  h.advance(3000);
  assert.equal(h.sent.length, 4);
  assert.equal(runner.vrrpState, 'MASTER');

  runner.syncBackup();
  assert.equal(runner.vrrpState, 'BACKUP');
  assert.equal(h.sent.length, 4, 'sync-backup sends no priority 0');
  await runner.shutdown();
});
