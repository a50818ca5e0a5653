/**
 * IP address text <-> wire bytes for the VRRP codec.
 *
 * Everything on the wire is bytes and everything in config, logs and the state machine is text, so
 * this is the single place where the two meet. Output text is canonical (IPv4 dotted quad, IPv6 per
 * RFC 5952: lowercase, longest run of zero groups compressed), so two spellings of one address
 * compare equal as strings once they have been through bytesToIp.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type AddressFamily = 'ipv4' | 'ipv6'; // same as src/config/model.ts

/** Address length on the wire, per family. */
export function addrLength(family: AddressFamily): 4 | 16 {
  return family === 'ipv4' ? 4 : 16;
}

/** The family of an address text, or null if it is not an IP address. */
export function familyOf(ip: string): AddressFamily | null {
  if (isIPv4(ip)) return 'ipv4';
  if (isIPv6(ip)) return 'ipv6';
  return null;
}

/**
 * Writes the address into `out` at `offset` (4 or 16 bytes, network order) and returns true, or
 * returns false without a partial write if the text is not an address of `family`. This is the
 * non-throwing, non-allocating primitive the per-packet paths use; ipToBytes wraps it.
 */
export function writeIp(ip: string, family: AddressFamily, out: Uint8Array, offset: number): boolean {
  if (offset < 0 || offset + addrLength(family) > out.length) return false;
  if (family === 'ipv4') {
    if (!isIPv4(ip)) return false;
    const parts = ip.split('.');
    for (let i = 0; i < 4; i++) out[offset + i] = Number(parts[i]);
    return true;
  }
  if (family !== 'ipv6') return false;
  // A zone ("fe80::1%eth0") names the link, not part of the 128 bits: the wire never carries it.
  const pct = ip.indexOf('%');
  const text = pct >= 0 ? ip.slice(0, pct) : ip;
  if (!isIPv6(text)) return false;
  const groups = ipv6Groups(text);
  if (!groups) return false;
  for (let i = 0; i < 8; i++) {
    const g = groups[i] ?? 0;
    out[offset + 2 * i] = g >> 8;
    out[offset + 2 * i + 1] = g & 0xff;
  }
  return true;
}

/** Expands validated IPv6 text (already accepted by net.isIPv6) into its eight 16-bit groups. */
function ipv6Groups(text: string): number[] | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const pieces = s.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i] ?? '';
      if (p.includes('.')) {
        // Embedded IPv4 (e.g. ::ffff:10.0.0.1) is only legal as the last 32 bits.
        if (i !== pieces.length - 1 || !isIPv4(p)) return null;
        const q = p.split('.').map(Number);
        out.push((((q[0] ?? 0) << 8) | (q[1] ?? 0)) & 0xffff, (((q[2] ?? 0) << 8) | (q[3] ?? 0)) & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = parse(halves[0] ?? '');
  if (!head) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const tail = parse(halves[1] ?? '');
  if (!tail) return null;
  const missing = 8 - head.length - tail.length;
  // "::" stands for at least one zero group (RFC 4291 2.2).
  if (missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/**
 * Address text to 4 or 16 network-order bytes. Throws on anything that is not an IP address: it is
 * meant for config time, where a bad address must stop the start-up with a clear message.
 */
export function ipToBytes(ip: string): Buffer {
  const family = familyOf(ip);
  if (!family) throw new Error(`"${ip}" is not an IPv4 or IPv6 address; write e.g. 10.0.0.1 or fd00::1`);
  const out = Buffer.alloc(addrLength(family));
  if (!writeIp(ip, family, out, 0)) {
    throw new Error(`"${ip}" is not a valid ${family} address; write e.g. 10.0.0.1 or fd00::1`);
  }
  return out;
}

/**
 * Canonical text of the first 4 (ipv4) or 16 (ipv6) bytes of `b`. IPv6 follows RFC 5952 (section 4
 * and the IPv4-mapped form of section 5), which is also what inet_ntop and `ip addr` print, so
 * floatip's logs read like keepalived's.
 */
export function bytesToIp(b: Uint8Array, family: AddressFamily): string {
  if (family === 'ipv4') {
    if (b.length < 4) throw new RangeError(`bytesToIp: an IPv4 address needs 4 bytes, got ${b.length}`);
    return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  }
  if (b.length < 16) throw new RangeError(`bytesToIp: an IPv6 address needs 16 bytes, got ${b.length}`);
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(((b[2 * i] ?? 0) << 8) | (b[2 * i + 1] ?? 0));
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  // Longest run of zero groups, the first one on a tie; a single zero group is not compressed.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    g
      .slice(from, to)
      .map((x) => x.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/**
 * Numeric order of two addresses (<0, 0, >0), as VRRP's tie-break on equal priority needs (the
 * higher primary address wins). Meant for two addresses of one family; should the families differ,
 * every IPv4 address sorts before every IPv6 one so the order stays total instead of throwing in the
 * middle of an election. Throws on text that is not an address (a bug upstream, not a wire input).
 */
export function compareIp(a: string, b: string): number {
  const x = ipToBytes(a);
  const y = ipToBytes(b);
  if (x.length !== y.length) return x.length - y.length;
  return Buffer.compare(x, y);
}
