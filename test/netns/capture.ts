/**
 * tcpdump inside a lab namespace, and a decoder for what the VRRP tests look at. The decoder is
 * written independently of floatip's codec on purpose: a test must not judge floatip's packets
 * with floatip's own code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab, LabNode, LabProcess } from './harness.js';
import { readPcap, type PcapRecord } from '../support/pcap.js';

export const VRRP_FILTER = 'ip proto 112 or ip6 proto 112 or arp or icmp6';

export interface VrrpInfo {
  version: number;
  type: number;
  vrid: number;
  priority: number;
  count: number;
  /** v2: auth type byte; v3: undefined. */
  authType?: number;
  /** v2: the 8 auth bytes. */
  authData?: Buffer;
  /** v2: seconds; v3: centiseconds. */
  advertInt: number;
  /** Advert interval in seconds, whichever the version. */
  intervalSec: number;
  checksum: number;
  /** Checked against the packet's real IP destination (v3) or without pseudo-header (v2). */
  checksumOk: boolean;
  /** v3 over IPv4 only: whether the checksum would verify with 224.0.0.18 as pseudo-header dst. */
  checksumOkWithMcastDst?: boolean;
  addresses: string[];
}

export interface Packet {
  tsMicros: number;
  /** Seconds (float) since the epoch, for arithmetic on intervals. */
  t: number;
  frame: Buffer;
  ethSrc: string;
  ethDst: string;
  ethType: number;
  /** 4 or 6 for IP frames. */
  ipVersion?: 4 | 6;
  src?: string;
  dst?: string;
  ttl?: number;
  tos?: number;
  ipId?: number;
  proto?: number;
  vrrp?: VrrpInfo;
  arp?: { op: number; senderMac: string; senderIp: string; targetMac: string; targetIp: string };
  icmp6Type?: number;
}

export interface Capture {
  file: string;
  proc: LabProcess;
  /** Stop tcpdump (flushing the file) and decode everything it wrote. */
  stop(): Promise<Packet[]>;
  /** Decode what has been written so far, without stopping (-U writes packet by packet). */
  packets(): Promise<Packet[]>;
}

/** Start tcpdump on eth0 of `node` and return once it is listening. */
export async function startCapture(
  lab: Lab,
  node: LabNode,
  opts: { filter?: string; dir?: string } = {},
): Promise<Capture> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), `${lab.id}-cap-`));
  const file = join(dir, `${node.name}.pcap`);
  // --immediate-mode: without it libpcap hands packets over in blocks up to 1 s late.
  // -Z root: Debian's tcpdump otherwise drops to the tcpdump user and cannot write under mkdtemp.
  const proc = lab.spawn(
    node.ns,
    [
      'tcpdump',
      '-i',
      node.ifname,
      '-n',
      '-U',
      '--immediate-mode',
      '-Z',
      'root',
      '-w',
      file,
      opts.filter ?? VRRP_FILTER,
    ],
    { label: `tcpdump@${node.name}` },
  );
  await proc.waitForLine(/listening on/, 5000);
  return {
    file,
    proc,
    async stop() {
      // SIGINT makes tcpdump flush and close the savefile cleanly.
      proc.signal('SIGINT');
      const timer = setTimeout(() => proc.signal('SIGKILL'), 3000);
      await proc.exited;
      clearTimeout(timer);
      return decodeAll(readPcap(file));
    },
    async packets() {
      return decodeAll(await readLivePcap(file));
    },
  };
}

/** Remove a capture's directory (keep it when a test fails, for a look with tcpdump -r). */
export function removeCaptureDir(c: Capture): void {
  rmSync(join(c.file, '..'), { recursive: true, force: true });
}

/**
 * Read a capture that tcpdump may still be writing: a read can catch the last record half
 * written, which the shared reader rightly rejects, so retry briefly.
 */
