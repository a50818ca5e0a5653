import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { loadConfigText } from '../../src/config/load.js';
import type { InstanceSpec } from '../../src/config/model.js';
import { InstanceRunner, type TransitionInfo } from '../../src/daemon/instance-runner.js';
import { receiveAdvert, type ReceiveTarget } from '../../src/daemon/receive-path.js';
import { emptyCounters } from '../../src/daemon/stats.js';
import type { ReceivedPacket, VrrpTransport } from '../../src/transport/types.js';
import { decodeAdvert, encodeAdvert, type Advert } from '../../src/vrrp/advert.js';

const silent = pino({ level: 'silent' });

async function specFrom(conf: string): Promise<InstanceSpec> {
  const r = await loadConfigText(conf, '/virtual/test.conf', 'keepalived');
  assert.ok(r.config, r.diagnostics.map((d) => d.message).join('\n'));
  const spec = r.config.instances[0];
  assert.ok(spec);
  return spec;
}

const V2_UNICAST = `
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  version 2
  unicast_src_ip 10.99.0.2
  unicast_peer {
    10.99.0.1
    10.99.0.3
  }
  authentication {
    auth_type PASS
    auth_pass secretpw
  }
  virtual_ipaddress {
    10.99.0.100/24
  }
}`;

interface Sent {
  dst: string;
  ipId: number | undefined;
  bytes: Buffer;
  atMs: number;
}

/** A transport that records what would go on the wire, and a clock driven by mocked timers. */
function harness(t: import('node:test').TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let nowMs = 0;
  const sent: Sent[] = [];
  const transport: VrrpTransport = {
    options: { family: 'ipv4', ifname: 'eth0', sourceIp: '10.99.0.2', unicastPeers: [], unicastTtl: 255 },
    send: async (bytes, dst, ipId) => {
      sent.push({ dst, ipId, bytes: Buffer.from(bytes), atMs: nowMs });
    },
    close: () => undefined,
  };
  const clock = { nowUs: () => Math.round(nowMs * 1000) };
  const advance = (ms: number): void => {
    // Step in 1 ms increments so the clock and the mocked timers never disagree.
    for (let i = 0; i < ms; i++) {
      nowMs += 1;
      t.mock.timers.tick(1);
    }
  };
  return { sent, transport, clock, advance };
}

function decodeSent(s: Sent): Advert {
  const d = decodeAdvert(s.bytes, { family: 'ipv4', src: '10.99.0.2', dst: s.dst });
  assert.ok(d.ok, `sent advert does not decode: ${d.ok ? '' : d.detail}`);
  return d.advert;
}

test('runner: a lone backup becomes master after Master_Down and adverts to every unicast peer', async (t) => {
  const spec = await specFrom(V2_UNICAST);
  const h = harness(t);
  const runner = new InstanceRunner(spec, '10.99.0.2', h.clock, silent);
  const transitions: TransitionInfo[] = [];
  runner.onTransition((x) => transitions.push(x));
  runner.bindTransport(h.transport);
  runner.start();
  assert.equal(runner.vrrpState, 'BACKUP');
  // Master_Down for priority 100, v2, 1 s = 3 s + 156/256 s = 3609.375 ms.
  h.advance(3609);
  assert.equal(runner.vrrpState, 'BACKUP', 'must not take over before Master_Down');
  h.advance(1);
  assert.equal(runner.vrrpState, 'MASTER');
  // Listeners hear of a transition once its adverts are on the wire (a promise turn later).
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    transitions.map((x) => `${x.from}->${x.to}`),
    ['INIT->BACKUP', 'BACKUP->MASTER'],
  );
  assert.deepEqual(
    h.sent.map((s) => s.dst),
    ['10.99.0.1', '10.99.0.3'],
  );
  const adv = decodeSent(h.sent[0]!);
  assert.equal(adv.priority, 100);
  assert.equal(adv.vrid, 51);
  assert.deepEqual(adv.addresses, ['10.99.0.100']);
  assert.equal(adv.authType, 1);
  assert.equal(adv.authData.toString('latin1'), 'secretpw');
  h.advance(1000);
  assert.equal(h.sent.length, 4, 'one advert per peer per interval');
  // keepalived numbers IP ids per instance and advert: both peers of one advert share the id.
  assert.deepEqual(
    h.sent.map((s) => s.ipId),
    [1, 1, 2, 2],
  );
  assert.equal(runner.counters.advert_sent, 2);
  assert.equal(runner.counters.become_master, 1);
});

test('runner: shutdown of a master sends priority 0 to each peer and stops its timers', async (t) => {
  const spec = await specFrom(V2_UNICAST);
  const h = harness(t);
  const runner = new InstanceRunner(spec, '10.99.0.2', h.clock, silent);
  runner.bindTransport(h.transport);
  runner.start();
  h.advance(3700);
  assert.equal(runner.vrrpState, 'MASTER');
  const before = h.sent.length;
  await runner.shutdown();
  const last = h.sent.slice(before);
  assert.deepEqual(
    last.map((s) => [s.dst, decodeSent(s).priority]),
    [
      ['10.99.0.1', 0],
      ['10.99.0.3', 0],
    ],
  );
  assert.equal(runner.counters.pri_zero_sent, 1);
  h.advance(5000);
  assert.equal(h.sent.length, before + 2, 'no advert after shutdown');
});

