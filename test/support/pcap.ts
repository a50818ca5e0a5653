/**
 * A tiny reader for classic pcap files with Ethernet frames (what `tcpdump -i eth0 -w FILE`
 * writes), plus helpers that pull out IPv4 / IPv6 packets of one protocol and ARP frames.
 * Format: a 24-byte global header (magic, version, thiszone, sigfigs, snaplen, linktype), then per
 * packet a 16-byte record header (ts_sec, ts_usec|ts_nsec, incl_len, orig_len) and incl_len bytes.
 * Both byte orders and the nanosecond variant are read; pcapng and 802.1Q tags are not.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToIp } from '../../src/vrrp/addr.js';
import { decodeIpv4Packet, type Ipv4Header } from '../../src/vrrp/ipv4-header.js';

/**
 * Where the shared keepalived 2.2.7 captures are: $FLOATIP_SHARED_FIXTURES, else shared/ beside the
 * repository (how CI lays it out), else /work/shared (a developer tree).
 */
export const KEEPALIVED_FIXTURES: string = (() => {
  const env = process.env.FLOATIP_SHARED_FIXTURES;
  if (env) return env;
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = resolve(here, '..', '..', '..', 'shared', 'fixtures', 'keepalived-2.2.7');
  return existsSync(join(beside, 'cap_v2.pcap')) ? beside : '/work/shared/fixtures/keepalived-2.2.7';
})();

export interface PcapRecord {
  /** Capture time in microseconds since the epoch. */
  tsMicros: number;
  /** The Ethernet frame as captured (incl_len bytes). */
  frame: Buffer;
}

const LINKTYPE_ETHERNET = 1;
const ETH_HEADER_LEN = 14;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_ARP = 0x0806;
const ETHERTYPE_IPV6 = 0x86dd;

export function readPcap(path: string): PcapRecord[] {
  return parsePcap(readFileSync(path), path);
}

/** Same as readPcap for bytes already in memory; `name` only appears in error messages. */
export function parsePcap(buf: Buffer, name = 'pcap data'): PcapRecord[] {
  if (buf.length < 24) throw new Error(`${name}: ${buf.length} bytes is too short for a pcap global header`);
  const magicLE = buf.readUInt32LE(0);
  let le: boolean;
  let nanos: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) {
    le = true;
    nanos = magicLE === 0xa1b23c4d;
  } else {
    const magicBE = buf.readUInt32BE(0);
    if (magicBE !== 0xa1b2c3d4 && magicBE !== 0xa1b23c4d) {
      throw new Error(
        `${name}: not a classic pcap file (magic 0x${magicLE.toString(16)}); pcapng is not supported`,
      );
    }
    le = false;
    nanos = magicBE === 0xa1b23c4d;
  }
  const u32 = (off: number): number => (le ? buf.readUInt32LE(off) : buf.readUInt32BE(off));
  const linktype = u32(20) & 0x0fffffff; // the top bits may carry FCS flags
  if (linktype !== LINKTYPE_ETHERNET) {
    throw new Error(
      `${name}: link type ${linktype}, only Ethernet (1) is supported; capture with -i IFNAME, not -i any`,
    );
  }
  const out: PcapRecord[] = [];
  let off = 24;
  while (off < buf.length) {
    if (off + 16 > buf.length) throw new Error(`${name}: truncated record header at byte ${off}`);
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    off += 16;
    if (off + incl > buf.length)
      throw new Error(`${name}: record at byte ${off - 16} runs past the end of the file`);
    out.push({
      tsMicros: sec * 1_000_000 + (nanos ? Math.floor(frac / 1000) : frac),
      frame: buf.subarray(off, off + incl),
    });
    off += incl;
  }
  return out;
}

