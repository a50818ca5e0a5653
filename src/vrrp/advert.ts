/**
 * VRRP advertisement codec: RFC 3768 (v2) and RFC 5798 (v3), byte-compatible with keepalived 2.2.7
 * (keepalived/vrrp/vrrp.c: vrrp_build_vrrp_v2/_v3 to send, vrrp_check_packet to receive).
 *
 * Wire layout (both versions share the first 8 bytes):
 *
 *   0        ver(4) | type(4)
 *   1        VRID
 *   2        priority
 *   3        count of addresses
 *   4..5     v2: auth type (1 byte), advert interval in seconds (1 byte)
 *            v3: 4 reserved bits + 12-bit max advert interval in centiseconds
 *   6..7     checksum
 *   8..      count × address (4 bytes IPv4, 16 bytes IPv6)
 *   then     v2 over IPv4 only: 8 authentication bytes
 *
 * Checksums:
 * - v2 over IPv4: Internet checksum over the VRRP packet including the 8 auth bytes, no
 *   pseudo-header (RFC 3768 5.3.8; vrrp_build_vrrp_v2).
 * - v3 over IPv4: pseudo-header {src, dst, 0, 112, VRRP length} + packet (RFC 5798 5.2.8), dst being
 *   the real destination, i.e. the peer in unicast (vrrp_build_vrrp_v3).
 * - IPv6 (v3, and v2 which keepalived allows outside strict mode): the kernel computes it on the
 *   socket (IPV6_CHECKSUM) over the IPv6 pseudo-header {src, dst, 32-bit length, 3 zero bytes,
 *   next header 112} (RFC 8200 8.1). keepalived's IPv6 v2 packets carry no auth bytes
 *   (vrrp_pkt_len / expected_vrrp_pkt_len only add them for AF_INET).
 *
 * decodeAdvert does the checks that need nothing but the packet, in keepalived's order where it can
 * (length, version, v2 auth type, type, checksum); the checks that need the receiving instance's
 * configuration are in advert-policy.ts. keepalived interleaves the two (for v2 it checks auth and the
 * interval before the type, and the type before the checksum), so a packet with several faults can
 * be charged to a different counter than keepalived would charge it; a packet with one fault gets
 * the same one.
 */
import { addrLength, bytesToIp, familyOf, writeIp, type AddressFamily } from './addr.js';
import { internetChecksum } from './checksum.js';

export const VRRP_PROTOCOL = 112;
export const VRRP_MCAST_V4 = '224.0.0.18';
export const VRRP_MCAST_V6 = 'ff02::12';

/** VRRP packet type 1 (RFC 3768 5.3.2 / RFC 5798 5.2.2); the only type defined. */
const VRRP_TYPE_ADVERT = 1;
const VRRP_HEADER_LEN = 8;
const VRRP_AUTH_LEN = 8;

export type RejectReason =
  | 'packet_len_err'
  | 'ip_ttl_err'
  | 'invalid_type_rcvd'
  | 'advert_interval_err'
  | 'addr_list_err'
  | 'invalid_authtype'
  | 'authtype_mismatch'
  | 'auth_failure'
  | 'checksum_err'
  | 'version_err'
  | 'vrid_err'
  | 'family_err'
  | 'src_not_peer';

export interface Advert {
  version: 2 | 3;
  /** 1 = ADVERTISEMENT; anything else is rejected by decode. */
  type: number;
  /** 0..255 on the wire (0 is invalid for an instance, decode keeps it). */
  vrid: number;
  /** 0..255 */
  priority: number;
  /** v2: the seconds byte × 100; v3: the 12-bit centisecond field. */
  intervalCs: number;
  /** IPv4 or IPv6 text, family per packet. */
  addresses: string[];
  /** v2 auth type byte; v3: 0 (that byte is reserved). */
  authType: number;
  /**
   * v2 over IPv4: the 8 trailing auth bytes exactly as on the wire. v3: empty. v2 over IPv6 has no
   * auth bytes on the wire (keepalived's layout): decode gives empty, encode accepts empty or 8
   * bytes and sends none.
   */
  authData: Buffer;
}

export interface PacketAddresses {
  family: AddressFamily;
  src: string;
  dst: string;
}

export type DecodeResult =
  /** legacyChecksum: v3/IPv4 unicast accepted via the 224.0.0.18 pseudo-header (see decodeAdvert). */
  { ok: true; advert: Advert; legacyChecksum: boolean } | { ok: false; reason: RejectReason; detail: string };