function packetFrom(src: string, advert: Partial<Advert>, dst = '10.99.0.2'): ReceivedPacket {
  const full: Advert = {
    version: 2,
    type: 1,
    vrid: 51,
    priority: 150,
    intervalCs: 100,
    addresses: ['10.99.0.100'],
    authType: 1,
    authData: Buffer.from('secretpw'),
    ...advert,
  };
  return {
    family: 'ipv4',
    src,
    dst,
    ttl: 255,
    ifname: 'eth0',
    payload: encodeAdvert(full, { family: 'ipv4', src, dst }),
  };
}

async function target(
  t: import('node:test').TestContext,
): Promise<{ target: ReceiveTarget; runner: InstanceRunner }> {
  const spec = await specFrom(V2_UNICAST);
  const h = harness(t);
  const runner = new InstanceRunner(spec, '10.99.0.2', h.clock, silent);
  runner.bindTransport(h.transport);
  return {
    runner,
    target: {
      runner,
      policy: {
        version: 2,
        vrid: 51,
        advertIntervalCs: 100,
        virtualIps: ['10.99.0.100'],
        auth: { type: 'PASS', password: Buffer.from('secretpw') },
      },
      allowedSources: new Set(['10.99.0.1', '10.99.0.3']),
    },
  };
}

test('receive path: a valid advert from a peer is counted and reaches the instance', async (t) => {
  const { target: tg, runner } = await target(t);
  runner.start();
  const unmatched = emptyCounters();
  const out = receiveAdvert(packetFrom('10.99.0.1', {}), new Map([[51, tg]]), unmatched);
  assert.equal(out.kind, 'accepted');
  assert.equal(runner.counters.advert_rcvd, 1);
});

test('receive path: each drop is charged to the instance under keepalived’s counter', async (t) => {
  const { target: tg, runner } = await target(t);
  const targets = new Map([[51, tg]]);
  const unmatched = emptyCounters();
  const cases: Array<[ReceivedPacket, string]> = [
    [packetFrom('10.99.0.9', {}), 'src_not_peer'],
    [packetFrom('10.99.0.1', { authData: Buffer.from('wrongpw!') }), 'auth_failure'],
    [packetFrom('10.99.0.1', { authType: 0, authData: Buffer.alloc(8) }), 'authtype_mismatch'],
    [packetFrom('10.99.0.1', { intervalCs: 200 }), 'advert_interval_err'],
  ];
  for (const [pkt, reason] of cases) {
    const out = receiveAdvert(pkt, targets, unmatched);
    assert.equal(out.kind, 'rejected');
    assert.equal(out.kind === 'rejected' && out.reason, reason);
  }
  const truncated = packetFrom('10.99.0.1', {});
  truncated.payload = truncated.payload.subarray(0, 10);
  const out = receiveAdvert(truncated, targets, unmatched);
  assert.equal(out.kind === 'rejected' && out.reason, 'packet_len_err');

  const c = runner.counters;
  assert.deepEqual(
    [
      c.src_not_peer,
      c.auth_failure,
      c.authtype_mismatch,
      c.advert_interval_err,
      c.packet_len_err,
      c.advert_rcvd,
    ],
    [1, 1, 1, 1, 1, 0],
  );
});

test('receive path: a VRID no instance owns is counted apart, never charged to an instance', async (t) => {
  const { target: tg, runner } = await target(t);
  const unmatched = emptyCounters();
  const out = receiveAdvert(packetFrom('10.99.0.1', { vrid: 77 }), new Map([[51, tg]]), unmatched);
  assert.equal(out.kind === 'rejected' && out.reason, 'vrid_err');
  assert.equal(unmatched.vrid_err, 1);
  assert.equal(runner.counters.vrid_err, 0);
});

test('receive path: a priority-0 advert is counted as pri_zero_rcvd', async (t) => {
  const { target: tg, runner } = await target(t);
  runner.start();
  receiveAdvert(packetFrom('10.99.0.1', { priority: 0 }), new Map([[51, tg]]), emptyCounters());
  assert.equal(runner.counters.pri_zero_rcvd, 1);
  assert.equal(runner.counters.advert_rcvd, 1);
});

test('runner: a new master’s advert is on the wire before transition listeners (GARP, cloud) run', async (t) => {
  const spec = await specFrom(V2_UNICAST);
  const h = harness(t);
  const order: string[] = [];
  const slowTransport: VrrpTransport = {
    ...h.transport,
    send: (_bytes, dst) =>
      new Promise<void>((resolve) =>
        setImmediate(() => {
          order.push(`sent ${dst}`);
          resolve();
        }),
      ),
  };
  const runner = new InstanceRunner(spec, '10.99.0.2', h.clock, silent);
  runner.onTransition((x) => order.push(`listener ${x.to}`));
  runner.bindTransport(slowTransport);
  runner.start();
  await new Promise((r) => setImmediate(r));
  h.advance(3610);
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['listener BACKUP', 'sent 10.99.0.1', 'sent 10.99.0.3', 'listener MASTER']);
});