function macText(b: Buffer, off: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push((b[off + i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}

export interface CapturedIpv4 {
  /** Position of the frame in the capture (0-based), to relate packets of different kinds. */
  index: number;
  tsMicros: number;
  srcMac: string;
  dstMac: string;
  /** The whole IPv4 packet, with any Ethernet padding after the IPv4 total length removed. */
  packet: Buffer;
  header: Ipv4Header;
  /** The bytes after the IPv4 header (the VRRP packet for protocol 112). */
  payload: Buffer;
}

/**
 * The IPv4 packets of one IP protocol (112 for VRRP), in capture order. Frames shorter than
 * their IPv4 total length (snaplen-truncated) are skipped.
 */
export function ipv4Payloads(records: PcapRecord[], protocol: number): CapturedIpv4[] {
  const out: CapturedIpv4[] = [];
  records.forEach((r, index) => {
    const f = r.frame;
    if (f.length < ETH_HEADER_LEN + 20 || f.readUInt16BE(12) !== ETHERTYPE_IPV4) return;
    const ip = f.subarray(ETH_HEADER_LEN);
    // Ethernet pads frames to 60 bytes, so a short packet (a v3 advert with one address is 32
    // bytes) arrives with trailing zeros that are not part of it.
    const total = ip.readUInt16BE(2);
    if (total > ip.length) return;
    const packet = ip.subarray(0, total);
    const d = decodeIpv4Packet(packet);
    if (!d.ok || d.header.protocol !== protocol) return;
    out.push({
      index,
      tsMicros: r.tsMicros,
      srcMac: macText(f, 6),
      dstMac: macText(f, 0),
      packet,
      header: d.header,
      payload: d.payload,
    });
  });
  return out;
}

export interface CapturedIpv6 {
  index: number;
  tsMicros: number;
  srcMac: string;
  dstMac: string;
  src: string;
  dst: string;
  hopLimit: number;
  /** The bytes after the fixed 40-byte IPv6 header. */
  payload: Buffer;
}

/**
 * The IPv6 packets whose fixed header's next header is `nextHeader` (112 for VRRP, 58 for ICMPv6).
 * Packets with extension headers before it are not followed.
 */
export function ipv6Payloads(records: PcapRecord[], nextHeader: number): CapturedIpv6[] {
  const out: CapturedIpv6[] = [];
  records.forEach((r, index) => {
    const f = r.frame;
    if (f.length < ETH_HEADER_LEN + 40 || f.readUInt16BE(12) !== ETHERTYPE_IPV6) return;
    const ip = f.subarray(ETH_HEADER_LEN);
    if ((ip[0] ?? 0) >> 4 !== 6 || ip[6] !== nextHeader) return;
    const payloadLen = ip.readUInt16BE(4);
    if (40 + payloadLen > ip.length) return;
    out.push({
      index,
      tsMicros: r.tsMicros,
      srcMac: macText(f, 6),
      dstMac: macText(f, 0),
      src: bytesToIp(ip.subarray(8, 24), 'ipv6'),
      dst: bytesToIp(ip.subarray(24, 40), 'ipv6'),
      hopLimit: ip[7] ?? 0,
      payload: ip.subarray(40, 40 + payloadLen),
    });
  });
  return out;
}

export interface CapturedArp {
  index: number;
  tsMicros: number;
  /** Ethernet header addresses. */
  srcMac: string;
  dstMac: string;
  /** 1 = request, 2 = reply. */
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

/** ARP frames for IPv4 over Ethernet (GARP: op 1, senderIp === targetIp, broadcast target MAC). */
export function arpFrames(records: PcapRecord[]): CapturedArp[] {
  const out: CapturedArp[] = [];
  records.forEach((r, index) => {
    const f = r.frame;
    if (f.length < ETH_HEADER_LEN + 28 || f.readUInt16BE(12) !== ETHERTYPE_ARP) return;
    const a = f.subarray(ETH_HEADER_LEN);
    // htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4: anything else is not ARP for IPv4.
    if (a.readUInt16BE(0) !== 1 || a.readUInt16BE(2) !== 0x0800 || a[4] !== 6 || a[5] !== 4) return;
    out.push({
      index,
      tsMicros: r.tsMicros,
      srcMac: macText(f, 6),
      dstMac: macText(f, 0),
      op: a.readUInt16BE(6),
      senderMac: macText(a, 8),
      senderIp: bytesToIp(a.subarray(14, 18), 'ipv4'),
      targetMac: macText(a, 18),
      targetIp: bytesToIp(a.subarray(24, 28), 'ipv4'),
    });
  });
  return out;
}