/** Bytes of the VRRP packet for this version, family and address count. */
function vrrpLength(version: number, family: AddressFamily, count: number): number {
  const auth = version === 2 && family === 'ipv4' ? VRRP_AUTH_LEN : 0;
  return VRRP_HEADER_LEN + count * addrLength(family) + auth;
}

/**
 * The pseudo-header the checksum starts with, or null for v2/IPv4, which has none. Returns
 * 'bad-address' when src/dst are not addresses of the family.
 */
function pseudoHeader(
  version: number,
  family: AddressFamily,
  src: string,
  dst: string,
  vrrpLen: number,
): Buffer | null | 'bad-address' {
  if (family === 'ipv4') {
    if (version === 2) return null;
    const ph = Buffer.alloc(12);
    if (!writeIp(src, 'ipv4', ph, 0) || !writeIp(dst, 'ipv4', ph, 4)) return 'bad-address';
    ph[9] = VRRP_PROTOCOL;
    ph.writeUInt16BE(vrrpLen, 10);
    return ph;
  }
  const ph = Buffer.alloc(40);
  if (!writeIp(src, 'ipv6', ph, 0) || !writeIp(dst, 'ipv6', ph, 16)) return 'bad-address';
  ph.writeUInt32BE(vrrpLen, 32);
  ph[39] = VRRP_PROTOCOL;
  return ph;
}

function checksumOf(ph: Buffer | null, packet: Uint8Array): number {
  return ph ? internetChecksum(ph, packet) : internetChecksum(packet);
}

/**
 * Encodes an advert and computes its checksum for the given source and destination (for v3 over
 * IPv4 the real destination, i.e. the unicast peer: keepalived's OLD_CHKSUM_COMPAT form with
 * 224.0.0.18 is accepted on receive but never produced). Throws RangeError on fields that cannot be
 * put on the wire: adverts are built from validated config, so that is a bug upstream.
 */
export function encodeAdvert(a: Advert, addrs: PacketAddresses): Buffer {
  const family = addrs.family;
  if (family !== 'ipv4' && family !== 'ipv6')
    throw new RangeError(`unknown address family "${String(family)}"`);
  if (a.version !== 2 && a.version !== 3)
    throw new RangeError(`VRRP version must be 2 or 3, got ${String(a.version)}`);
  checkField('type', a.type, 0x0f);
  checkField('vrid', a.vrid, 0xff);
  checkField('priority', a.priority, 0xff);
  if (familyOf(addrs.src) !== family || familyOf(addrs.dst) !== family) {
    throw new RangeError(
      `advert source "${addrs.src}" / destination "${addrs.dst}" must both be ${family} addresses`,
    );
  }
  const count = a.addresses.length;
  if (count > 0xff) throw new RangeError(`a VRRP advert carries at most 255 addresses, got ${count}`);
  if (a.version === 2) {
    if (
      !Number.isInteger(a.intervalCs) ||
      a.intervalCs % 100 !== 0 ||
      a.intervalCs < 0 ||
      a.intervalCs > 25500
    ) {
      throw new RangeError(
        `VRRPv2 interval must be whole seconds 0..255 (0..25500 cs), got ${a.intervalCs} cs`,
      );
    }
    checkField('authType', a.authType, 0xff);
    // Over IPv6 keepalived sends no auth bytes (only the auth type byte), so 8 configured bytes are
    // accepted and left off the wire rather than making every caller special-case v2 over IPv6.
    const fits =
      family === 'ipv4'
        ? a.authData.length === VRRP_AUTH_LEN
        : a.authData.length === 0 || a.authData.length === VRRP_AUTH_LEN;
    if (!fits) {
      throw new RangeError(`VRRPv2 auth data must be ${VRRP_AUTH_LEN} bytes, got ${a.authData.length}`);
    }
  } else {
    // keepalived masks the interval to 12 bits and leaves the reserved bits 0 (vrrp_build_vrrp_v3).
    checkField('intervalCs', a.intervalCs, 0x0fff);
    if (a.authType !== 0 || a.authData.length !== 0) {
      throw new RangeError('VRRPv3 has no authentication: authType must be 0 and authData empty');
    }
  }

  const len = vrrpLength(a.version, family, count);
  const buf = Buffer.alloc(len);
  buf[0] = (a.version << 4) | a.type;
  buf[1] = a.vrid;
  buf[2] = a.priority;
  buf[3] = count;
  if (a.version === 2) {
    buf[4] = a.authType;
    buf[5] = a.intervalCs / 100;
  } else {
    buf.writeUInt16BE(a.intervalCs, 4);
  }
  const alen = addrLength(family);
  for (let i = 0; i < count; i++) {
    const ip = a.addresses[i] ?? '';
    if (!writeIp(ip, family, buf, VRRP_HEADER_LEN + i * alen)) {
      throw new RangeError(`advert address "${ip}" is not an ${family} address`);
    }
  }
  if (a.version === 2 && family === 'ipv4') a.authData.copy(buf, VRRP_HEADER_LEN + count * alen);

  const ph = pseudoHeader(a.version, family, addrs.src, addrs.dst, len);
  if (ph === 'bad-address') {
    throw new RangeError(
      `advert source "${addrs.src}" / destination "${addrs.dst}" must both be ${family} addresses`,
    );
  }
  buf.writeUInt16BE(checksumOf(ph, buf), 6);
  return buf;
}

