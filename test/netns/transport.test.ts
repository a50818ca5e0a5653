/**
 * The VRRP transport on real kernels: node a sends with floatip's transport (or crafts packets it
 * would never send), node b runs transport listeners that print what they deliver, and tcpdump in
 * b records what was really on the wire.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeAdvert, encodeAdvert, VRRP_MCAST_V4, VRRP_MCAST_V6 } from '../../src/vrrp/advert.js';
import type { TransportOptions } from '../../src/transport/types.js';
import { ipv4Payloads, ipv6Payloads, readPcap } from '../support/pcap.js';
import { createLab, requireNetns, type Lab, type LabNode, type LabProcess } from './harness.js';
import type { CraftSpec } from './fixtures/transport-peer.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/transport-peer.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const WAIT_MS = 15_000;

function peerArgv(...args: string[]): string[] {
  return [process.execPath, '--import', TSX, FIXTURE, ...args];
}

interface PeerEvent {
  event: string;
  [k: string]: unknown;
}

function parseEvents(lines: string[]): PeerEvent[] {
  const out: PeerEvent[] = [];
  for (const l of lines) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as PeerEvent);
    } catch {
      // a partial line; the next read has it whole
    }
  }
  return out;
}

interface Delivered {
  src: string;
  dst: string;
  ttl: number;
  ifname: string;
  family: string;
  priority: number;
}

function packets(p: LabProcess): Delivered[] {
  return parseEvents(p.lines())
    .filter((e) => e.event === 'packet')
    .map((e) => {
      const payload = Buffer.from(e.payload as string, 'hex');
      return {
        src: e.src as string,
        dst: e.dst as string,
        ttl: e.ttl as number,
        ifname: e.ifname as string,
        family: e.family as string,
        // Byte 2 of a VRRP header is the priority; each test packet has its own.
        priority: payload[2] ?? -1,
      };
    });
}

function rejects(p: LabProcess): PeerEvent[] {
  return parseEvents(p.lines()).filter((e) => e.event === 'reject');
}

function errors(p: LabProcess): PeerEvent[] {
  return parseEvents(p.lines()).filter((e) => e.event === 'error' || e.event === 'fatal');
}

function advert(priority: number, family: 'ipv4' | 'ipv6', src: string, dst: string): string {
  return encodeAdvert(
    {
      version: 3,
      type: 1,
      vrid: 51,
      priority,
      intervalCs: 100,
      addresses: [family === 'ipv4' ? '10.99.0.100' : 'fd99::100'],
      authType: 0,
      authData: Buffer.alloc(0),
    },
    { family, src, dst },
  ).toString('hex');
}

async function listen(lab: Lab, node: LabNode, opts: TransportOptions, label: string): Promise<LabProcess> {
  const p = lab.spawn(node.ns, peerArgv('listen', JSON.stringify(opts)), { label });
  await p.waitForLine(/"event":"(ready|fatal)"/, WAIT_MS);
  assert.deepEqual(errors(p), [], `${label} failed to open: ${p.lines().join('\n')}`);
  return p;
}

async function sendFrom(
  lab: Lab,
  node: LabNode,
  opts: TransportOptions,
  sends: { dst: string; payloadHex: string }[],
): Promise<void> {
  const r = await lab.exec(node.ns, peerArgv('send', JSON.stringify(opts), JSON.stringify(sends)), {
    timeoutMs: WAIT_MS,
    allowFail: true,
  });
  assert.equal(r.code, 0, `sender in ${node.name} failed:\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout, new RegExp(`"event":"sent","count":${sends.length}`));
}

async function craftFrom(lab: Lab, node: LabNode, spec: CraftSpec): Promise<void> {
  const r = await lab.exec(node.ns, peerArgv('craft', JSON.stringify(spec)), {
    timeoutMs: WAIT_MS,
    allowFail: true,
  });
  assert.equal(r.code, 0, `craft in ${node.name} failed:\n${r.stdout}${r.stderr}`);
}

async function capture(
  lab: Lab,
  node: LabNode,
  dir: string,
  filter: string,
): Promise<{ file: string; p: LabProcess }> {
  const file = join(dir, `${node.name}-${Date.now()}.pcap`);
  // -Z root: Debian's tcpdump otherwise drops to its own user, which cannot write our temp dir.
  // --immediate-mode: without it the kernel hands packets over in blocks, up to a second late.
  const p = lab.spawn(
    node.ns,
    ['tcpdump', '-i', 'eth0', '-n', '-U', '--immediate-mode', '-Z', 'root', '-w', file, filter],
    { label: 'tcpdump' },
  );
  await p.waitForLine(/listening on/, WAIT_MS);
  return { file, p };
}

/** Gives tcpdump a moment to write what the listeners have already seen, then stops it. */
async function stopCapture(p: LabProcess): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
  await p.stop(5000);
}

