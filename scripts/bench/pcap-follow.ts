/**
 * Reads a pcap file that tcpdump is still writing, from where the last read stopped. A full
 * benchmark captures for many minutes; re-reading and re-decoding the whole file for every trial
 * (what test/netns/capture.ts's packets() does) would grow quadratically.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { decodeFrame, type Packet } from '../../test/netns/capture.js';

export interface TcpInfo {
  srcPort: number;
  dstPort: number;
  flags: number;
  /** The segment's data (a view into the frame); empty for a bare SYN or ACK. */
  payload: Buffer;
}

export const TCP_SYN = 0x02;
export const TCP_ACK = 0x10;

export type BenchPacket = Packet & { tcp?: TcpInfo };

/** TCP ports and flags of an IPv4 frame, which capture.ts's decoder leaves out. */
export function decodeTcp(p: Packet): TcpInfo | undefined {
  if (p.ipVersion !== 4 || p.proto !== 6) return undefined;
  const l3 = p.frame.subarray(14);
  const ihl = (l3[0]! & 0x0f) * 4;
  if (l3.length < ihl + 14) return undefined;
  const dataOffset = (l3[ihl + 12]! >> 4) * 4;
  // The IP total length, not the frame length: Ethernet pads short frames.
  const end = Math.min(l3.readUInt16BE(2), l3.length);
  return {
    srcPort: l3.readUInt16BE(ihl),
    dstPort: l3.readUInt16BE(ihl + 2),
    flags: l3[ihl + 13]!,
    payload: l3.subarray(Math.min(ihl + dataOffset, end), end),
  };
}

export class PcapFollower {
  private offset = 0;
  private nanos = false;
  private le = true;
  private headerRead = false;
  /** Decoded packets, oldest first; trimmed by `forgetBefore`. */
  private readonly kept: BenchPacket[] = [];

  constructor(readonly file: string) {}

  /** Reads whatever tcpdump has appended since the last call and returns all kept packets. */
  poll(): BenchPacket[] {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return this.kept; // tcpdump has not created it yet
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= this.offset) return this.kept;
      const buf = Buffer.alloc(size - this.offset);
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.consume(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
    return this.kept;
  }

  /** Drops packets older than `t` (epoch seconds), so memory stays bounded over a long run. */
  forgetBefore(t: number): void {
    let i = 0;
    while (i < this.kept.length && this.kept[i]!.t < t) i++;
    if (i > 0) this.kept.splice(0, i);
  }

  private consume(buf: Buffer): void {
    let o = 0;
    if (!this.headerRead) {
      if (buf.length < 24) return;
      const magicLE = buf.readUInt32LE(0);
      const magicBE = buf.readUInt32BE(0);
      if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) {
        this.le = true;
        this.nanos = magicLE === 0xa1b23c4d;
      } else if (magicBE === 0xa1b2c3d4 || magicBE === 0xa1b23c4d) {
        this.le = false;
        this.nanos = magicBE === 0xa1b23c4d;
      } else {
        throw new Error(`${this.file}: not a classic pcap file (magic 0x${magicLE.toString(16)})`);
      }
      const linktype = this.le ? buf.readUInt32LE(20) : buf.readUInt32BE(20);
      if (linktype !== 1)
        throw new Error(
          `${this.file}: link type ${linktype}, expected Ethernet (capture on a bridge or eth)`,
        );
      this.headerRead = true;
      o = 24;
    }
    const u32 = (at: number): number => (this.le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
    // A record caught half written stays for the next poll.
    while (o + 16 <= buf.length) {
      const incl = u32(o + 8);
      if (o + 16 + incl > buf.length) break;
      const sec = u32(o);
      const frac = u32(o + 4);
      const tsMicros = sec * 1e6 + (this.nanos ? Math.floor(frac / 1000) : frac);
      const frame = Buffer.from(buf.subarray(o + 16, o + 16 + incl));
      const p: BenchPacket = decodeFrame(frame, tsMicros);
      const tcp = decodeTcp(p);
      if (tcp) p.tcp = tcp;
      this.kept.push(p);
      o += 16 + incl;
    }
    this.offset += o;
  }
}