function checkField(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max)
    throw new RangeError(`advert ${name} must be 0..${max}, got ${v}`);
}

function reject(reason: RejectReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

/**
 * Decodes the VRRP bytes (after the IP header) of a packet received from addrs.src to addrs.dst.
 * Never throws: any input gives an advert or a reason. For v3 over IPv4 a checksum that only
 * matches with 224.0.0.18 in place of a unicast destination is accepted with legacyChecksum = true:
 * keepalived built with _WITH_UNICAST_CHKSUM_COMPAT_ (Debian's is) accepts it in unicast mode too,
 * since keepalived before 2.0.x computed unicast v3 checksums that way (vrrp_check_packet).
 */
export function decodeAdvert(bytes: Uint8Array, addrs: PacketAddresses): DecodeResult {
  const family = addrs.family;
  if (
    (family !== 'ipv4' && family !== 'ipv6') ||
    familyOf(addrs.src) !== family ||
    familyOf(addrs.dst) !== family
  ) {
    return reject(
      'family_err',
      `packet addresses src ${String(addrs.src)} / dst ${String(addrs.dst)} are not both ${String(family)}`,
    );
  }
  if (bytes.length < VRRP_HEADER_LEN) {
    return reject('packet_len_err', `VRRP packet of ${bytes.length} bytes is shorter than the 8-byte header`);
  }
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const b0 = b[0] ?? 0;
  const version = b0 >> 4;
  const type = b0 & 0x0f;
  const count = b[3] ?? 0;

  // keepalived computes the expected length from the packet's own version nibble and count before
  // looking at anything else (expected_vrrp_pkt_len), and wants it exact: too long is an error too.
  const expected = vrrpLength(version, family, count);
  if (b.length !== expected) {
    return reject(
      'packet_len_err',
      `VRRP packet is ${b.length} bytes, expected ${expected} for version ${version} with ${count} ${family} addresses`,
    );
  }
  if (version !== 2 && version !== 3)
    return reject('version_err', `VRRP version ${version}, expected 2 or 3`);
  // keepalived knows NONE, PASS and AH (built with _WITH_VRRP_AUTH_); any other type is counted as
  // invalid_authtype whatever the instance's own auth is.
  if (version === 2 && (b[4] ?? 0) > 2) {
    return reject('invalid_authtype', `VRRPv2 auth type ${b[4]}, expected 0 (none), 1 (PASS) or 2 (AH)`);
  }
  if (type !== VRRP_TYPE_ADVERT) {
    return reject('invalid_type_rcvd', `VRRP packet type ${type}, expected 1 (ADVERTISEMENT)`);
  }

  const ph = pseudoHeader(version, family, addrs.src, addrs.dst, expected);
  if (ph === 'bad-address') return reject('family_err', `packet addresses are not ${family}`);
  let legacyChecksum = false;
  if (checksumOf(ph, b) !== 0) {
    const legacy = version === 3 && family === 'ipv4' && ph !== null && addrs.dst !== VRRP_MCAST_V4;
    if (legacy) writeIp(VRRP_MCAST_V4, 'ipv4', ph, 4);
    if (legacy && checksumOf(ph, b) === 0) {
      legacyChecksum = true;
    } else {
      if (legacy) writeIp(addrs.dst, 'ipv4', ph, 4);
      const got = b.readUInt16BE(6);
      return reject(
        'checksum_err',
        `VRRPv${version} checksum 0x${hex4(got)} is wrong for ${addrs.src} -> ${addrs.dst}, expected 0x${hex4(
          expectedChecksum(ph, b),
        )}`,
      );
    }
  }

  const alen = addrLength(family);
  const addresses: string[] = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    addresses[i] = bytesToIp(
      b.subarray(VRRP_HEADER_LEN + i * alen, VRRP_HEADER_LEN + (i + 1) * alen),
      family,
    );
  }
  const advert: Advert =
    version === 2
      ? {
          version: 2,
          type,
          vrid: b[1] ?? 0,
          priority: b[2] ?? 0,
          intervalCs: (b[5] ?? 0) * 100,
          addresses,
          authType: b[4] ?? 0,
          // A copy: the receive buffer may be reused by the transport for the next packet.
          authData: Buffer.from(b.subarray(VRRP_HEADER_LEN + count * alen)),
        }
      : {
          version: 3,
          type,
          vrid: b[1] ?? 0,
          priority: b[2] ?? 0,
          // RFC 5798 5.2.7: the top 4 bits are reserved and ignored on receive, as keepalived does.
          intervalCs: b.readUInt16BE(4) & 0x0fff,
          addresses,
          authType: 0,
          authData: Buffer.alloc(0),
        };
  return { ok: true, advert, legacyChecksum };
}