/** SIGTERM a listener: close() must be quick and the process must then end on its own. */
async function stopListener(p: LabProcess): Promise<void> {
  const t0 = Date.now();
  p.signal('SIGTERM');
  const line = await p.waitForLine(/"event":"closed"/, 5000);
  const ms = (JSON.parse(line) as { ms: number }).ms;
  assert.ok(ms < 1000, `close() took ${ms} ms`);
  const timer = setTimeout(() => p.signal('SIGKILL'), 3000);
  const code = await p.exited;
  clearTimeout(timer);
  assert.equal(code, 0, `${p.label} did not exit by itself after close(): ${p.lines().slice(-5).join('\n')}`);
  // Generous for a loaded CI machine; a receive thread stuck in recvmsg would show here.
  const exitMs = Date.now() - t0;
  assert.ok(exitMs < 2000, `${p.label} took ${exitMs} ms to exit after close()`);
  if (process.env.TRANSPORT_TEST_TIMING) console.log(`${p.label}: exit ${exitMs} ms after SIGTERM`);
}

async function waitForPriority(p: LabProcess, priority: number): Promise<void> {
  await p.waitForLine((l) => {
    if (!l.includes('"event":"packet"')) return false;
    const payload = Buffer.from((JSON.parse(l) as { payload: string }).payload, 'hex');
    return payload[2] === priority;
  }, WAIT_MS);
}

function v4(family: 'ipv4', sourceIp: string, unicastPeers: string[], unicastTtl = 255): TransportOptions {
  return { family, ifname: 'eth0', sourceIp, unicastPeers, unicastTtl };
}

function v6(sourceIp: string, unicastPeers: string[], unicastTtl = 255): TransportOptions {
  return { family: 'ipv6', ifname: 'eth0', sourceIp, unicastPeers, unicastTtl };
}

async function linkLocal(lab: Lab, node: LabNode): Promise<string> {
  const r = await lab.exec(node.ns, peerArgv('info', 'eth0'), { timeoutMs: WAIT_MS });
  const info = JSON.parse(r.stdout.trim()) as { ipv6LinkLocal?: string };
  assert.ok(info.ipv6LinkLocal, `no link-local address on ${node.name}: ${r.stdout}`);
  return info.ipv6LinkLocal;
}

