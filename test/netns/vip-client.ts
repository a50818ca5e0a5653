/**
 * What an operator checks after a failover: a client on the segment reaches the VIP, the node
 * that answers is the new master, and the client's neighbour entry points at that master's MAC.
 * A tiny TCP service on every node answers with the node's name; it binds the VIP before the node
 * holds it (`ip_nonlocal_bind`), as HAProxy setups do.
 */
import type { Lab, LabNode, LabProcess } from './harness.js';

const SERVER = `
const net = require('node:net');
const [vip, port, name] = process.argv.slice(1);
net.createServer((s) => s.end(name + '\\n')).listen(Number(port), vip, () => console.log('listening'));
`;

// Connects every 20 ms with a 200 ms timeout and prints one JSON line per attempt.
const PROBER = `
const net = require('node:net');
const [vip, port] = process.argv.slice(1);
function attempt() {
  const t = Date.now();
  let data = '';
  let done = false;
  const s = net.connect({ host: vip, port: Number(port), timeout: 200 });
  const finish = (ok) => {
    if (done) return;
    done = true;
    s.destroy();
    console.log(JSON.stringify(ok ? { t, ok, who: data.trim() } : { t, ok }));
    setTimeout(attempt, 20);
  };
  s.on('data', (d) => (data += d));
  s.on('end', () => finish(true));
  s.on('timeout', () => finish(false));
  s.on('error', () => finish(false));
}
attempt();
`;

export const VIP_PORT = 8080;

export async function startVipService(lab: Lab, node: LabNode, vip: string): Promise<LabProcess> {
  await lab.exec(node.ns, ['sysctl', '-q', '-w', 'net.ipv4.ip_nonlocal_bind=1']);
  const p = lab.spawn(node.ns, [process.execPath, '-e', SERVER, vip, String(VIP_PORT), node.name], {
    label: `svc-${node.name}`,
  });
  await p.waitForLine(/listening/, 10_000);
  return p;
}

export interface Probe {
  proc: LabProcess;
  /** First successful answer from `who` at or after `sinceMs` (epoch ms). */
  firstAnswer(who: string, sinceMs: number, timeoutMs: number): Promise<number>;
}

export function startProber(lab: Lab, client: LabNode, vip: string): Probe {
  const proc = lab.spawn(client.ns, [process.execPath, '-e', PROBER, vip, String(VIP_PORT)], { label: 'prober' });
  return {
    proc,
    async firstAnswer(who, sinceMs, timeoutMs) {
      const line = await proc.waitForLine((l) => {
        if (!l.startsWith('{')) return false;
        const o = JSON.parse(l) as { t: number; ok: boolean; who?: string };
        return o.ok && o.who === who && o.t >= sinceMs;
      }, timeoutMs);
      const o = JSON.parse(line) as { t: number };
      return o.t;
    },
  };
}

/** The client's neighbour entry for the VIP (the MAC it sends to), or null. */
export async function neighbourMac(lab: Lab, client: LabNode, vip: string): Promise<string | null> {
  const r = await lab.exec(client.ns, ['ip', '-j', 'neigh', 'show', vip, 'dev', client.ifname]);
  const entries = JSON.parse(r.stdout || '[]') as Array<{ lladdr?: string }>;
  return entries[0]?.lladdr ?? null;
}
