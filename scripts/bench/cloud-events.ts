/**
 * What the cloud benchmark reads back: the emulator's events file (answered calls and state
 * commits, see cloud-emulator.ts) and the API requests in the observer's capture.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { BenchPacket } from './pcap-follow.js';

export interface CallEvent {
  action: string;
  /** The access key id the request was signed with: one per node, so calls map to nodes. */
  key: string | null;
  /** Receipt at the emulator, epoch ms. */
  arrival: number;
  durationMs: number;
  status: number;
  code?: string;
}

export interface CommitEvent {
  /** Epoch ms (Date.now in the emulator process, the capture's wall clock). */
  t: number;
  action: string;
  /** Targets whose holder ENI changed with this commit (null: nobody). */
  holders: Record<string, string | null>;
}

export interface EventsMark {
  calls: number;
  commits: number;
  holders: Map<string, string | null>;
}

/** Follows the events file the emulator appends to, like PcapFollower follows tcpdump's file. */
export class EmulatorEvents {
  readonly calls: CallEvent[] = [];
  readonly commits: CommitEvent[] = [];
  /** The emulator's answer latency as it last reported it. */
  latencyMs: number | undefined;
  private readonly holders = new Map<string, string | null>();
  private offset = 0;
  private partial = '';

  constructor(readonly file: string) {}

  poll(): void {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return; // nothing written yet
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= this.offset) return;
      const buf = Buffer.alloc(size - this.offset);
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      const lines = (this.partial + buf.subarray(0, n).toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) if (line) this.take(JSON.parse(line) as { ev: string });
    } finally {
      closeSync(fd);
    }
  }

  private take(e: { ev: string }): void {
    if (e.ev === 'call') this.calls.push(e as unknown as CallEvent);
    else if (e.ev === 'latency') this.latencyMs = (e as unknown as { ms: number }).ms;
    else if (e.ev === 'commit') {
      const c = e as unknown as CommitEvent;
      this.commits.push(c);
      for (const [k, v] of Object.entries(c.holders)) this.holders.set(k, v);
    }
  }

  /** Everything so far, to measure from: later questions look only at what came after. */
  mark(): EventsMark {
    this.poll();
    return { calls: this.calls.length, commits: this.commits.length, holders: new Map(this.holders) };
  }

  /** Time of the first commit after `mark` that left every target on `eni`, if any yet. */
  allOnSince(mark: EventsMark, targets: readonly string[], eni: string): number | undefined {
    this.poll();
    const h = new Map(mark.holders);
    for (let i = mark.commits; i < this.commits.length; i++) {
      const c = this.commits[i]!;
      for (const [k, v] of Object.entries(c.holders)) h.set(k, v);
      if (targets.every((t) => h.get(t) === eni)) return c.t;
    }
    return undefined;
  }

  callsSince(mark: EventsMark): CallEvent[] {
    this.poll();
    return this.calls.slice(mark.calls);
  }
}

export const MUTATING_ACTIONS = new Set([
  'AssociateAddress',
  'DisassociateAddress',
  'AssignPrivateIpAddresses',
  'UnassignPrivateIpAddresses',
  'CreateRoute',
  'ReplaceRoute',
  'DeleteRoute',
]);

export interface WireRequest {
  /** Capture time (epoch s) of the segment that carried the request line. */
  t: number;
  action: string;
}

/**
 * HTTP requests from `client` to `server` in the capture, in the order their first segment was
 * seen. The SDK sends each request as headers then a form body with `Action=…`; a request may span
 * segments, so payloads are joined per connection until the next request line.
 */
export function wireRequests(
  packets: readonly BenchPacket[],
  client: string,
  server: string,
  since: number,
): WireRequest[] {
  const open = new Map<number, { t: number; text: string }>();
  const all: { t: number; text: string }[] = [];
  for (const p of packets) {
    if (!p.tcp || p.src !== client || p.dst !== server || p.t < since || p.tcp.payload.length === 0) continue;
    const text = p.tcp.payload.toString('latin1');
    const cur = open.get(p.tcp.srcPort);
    if (/^(POST|GET|PUT) /.test(text) || !cur) {
      const req = { t: p.t, text };
      open.set(p.tcp.srcPort, req);
      all.push(req);
    } else {
      cur.text += text;
    }
  }
  return all.map((r) => ({ t: r.t, action: /(?:^|[\s&?])Action=([A-Za-z]+)/.exec(r.text)?.[1] ?? '?' }));
}