void test(
  'VRRP transport on raw sockets between two namespaces',
  { timeout: 240_000 },
  async (t: TestContext) => {
    if (!requireNetns(t)) return;
    const lab = await createLab(['a', 'b']);
    const dir = mkdtempSync(join(tmpdir(), 'floatip-transport-'));
    t.after(async () => {
      await lab.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });
    const a = lab.nodes.a!;
    const b = lab.nodes.b!;

    await t.test('interfaceInfo reports the kernel facts and names a missing interface', async () => {
      const r = await lab.exec(b.ns, peerArgv('info', 'eth0'), { timeoutMs: WAIT_MS });
      const info = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
      assert.equal(info.name, 'eth0');
      assert.equal(info.mac, b.mac);
      assert.deepEqual(info.ipv4, [b.addr4]);
      assert.ok((info.ipv6 as string[]).includes(b.addr6), r.stdout);
      assert.match(info.ipv6LinkLocal as string, /^fe80::/);
      assert.ok((info.ipv6 as string[]).includes(info.ipv6LinkLocal as string));
      assert.ok(Number.isInteger(info.index) && (info.index as number) > 1);
      assert.equal(info.up, true);

      const missing = await lab.exec(b.ns, peerArgv('info', 'nope0'), { timeoutMs: WAIT_MS });
      assert.match(missing.stdout, /"event":"error".*interface nope0 does not exist/);
    });

    await t.test(
      'IPv4 unicast: delivered with the real TTL, keepalived header, foreign packets dropped',
      async () => {
        await lab.exec(b.ns, ['ip', 'addr', 'add', '10.99.0.20/16', 'dev', 'eth0']);
        const uni = await listen(lab, b, v4('ipv4', b.addr4, [a.addr4]), 'b-unicast');
        const mc = await listen(lab, b, v4('ipv4', b.addr4, []), 'b-multicast');
        const cap = await capture(lab, b, dir, 'ip proto 112 or ip proto 113');

        const toB = (prio: number) => ({ dst: b.addr4, payloadHex: advert(prio, 'ipv4', a.addr4, b.addr4) });
        await sendFrom(lab, a, v4('ipv4', a.addr4, [b.addr4]), [toB(101), toB(102), toB(103)]);
        // Protocol 112 to another address of b: the raw socket sees it, the transport must not deliver.
        await craftFrom(lab, a, {
          family: 'ipv4',
          ifname: 'eth0',
          src: a.addr4,
          dst: '10.99.0.20',
          ttl: 255,
          protocol: 112,
          payloadHex: advert(90, 'ipv4', a.addr4, '10.99.0.20'),
        });
        // Another protocol to b's own address.
        await craftFrom(lab, a, {
          family: 'ipv4',
          ifname: 'eth0',
          src: a.addr4,
          dst: b.addr4,
          ttl: 255,
          protocol: 113,
          payloadHex: advert(91, 'ipv4', a.addr4, b.addr4),
        });
        // unicast_ttl applies to unicast sends, and a unicast receiver accepts any TTL.
        await sendFrom(lab, a, v4('ipv4', a.addr4, [b.addr4], 64), [toB(104)]);
        await waitForPriority(uni, 104);

        assert.deepEqual(
          packets(uni),
          [101, 102, 103, 104].map((priority, i) => ({
            family: 'ipv4',
            src: a.addr4,
            dst: b.addr4,
            ttl: i === 3 ? 64 : 255,
            ifname: 'eth0',
            priority,
          })),
        );
        assert.deepEqual(rejects(uni), []);
        assert.deepEqual(errors(uni), []);
        assert.deepEqual(packets(mc), [], 'a multicast transport must not deliver unicast adverts');

        await stopCapture(cap.p);
        const wire = ipv4Payloads(readPcap(cap.file), 112).filter((p) => p.header.dst === b.addr4);
        assert.equal(wire.length, 4, `captured ${wire.length} VRRP packets to ${b.addr4}`);
        for (const [i, p] of wire.entries()) {
          assert.equal(p.header.tos, 0xc0, 'TOS');
          assert.equal(p.header.ttl, i === 3 ? 64 : 255, 'TTL');
          assert.equal(p.header.flagsFragment, 0, 'no DF, no fragment');
          assert.equal(p.header.src, a.addr4);
          assert.equal(p.header.headerLength, 20);
        }
        // Each sender process has its own transport, so its ids start again at 1.
        assert.deepEqual(
          wire.map((p) => p.header.id),
          [1, 2, 3, 1],
        );
        assert.deepEqual(
          wire.map((p) => p.payload[2]),
          [101, 102, 103, 104],
        );

        await stopListener(uni);
        await stopListener(mc);
        await lab.exec(b.ns, ['ip', 'addr', 'del', '10.99.0.20/16', 'dev', 'eth0']);
      },
    );

    await t.test(
      'IPv4 multicast: TTL 255 always, TTL 1 rejected, own and unicast packets dropped',
      async () => {
        const mc = await listen(lab, b, v4('ipv4', b.addr4, []), 'b-multicast');
        const uni = await listen(lab, b, v4('ipv4', b.addr4, [a.addr4]), 'b-unicast');
        const cap = await capture(lab, b, dir, 'ip proto 112');

        const toGroup = (prio: number) => ({
          dst: VRRP_MCAST_V4,
          payloadHex: advert(prio, 'ipv4', a.addr4, VRRP_MCAST_V4),
        });
        // unicastTtl 7 must not leak into multicast sends.
        await sendFrom(lab, a, v4('ipv4', a.addr4, [], 7), [toGroup(111), toGroup(112), toGroup(113)]);
        await craftFrom(lab, a, {
          family: 'ipv4',
          ifname: 'eth0',
          src: a.addr4,
          dst: VRRP_MCAST_V4,
          ttl: 1,
          protocol: 112,
          payloadHex: advert(114, 'ipv4', a.addr4, VRRP_MCAST_V4),
        });
        // A packet from b's own address, looped back to b: a transport never delivers its own.
        await craftFrom(lab, b, {
          family: 'ipv4',
          ifname: 'eth0',
          src: b.addr4,
          dst: VRRP_MCAST_V4,
          ttl: 255,
          protocol: 112,
          payloadHex: advert(115, 'ipv4', b.addr4, VRRP_MCAST_V4),
          loop: true,
        });
        // Unicast to b: only the unicast transport may deliver it.
        await craftFrom(lab, a, {
          family: 'ipv4',
          ifname: 'eth0',
          src: a.addr4,
          dst: b.addr4,
          ttl: 255,
          protocol: 112,
          payloadHex: advert(117, 'ipv4', a.addr4, b.addr4),
        });
        await sendFrom(lab, a, v4('ipv4', a.addr4, []), [toGroup(116)]);
        await waitForPriority(mc, 116);
        await waitForPriority(uni, 117);

        assert.deepEqual(
          packets(mc),
          [111, 112, 113, 116].map((priority) => ({
            family: 'ipv4',
            src: a.addr4,
            dst: VRRP_MCAST_V4,
            ttl: 255,
            ifname: 'eth0',
            priority,
          })),
        );
        const rj = rejects(mc);
        assert.equal(rj.length, 1, JSON.stringify(rj));
        assert.equal(rj[0]!.reason, 'ip_ttl_err');
        assert.equal(rj[0]!.src, a.addr4);
        assert.match(rj[0]!.detail as string, /TTL 1\b/);
        assert.deepEqual(
          packets(uni).map((p) => p.priority),
          [117],
        );
        assert.deepEqual(errors(mc), []);

        await stopCapture(cap.p);
        const wire = ipv4Payloads(readPcap(cap.file), 112).filter(
          (p) =>
            p.header.src === a.addr4 &&
            p.header.dst === VRRP_MCAST_V4 &&
            p.header.ttl === 255 &&
            p.header.id !== 4242,
        );
        assert.deepEqual(
          wire.map((p) => [p.header.id, p.header.tos, p.header.ttl, p.header.flagsFragment, p.payload[2]]),
          [
            [1, 0xc0, 255, 0, 111],
            [2, 0xc0, 255, 0, 112],
            [3, 0xc0, 255, 0, 113],
            [1, 0xc0, 255, 0, 116],
          ],
        );

        await stopListener(mc);
        await stopListener(uni);
      },
    );

    await t.test('IPv6 multicast: link-local source, hop limit 255, hop limit 1 rejected', async () => {
      const llA = await linkLocal(lab, a);
      const llB = await linkLocal(lab, b);
      const mc = await listen(lab, b, v6(llB, []), 'b-multicast6');
      const uni = await listen(lab, b, v6(b.addr6, [a.addr6]), 'b-unicast6');
      const cap = await capture(lab, b, dir, 'ip6 proto 112');

      const toGroup = (prio: number) => ({
        dst: VRRP_MCAST_V6,
        payloadHex: advert(prio, 'ipv6', llA, VRRP_MCAST_V6),
      });
      await sendFrom(lab, a, v6(llA, [], 9), [toGroup(121), toGroup(122)]);
      await craftFrom(lab, a, {
        family: 'ipv6',
        ifname: 'eth0',
        dst: VRRP_MCAST_V6,
        ttl: 1,
        protocol: 112,
        payloadHex: advert(124, 'ipv6', llA, VRRP_MCAST_V6),
      });
      await sendFrom(lab, a, v6(llA, []), [toGroup(123)]);
      await waitForPriority(mc, 123);

      assert.deepEqual(
        packets(mc),
        [121, 122, 123].map((priority) => ({
          family: 'ipv6',
          src: llA,
          dst: VRRP_MCAST_V6,
          ttl: 255,
          ifname: 'eth0',
          priority,
        })),
      );
      const rj = rejects(mc);
      assert.equal(rj.length, 1, JSON.stringify(rj));
      assert.equal(rj[0]!.reason, 'ip_ttl_err');
      assert.equal(rj[0]!.src, llA);
      assert.match(rj[0]!.detail as string, /hop limit 1\b/);
      assert.deepEqual(packets(uni), [], 'a unicast transport must not deliver multicast adverts');
      assert.deepEqual(errors(mc), []);

      await stopCapture(cap.p);
      const records = readPcap(cap.file);
      const wire = ipv6Payloads(records, 112).filter((p) => p.src === llA && p.hopLimit === 255);
      assert.equal(wire.length, 3);
      for (const p of wire) {
        assert.equal(p.dst, VRRP_MCAST_V6);
        const ip = records[p.index]!.frame.subarray(14);
        assert.equal((((ip[0] ?? 0) & 0x0f) << 4) | ((ip[1] ?? 0) >> 4), 0xc0, 'traffic class');
        // The kernel computed the checksum (IPV6_CHECKSUM); it must verify with the RFC pseudo-header.
        const d = decodeAdvert(p.payload, { family: 'ipv6', src: p.src, dst: p.dst });
        assert.ok(d.ok, JSON.stringify(d));
      }

      await stopListener(mc);
      await stopListener(uni);
    });

    await t.test('IPv6 unicast: unicast_ttl as hop limit, other destinations dropped', async () => {
      await lab.exec(b.ns, ['ip', 'addr', 'add', 'fd99::20/64', 'dev', 'eth0', 'nodad']);
      const llB = await linkLocal(lab, b);
      const uni = await listen(lab, b, v6(b.addr6, [a.addr6]), 'b-unicast6');
      const mc = await listen(lab, b, v6(llB, []), 'b-multicast6');
      const cap = await capture(lab, b, dir, 'ip6 proto 112');

      const toB = (prio: number) => ({ dst: b.addr6, payloadHex: advert(prio, 'ipv6', a.addr6, b.addr6) });
      await sendFrom(lab, a, v6(a.addr6, [b.addr6]), [toB(131), toB(132)]);
      await craftFrom(lab, a, {
        family: 'ipv6',
        ifname: 'eth0',
        dst: 'fd99::20',
        ttl: 255,
        protocol: 112,
        payloadHex: advert(92, 'ipv6', a.addr6, 'fd99::20'),
      });
      await sendFrom(lab, a, v6(a.addr6, [b.addr6], 64), [toB(133)]);
      await waitForPriority(uni, 133);

      assert.deepEqual(
        packets(uni),
        [131, 132, 133].map((priority, i) => ({
          family: 'ipv6',
          src: a.addr6,
          dst: b.addr6,
          ttl: i === 2 ? 64 : 255,
          ifname: 'eth0',
          priority,
        })),
      );
      assert.deepEqual(rejects(uni), []);
      assert.deepEqual(errors(uni), []);
      assert.deepEqual(packets(mc), []);

      await stopCapture(cap.p);
      const wire = ipv6Payloads(readPcap(cap.file), 112).filter((p) => p.dst === b.addr6);
      assert.deepEqual(
        wire.map((p) => [p.src, p.hopLimit, p.payload[2]]),
        [
          [a.addr6, 255, 131],
          [a.addr6, 255, 132],
          [a.addr6, 64, 133],
        ],
      );

      await stopListener(uni);
      await stopListener(mc);
      await lab.exec(b.ns, ['ip', 'addr', 'del', 'fd99::20/64', 'dev', 'eth0']);
    });

    await t.test('open errors name the interface and what to do', async () => {
      const open = async (opts: TransportOptions): Promise<string> => {
        const r = await lab.exec(a.ns, peerArgv('listen', JSON.stringify(opts)), {
          timeoutMs: WAIT_MS,
          allowFail: true,
        });
        assert.equal(r.code, 1, r.stdout + r.stderr);
        return r.stdout;
      };
      assert.match(
        await open({ ...v4('ipv4', a.addr4, []), ifname: 'nope0' }),
        /"event":"fatal".*interface nope0 does not exist/,
      );
      assert.match(
        await open(v6('fd99::77', [b.addr6])),
        /"event":"fatal".*fd99::77 is not an address of eth0; add it to the interface or fix unicast_src_ip/,
      );
    });

    await t.test('without CAP_NET_RAW the error says what to do', async () => {
      const r = await lab.exec(
        a.ns,
        [
          'setpriv',
          '--inh-caps=-all',
          '--bounding-set=-net_raw',
          '--',
          ...peerArgv('listen', JSON.stringify(v4('ipv4', a.addr4, []))),
        ],
        { timeoutMs: WAIT_MS, allowFail: true },
      );
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        /"event":"fatal".*eth0 needs CAP_NET_RAW: run floatip as root or grant it cap_net_raw/,
      );
    });
  },
);
