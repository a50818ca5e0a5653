/**
 * The Internet checksum (RFC 1071): one's complement of the one's complement sum of 16-bit
 * big-endian words. Used for the VRRP checksum (with or without a pseudo-header) and the IPv4
 * header checksum.
 */

/**
 * Checksum over the concatenation of `parts`, as if they were one buffer: an odd-length part
 * leaves its last byte as the high half of a word finished by the next part, and a trailing odd
 * byte is padded with a zero (RFC 1071 4.1). Taking parts instead of one buffer lets callers put a
 * pseudo-header in front of a packet without copying the packet.
 *
 * Computing it over data whose checksum field is already filled in yields 0 when the field is right.
 */
export function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  let high = -1; // the pending high byte of a word split across two parts, or -1
  for (const p of parts) {
    let i = 0;
    const n = p.length;
    if (high >= 0 && n > 0) {
      sum += (high << 8) | (p[0] ?? 0);
      high = -1;
      i = 1;
    }
    for (; i + 1 < n; i += 2) sum += ((p[i] ?? 0) << 8) | (p[i + 1] ?? 0);
    if (i < n) high = p[i] ?? 0;
    // Fold now and then so the sum stays a small integer even for very large inputs.
    if (sum > 0x7fffffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  }
  if (high >= 0) sum += high << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}
