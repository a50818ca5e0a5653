/**
 * The interface tracker against a real kernel: a TrackerSet runs inside a lab namespace (its
 * ioctls read that namespace's links) and reports while the test sets links down and up and
 * deletes one.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createLab, requireNetns } from './harness.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Runs in the namespace: one instance on eth0, tracking trk0 with weight -30 and trk1 unweighted. */
const CHILD = `
import { pino } from 'pino';
import { TrackerSet } from '${REPO}src/track/index.ts';
const inst = {
  name: 'VI', interface: 'eth0', vrid: 1, priority: 100, advertIntervalCs: 100, version: 2, family: 'ipv4',
  preempt: true, preemptDelayMs: 0, downTimerAdverts: 3, unicastPeers: [], unicastTtl: 255, checkUnicastSrc: true,
  virtualIps: [], excludedVirtualIps: [], trackScripts: [], trackProcesses: [], trackFiles: [],
  trackInterfaces: [{ name: 'trk0', weight: -30 }, { name: 'trk1' }],
  notify: {}, providers: [], extra: {}, pos: { file: 'x', line: 1, col: 1 },
};
const config = { file: 'x', format: 'yaml', instances: [inst], scripts: [], processes: [], files: [], syncGroups: [],
  global: { garpMasterDelayMs: 0, garpMasterRepeat: 0, garpMasterRefreshMs: 0, garpMasterRefreshRepeat: 0,
    enableScriptSecurity: false, vrrpVersion: 2, extra: {} } };
const set = new TrackerSet(config, { log: pino({ level: 'silent' }), pollMs: { interface: 100 } });
set.onChange((i, inputs, cause) => console.log('CHANGE ' + JSON.stringify({ inputs, cause: cause.text })));
set.start();
console.log('READY ' + JSON.stringify(set.inputs('VI')));
process.on('SIGTERM', () => void set.stop().then(() => process.exit(0)));
`;

void test(
  'interface tracker in a namespace: link down/up, weight and FAULT, deleted link',
  { timeout: 60_000 },
  async (t: TestContext) => {
    if (!requireNetns(t)) return;
    const lab = await createLab(['n'], { ipv6: false });
    t.after(() => lab.cleanup());
    const ns = lab.nodes.n!.ns;
    const ip = (...args: string[]) => lab.exec(ns, ['ip', ...args]);
    // veth pairs, not dummies: containers often lack the dummy module, and a veth whose peer is down
    // shows the IFF_UP-without-IFF_RUNNING case.
    for (const i of ['trk0', 'trk1']) {
      await ip('link', 'add', i, 'type', 'veth', 'peer', 'name', `${i}p`);
      await ip('link', 'set', `${i}p`, 'up');
      await ip('link', 'set', i, 'up');
    }

    const child = lab.spawn(ns, [process.execPath, '--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: REPO,
      label: 'tracker',
    });
    t.after(() => child.stop(5000));
    const ready = await child.waitForLine(/^READY /, 20_000);
    assert.deepEqual(JSON.parse(ready.slice(6)), { delta: 0, faults: [] });

    let seen = 0;
    /** The next CHANGE line after the ones already consumed. */
    const nextChange = async (): Promise<{ inputs: { delta: number; faults: string[] }; cause: string }> => {
      const n = ++seen;
      const changes = (): string[] => child.lines().filter((l) => l.startsWith('CHANGE '));
      const end = Date.now() + 10_000;
      while (changes().length < n) {
        if (Date.now() > end)
          throw new Error(`no change #${n} within 10 s; output:\n${child.lines().join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return JSON.parse(changes()[n - 1]!.slice(7)) as {
        inputs: { delta: number; faults: string[] };
        cause: string;
      };
    };

    await ip('link', 'set', 'trk0', 'down');
    let c = await nextChange();
    assert.deepEqual(c.inputs, { delta: -30, faults: [] });
    assert.match(c.cause, /interface trk0 up -> down \(weight -30/);

    // Administratively up but no carrier (peer down): not IFF_RUNNING, so down for keepalived too.
    await ip('link', 'set', 'trk1p', 'down');
    c = await nextChange();
    assert.deepEqual(c.inputs, { delta: -30, faults: ['interface trk1 down'] });

    // The instance's own interface is tracked without being listed.
    await ip('link', 'set', 'eth0', 'down');
    c = await nextChange();
    assert.deepEqual(c.inputs, {
      delta: -30,
      faults: ['interface eth0 (the instance interface) down', 'interface trk1 down'],
    });

    await ip('link', 'set', 'eth0', 'up');
    await nextChange();
    await ip('link', 'set', 'trk1p', 'up');
    await nextChange();
    await ip('link', 'set', 'trk0', 'up');
    c = await nextChange();
    assert.deepEqual(c.inputs, { delta: 0, faults: [] });

    await ip('link', 'del', 'trk1');
    c = await nextChange();
    assert.deepEqual(c.inputs, { delta: 0, faults: ['interface trk1 down'] });
  },
);
