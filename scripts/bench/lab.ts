/**
 * The benchmark's lab: a floatip pair (fa, fb), a keepalived pair (ka, kb) and a client (cl) on
 * one bridge, with a passive observer (tcpdump on the bridge, in the switch namespace) that
 * timestamps every VRRP advert, ARP frame and TCP handshake from one clock. Each pair has its
 * own VIP with a TCP service bound to it on both nodes, and the client keeps connecting to both.
 * A sixth node (ec2) hosts the EC2 emulator of the cloud part; the observer also keeps every TCP
 * segment to and from it, so API requests are timestamped on the same clock as the adverts.
 */
import { fileURLToPath } from 'node:url';
import { removeCaptureDir, startCapture, type Capture } from '../../test/netns/capture.js';
import { createLab, LAB_BRIDGE, type Lab, type LabNode, type LabProcess } from '../../test/netns/harness.js';
import { buildFloatip, type FloatipBuild } from './build.js';
import type { Impl } from './daemons.js';
import { PcapFollower } from './pcap-follow.js';

export const SERVICE_PORT = 8080;
/** What the observer keeps: adverts, ARP, TCP segments with SYN set (SYN and SYN-ACK), and all of the API traffic. */
const observerFilter = (apiHost: string): string =>
  `ip proto 112 or arp or (tcp and tcp[tcpflags] & tcp-syn != 0) or (tcp and host ${apiHost})`;

export interface PairSite {
  impl: Impl;
  nodes: [LabNode, LabNode];
  vip: string;
}

export interface BenchLab {
  lab: Lab;
  floatip: FloatipBuild;
  sites: Record<Impl, PairSite>;
  client: LabProcess;
  clientNode: LabNode;
  /** Where the cloud part runs its EC2 emulator (nothing else runs there). */
  cloudNode: LabNode;
  capture: Capture;
  observer: PcapFollower;
  /** Client connection rate: fast while a trial runs, idle otherwise. */
  clientFast(on: boolean): void;
  /** Forget the client's ARP entry for a VIP, so the next attempt asks who holds it now. */
  flushClientArp(vip: string): Promise<void>;
  close(): Promise<void>;
}

const SCRIPT_DIR = fileURLToPath(new URL('./', import.meta.url));

export function tsxArgv(script: string, ...args: string[]): string[] {
  let loader = 'tsx';
  try {
    loader = import.meta.resolve('tsx');
  } catch {
    // fall back to the bare name, resolved from the repo root (the harness's cwd)
  }
  return [process.execPath, '--import', loader, `${SCRIPT_DIR}${script}`, ...args];
}

/** `extraNodes`: more nodes on the bridge, with nothing started on them (the cloud part's pairs). */
export async function createBenchLab(extraNodes: readonly string[] = []): Promise<BenchLab> {
  const floatip = buildFloatip();
  let lab: Lab | undefined;
  try {
    lab = await createLab(['fa', 'fb', 'ka', 'kb', 'cl', 'ec2', ...extraNodes], { ipv6: false });
    const n = lab.nodes as Record<'fa' | 'fb' | 'ka' | 'kb' | 'cl' | 'ec2', LabNode>;
    const sites: Record<Impl, PairSite> = {
      floatip: { impl: 'floatip', nodes: [n.fa, n.fb], vip: '10.99.1.10' },
      keepalived: { impl: 'keepalived', nodes: [n.ka, n.kb], vip: '10.99.1.20' },
    };
    const services: Promise<string>[] = [];
    for (const site of Object.values(sites)) {
      for (const node of site.nodes) {
        await lab.exec(node.ns, ['sysctl', '-qw', 'net.ipv4.ip_nonlocal_bind=1']);
        const svc = lab.spawn(node.ns, tsxArgv('tcp-service.ts', site.vip, String(SERVICE_PORT)), {
          label: `service@${node.name}`,
        });
        services.push(svc.waitForLine(/^listening on/, 20000));
      }
    }
    await Promise.all(services);
    const sw: LabNode = {
      name: 'switch',
      ns: lab.switchNs,
      ifname: LAB_BRIDGE,
      addr4: '',
      addr6: '',
      mac: '',
    };
    const capture = await startCapture(lab, sw, { filter: observerFilter(n.ec2.addr4) });
    const client = lab.spawn(
      n.cl.ns,
      tsxArgv('tcp-client.ts', ...Object.values(sites).map((s) => `${s.vip}:${SERVICE_PORT}`)),
      { label: 'client' },
    );
    await client.waitForLine(/^client ready/, 20000);
    const theLab = lab;
    return {
      lab,
      floatip,
      sites,
      client,
      clientNode: n.cl,
      cloudNode: n.ec2,
      capture,
      observer: new PcapFollower(capture.file),
      clientFast: (on) => client.signal(on ? 'SIGUSR1' : 'SIGUSR2'),
      async flushClientArp(vip) {
        await theLab.exec(n.cl.ns, ['ip', 'neigh', 'flush', 'to', vip], { allowFail: true });
      },
      async close() {
        // Not capture.stop(): that decodes the whole file, which nobody reads any more.
        await capture.proc.stop(2000);
        removeCaptureDir(capture);
        await theLab.cleanup();
        floatip.remove();
      },
    };
  } catch (err) {
    await lab?.cleanup();
    floatip.remove();
    throw err;
  }
}
