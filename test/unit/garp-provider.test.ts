/** The garp provider's construction: options, VIPs, identity. No sockets are opened here. */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { pino } from 'pino';
import { createGarpProvider, GarpProvider } from '../../providers/garp/index.js';
import { parseGarpOptions } from '../../providers/garp/options.js';
import type { ProviderContext } from '../../src/notify/provider.js';

function ctx(over: Partial<ProviderContext> = {}): ProviderContext {
  return {
    instance: 'VI_1',
    interface: 'eth0',
    family: 'ipv4',
    virtualIps: [{ address: '10.99.0.100', prefix: 24, family: 'ipv4' }],
    options: {},
    garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1 },
    log: pino({ level: 'silent' }),
    ...over,
  };
}

test('defaults: announce and manage addresses; no cloud permissions; selfId is host/interface', () => {
  const p = createGarpProvider(ctx()) as GarpProvider;
  assert.equal(p.name, 'garp');
  assert.deepEqual(p.options, { announce: true, manageAddresses: true });
  assert.deepEqual(p.permissions, []);
  assert.equal(p.selfId, `${hostname()}/eth0`);
  assert.equal(p.announcing, false);
});

test('announce and manage_addresses are separate switches', () => {
  assert.deepEqual(parseGarpOptions({ announce: false }, 'VI_1'), { announce: false, manageAddresses: true });
  assert.deepEqual(parseGarpOptions({ manage_addresses: false }, 'VI_1'), {
    announce: true,
    manageAddresses: false,
  });
});

test('bad options name the instance and the option', () => {
  assert.throws(
    () => createGarpProvider(ctx({ options: { anounce: false } })),
    /instance VI_1: garp provider: unknown option "anounce"/,
  );
  assert.throws(
    () => createGarpProvider(ctx({ options: { announce: 'no' } })),
    /option announce must be true or false, not "no"/,
  );
  assert.throws(
    () => createGarpProvider(ctx({ virtualIps: [] })),
    /VI_1: garp provider: the instance has no virtual_ipaddress/,
  );
  assert.throws(
    () => createGarpProvider(ctx({ virtualIps: [{ address: '10.99.0.300', prefix: 32, family: 'ipv4' }] })),
    /VI_1: garp provider: .*10\.99\.0\.300/,
  );
});

test('an aborted signal is refused before anything is touched', async () => {
  const p = createGarpProvider(ctx({ interface: 'no-such-if0' }));
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(p.acquire(ac.signal), { name: 'AbortError' });
  await assert.rejects(p.holder(ac.signal), { name: 'AbortError' });
});

test('prepare() names a missing interface', async () => {
  if (process.platform !== 'linux') return;
  const p = createGarpProvider(ctx({ interface: 'nosuchif0' }));
  await assert.rejects(p.prepare(), /interface nosuchif0 does not exist/);
});