export async function readLivePcap(path: string): Promise<PcapRecord[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return readPcap(path);
    } catch (err) {
      if (attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function decodeAll(recs: PcapRecord[]): Packet[] {
  return recs.map((r) => decodeFrame(r.frame, r.tsMicros));
}

const mac = (b: Buffer, o: number): string =>
  [...b.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
const ip4 = (b: Buffer, o: number): string => [...b.subarray(o, o + 4)].join('.');

function ip6(b: Buffer, o: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(o + i * 2).toString(16));
  // Compress the longest run of zero groups, as inet_ntop does.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** One's-complement sum folded to 16 bits, complemented: 0 means "checksum verifies". */
export function inetChecksum(...parts: Buffer[]): number {
  let sum = 0;
  for (const p of parts) {
    for (let i = 0; i + 1 < p.length; i += 2) sum += p.readUInt16BE(i);
    if (p.length % 2) sum += p[p.length - 1]! << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function decodeFrame(frame: Buffer, tsMicros = 0): Packet {
  const p: Packet = {
    tsMicros,
    t: tsMicros / 1e6,
    frame,
    ethDst: frame.length >= 6 ? mac(frame, 0) : '',
    ethSrc: frame.length >= 12 ? mac(frame, 6) : '',
    ethType: frame.length >= 14 ? frame.readUInt16BE(12) : 0,
  };
  const l3 = frame.subarray(14);
  if (p.ethType === 0x0806 && l3.length >= 28) {
    p.arp = {
      op: l3.readUInt16BE(6),
      senderMac: mac(l3, 8),
      senderIp: ip4(l3, 14),
      targetMac: mac(l3, 18),
      targetIp: ip4(l3, 24),
    };
  } else if (p.ethType === 0x0800 && l3.length >= 20) {
    const ihl = (l3[0]! & 0x0f) * 4;
    const total = l3.readUInt16BE(2);
    p.ipVersion = 4;
    p.tos = l3[1]!;
    p.ipId = l3.readUInt16BE(4);
    p.ttl = l3[8]!;
    p.proto = l3[9]!;
    p.src = ip4(l3, 12);
    p.dst = ip4(l3, 16);
    if (p.proto === 112) {
      const payload = l3.subarray(ihl, Math.min(total, l3.length));
      const pseudo = (dst: Buffer): Buffer => {
        const ph = Buffer.alloc(12);
        l3.copy(ph, 0, 12, 16);
        dst.copy(ph, 4);
        ph[9] = 112;
        ph.writeUInt16BE(payload.length, 10);
        return ph;
      };
      p.vrrp = decodeVrrp(payload, 4, pseudo(l3.subarray(16, 20)), pseudo(Buffer.from([224, 0, 0, 18])));
    }
  } else if (p.ethType === 0x86dd && l3.length >= 40) {
    p.ipVersion = 6;
    p.tos = ((l3.readUInt16BE(0) >> 4) & 0xff) >>> 0;
    p.proto = l3[6]!;
    p.ttl = l3[7]!;
    p.src = ip6(l3, 8);
    p.dst = ip6(l3, 24);
    const payload = l3.subarray(40, 40 + l3.readUInt16BE(4));
    if (p.proto === 112) {
      const ph = Buffer.alloc(40);
      l3.copy(ph, 0, 8, 40);
      ph.writeUInt32BE(payload.length, 32);
      ph[39] = 112;
      p.vrrp = decodeVrrp(payload, 6, ph);
    } else if (p.proto === 58 && payload.length >= 1) {
      p.icmp6Type = payload[0]!;
    }
  }
  return p;
}

function decodeVrrp(b: Buffer, family: 4 | 6, pseudo: Buffer, mcastPseudo?: Buffer): VrrpInfo | undefined {
  if (b.length < 8) return undefined;
  const version = b[0]! >> 4;
  const count = b[3]!;
  const addrLen = family === 4 ? 4 : 16;
  const addresses: string[] = [];
  for (let i = 0; i < count && 8 + (i + 1) * addrLen <= b.length; i++) {
    addresses.push(family === 4 ? ip4(b, 8 + i * addrLen) : ip6(b, 8 + i * addrLen));
  }
  const base = {
    version,
    type: b[0]! & 0x0f,
    vrid: b[1]!,
    priority: b[2]!,
    count,
    checksum: b.readUInt16BE(6),
    addresses,
  };
  if (version === 2) {
    const end = 8 + count * addrLen;
    return {
      ...base,
      authType: b[4]!,
      authData: Buffer.from(b.subarray(end, end + 8)),
      advertInt: b[5]!,
      intervalSec: b[5]!,
      checksumOk: inetChecksum(b.subarray(0, end + 8)) === 0,
    };
  }
  const advertInt = b.readUInt16BE(4) & 0x0fff;
  const info: VrrpInfo = {
    ...base,
    advertInt,
    intervalSec: advertInt / 100,
    checksumOk: inetChecksum(pseudo, b) === 0,
  };
  if (mcastPseudo) info.checksumOkWithMcastDst = inetChecksum(mcastPseudo, b) === 0;
  return info;
}

/** VRRP adverts, optionally only those from one source address and/or for one VRID. */
export function adverts(
  packets: Packet[],
  f: { src?: string; vrid?: number } = {},
): (Packet & { vrrp: VrrpInfo })[] {
  return packets.filter(
    (p): p is Packet & { vrrp: VrrpInfo } =>
      p.vrrp !== undefined &&
      (f.src === undefined || p.src === f.src) &&
      (f.vrid === undefined || p.vrrp.vrid === f.vrid),
  );
}

export interface Takeover {
  /** Timestamp (s) of the fault as the wire saw it: the old master's priority-0 advert (graceful) or its last advert (hard). */
  faultT: number;
  /** Timestamp (s) of the new master's first advert after the fault. */
  firstT: number;
  delay: number;
}

/**
 * Takeover time from a capture. `since` (epoch seconds, taken just before the fault was
 * injected) keeps earlier elections out. Graceful: from the old master's first priority-0
 * advert at/after `since`. Hard: from the old master's last advert before the new master's first.
 */
export function measureTakeover(
  packets: Packet[],
  o: { from: string; to: string; since: number; kind: 'graceful' | 'hard'; vrid?: number },
): Takeover {
  const ads = adverts(packets, o.vrid === undefined ? {} : { vrid: o.vrid });
  const describe = (): string =>
    ads
      .filter((p) => p.t >= o.since - 3)
      .map((p) => `${p.t.toFixed(3)} ${p.src}→${p.dst} prio ${p.vrrp.priority}`)
      .join('\n');
  let faultT: number | undefined;
  if (o.kind === 'graceful') {
    faultT = ads.find((p) => p.src === o.from && p.t >= o.since && p.vrrp.priority === 0)?.t;
    if (faultT === undefined)
      throw new Error(`capture: no priority-0 advert from ${o.from} after the stop; adverts:\n${describe()}`);
  }
  const after = faultT ?? o.since;
  const first = ads.find((p) => p.src === o.to && p.t >= after && p.vrrp.priority > 0);
  if (!first) throw new Error(`capture: no advert from ${o.to} after the fault; adverts:\n${describe()}`);
  if (o.kind === 'hard') {
    faultT = ads.filter((p) => p.src === o.from && p.t < first.t).pop()?.t;
    if (faultT === undefined)
      throw new Error(`capture: no advert from ${o.from} before ${o.to} took over; adverts:\n${describe()}`);
  }
  return { faultT: faultT!, firstT: first.t, delay: first.t - faultT! };
}