function expectedChecksum(ph: Buffer | null, packet: Buffer): number {
  const copy = Buffer.from(packet);
  copy.writeUInt16BE(0, 6);
  return checksumOf(ph, copy);
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/**
 * The name of keepalived's per-instance counter a rejection is charged to: its `vrrp_stats` field
 * names, which keepalived prints in keepalived.stats (vrrp_print.c, vrrp_print_stats) as
 *
 *   Packet Errors:          Length (packet_len_err), TTL (ip_ttl_err), Invalid Type
 *                           (invalid_type_rcvd), Advertisement Interval (advert_interval_err),
 *                           Address List (addr_list_err)
 *   Authentication Errors:  Invalid Type (invalid_authtype), Type Mismatch (authtype_mismatch),
 *                           Failure (auth_failure)
 *
 * and in its JSON dump under the same names. Note that keepalived 2.2.7 never increments
 * advert_interval_err: it logs and drops a v2 interval mismatch without counting it. Reasons
 * keepalived has no stats-file counter for (checksum_err, version_err, vrid_err: SNMP-only fields;
 * family_err, src_not_peer: none) map to themselves.
 */
export function rejectCounterName(r: RejectReason): string {
  switch (r) {
    case 'packet_len_err':
    case 'ip_ttl_err':
    case 'invalid_type_rcvd':
    case 'advert_interval_err':
    case 'addr_list_err':
    case 'invalid_authtype':
    case 'authtype_mismatch':
    case 'auth_failure':
      return r;
    case 'checksum_err':
    case 'version_err':
    case 'vrid_err':
    case 'family_err':
    case 'src_not_peer':
      return r;
  }
}

/** Where a counter appears in keepalived.stats, for operators comparing the two; null if absent. */
export function keepalivedStatsLabel(r: RejectReason): { section: string; label: string } | null {
  switch (r) {
    case 'packet_len_err':
      return { section: 'Packet Errors', label: 'Length' };
    case 'ip_ttl_err':
      return { section: 'Packet Errors', label: 'TTL' };
    case 'invalid_type_rcvd':
      return { section: 'Packet Errors', label: 'Invalid Type' };
    case 'advert_interval_err':
      return { section: 'Packet Errors', label: 'Advertisement Interval' };
    case 'addr_list_err':
      return { section: 'Packet Errors', label: 'Address List' };
    case 'invalid_authtype':
      return { section: 'Authentication Errors', label: 'Invalid Type' };
    case 'authtype_mismatch':
      return { section: 'Authentication Errors', label: 'Type Mismatch' };
    case 'auth_failure':
      return { section: 'Authentication Errors', label: 'Failure' };
    case 'checksum_err':
    case 'version_err':
    case 'vrid_err':
    case 'family_err':
    case 'src_not_peer':
      return null;
  }
}
