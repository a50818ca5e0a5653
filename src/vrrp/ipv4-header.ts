/**
 * The IPv4 header around VRRP packets.
 *
 * keepalived sends IPv4 adverts on a raw socket with IP_HDRINCL and builds the header itself
 * (vrrp.c, vrrp_build_ip4): version 4, IHL 5, TOS 0xc0 (internetwork control), frag_off 0 (so no DF),
 * TTL from the instance (255, or unicast_ttl), protocol 112, and an IP id it counts itself
 * (vrrp_update_pkt). It leaves check = 0 and relies on the kernel to fill in the header checksum
 * (and total length) for IP_HDRINCL; we compute both anyway so a packet we build is byte-identical
 * to what the kernel puts on the wire, which is what the capture tests compare against.
 */
import { bytesToIp, writeIp } from './addr.js';
import { internetChecksum } from './checksum.js';

export interface Ipv4Header {
  /** In bytes (IHL × 4): 20 for everything keepalived sends, more when options are present. */
  headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  /** The 16-bit flags + fragment offset field; 0 for keepalived (no DF). */
  flagsFragment: number;
  ttl: number;
  protocol: number;
  checksum: number;
  src: string;
  dst: string;
}

const IPV4_HEADER_LEN = 20;

/**
 * A complete IPv4 packet (20-byte header without options + payload) as keepalived builds it.
 * Throws on invalid fields or addresses: these come from our own config, so a bad one is a bug.
 */
export function encodeIpv4Packet(
  h: { tos: number; id: number; ttl: number; protocol: number; src: string; dst: string },
  payload: Uint8Array,
): Buffer {
  const total = IPV4_HEADER_LEN + payload.length;
  if (total > 0xffff) throw new RangeError(`IPv4 payload of ${payload.length} bytes does not fit one packet`);
  checkByte('tos', h.tos);
  checkByte('ttl', h.ttl);
  checkByte('protocol', h.protocol);
  if (!Number.isInteger(h.id) || h.id < 0 || h.id > 0xffff) {
    throw new RangeError(`IPv4 id must be an integer 0..65535, got ${h.id}`);
  }
  const buf = Buffer.allocUnsafe(total);
  buf[0] = 0x45; // version 4, IHL 5: keepalived never sends IP options
  buf[1] = h.tos;
  buf.writeUInt16BE(total, 2);
  buf.writeUInt16BE(h.id, 4);
  buf.writeUInt16BE(0, 6); // no DF, no fragmentation (vrrp_build_ip4 sets frag_off = 0)
  buf[8] = h.ttl;
  buf[9] = h.protocol;
  buf.writeUInt16BE(0, 10);
  if (!writeIp(h.src, 'ipv4', buf, 12)) throw new Error(`IPv4 source "${h.src}" is not an IPv4 address`);
  if (!writeIp(h.dst, 'ipv4', buf, 16)) throw new Error(`IPv4 destination "${h.dst}" is not an IPv4 address`);
  buf.writeUInt16BE(internetChecksum(buf.subarray(0, IPV4_HEADER_LEN)), 10);
  buf.set(payload, IPV4_HEADER_LEN);
  return buf;
}

function checkByte(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff)
    throw new RangeError(`IPv4 ${name} must be 0..255, got ${v}`);
}

/**
 * Splits a received IPv4 packet into header and payload. Never throws. Like keepalived
 * (vrrp_get_header / vrrp_check_packet) it honours IHL, so options are skipped, and it requires the
 * header's total length to equal the bytes received: anything else is packet_len_err, keepalived's
 * "Length" counter. The header checksum is reported but not verified: the kernel has already
 * dropped packets whose header checksum is wrong before a raw socket sees them.
 * The payload is a view into `buf`, not a copy.
 */
export function decodeIpv4Packet(
  buf: Uint8Array,
):
  | { ok: true; header: Ipv4Header; payload: Buffer }
  | { ok: false; reason: 'packet_len_err'; detail: string } {
  const fail = (detail: string) => ({ ok: false, reason: 'packet_len_err', detail }) as const;
  if (buf.length < IPV4_HEADER_LEN) {
    return fail(`IPv4 packet of ${buf.length} bytes is shorter than the 20-byte IPv4 header`);
  }
  const b0 = buf[0] ?? 0;
  if (b0 >> 4 !== 4) return fail(`IP version field is ${b0 >> 4}, expected 4`);
  const headerLength = (b0 & 0x0f) * 4;
  if (headerLength < IPV4_HEADER_LEN)
    return fail(`IPv4 header length ${headerLength} is below the minimum 20`);
  if (headerLength > buf.length) {
    return fail(`IPv4 header length ${headerLength} exceeds the ${buf.length} bytes received`);
  }
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const totalLength = view.readUInt16BE(2);
  if (totalLength !== buf.length) {
    return fail(`IPv4 total length field is ${totalLength} but ${buf.length} bytes were received`);
  }
  const header: Ipv4Header = {
    headerLength,
    tos: view[1] ?? 0,
    totalLength,
    id: view.readUInt16BE(4),
    flagsFragment: view.readUInt16BE(6),
    ttl: view[8] ?? 0,
    protocol: view[9] ?? 0,
    checksum: view.readUInt16BE(10),
    src: bytesToIp(view.subarray(12, 16), 'ipv4'),
    dst: bytesToIp(view.subarray(16, 20), 'ipv4'),
  };
  return { ok: true, header, payload: view.subarray(headerLength, totalLength) };
}

/**
 * keepalived's per-instance IP id (vrrp_update_pkt): incremented once per advert, first value 1,
 * and 0 is skipped on wrap because with IP_HDRINCL the kernel would replace an id of 0 with its own.
 * One advert sent to several unicast peers carries the same id in every copy.
 */
export class IpIdCounter {
  private last: number;

  /** `lastId` is the id "already sent"; the default 0 makes the first next() return 1. */
  constructor(lastId = 0) {
    if (!Number.isInteger(lastId) || lastId < 0 || lastId > 0xffff) {
      throw new RangeError(`IpIdCounter start must be 0..65535, got ${lastId}`);
    }
    this.last = lastId;
  }

  next(): number {
    this.last = (this.last + 1) & 0xffff;
    if (this.last === 0) this.last = 1;
    return this.last;
  }
}
