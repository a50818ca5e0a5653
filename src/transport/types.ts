/** The contract between the VRRP transport (raw sockets) and the daemon. */

export interface ReceivedPacket {
  family: 'ipv4' | 'ipv6';
  /** Canonical address text (as `bytesToIp` writes it), no scope suffix. */
  src: string;
  dst: string;
  /** IPv4 TTL / IPv6 hop limit. */
  ttl: number;
  ifname: string;
  /** The VRRP bytes (after the IP header); the transport's own copy, safe to keep. */
  payload: Buffer;
}

export interface TransportOptions {
  family: 'ipv4' | 'ipv6';
  ifname: string;
  /** Advert source (unicast_src_ip, or the interface's primary / link-local address). */
  sourceIp: string;
  /** Empty = multicast (224.0.0.18 / ff02::12). */
  unicastPeers: string[];
  /** TTL for unicast sends (keepalived unicast_ttl, default 255); multicast always 255. */
  unicastTtl: number;
}

export interface TransportHandlers {
  onPacket(p: ReceivedPacket): void;
  /** A packet dropped below the codec: wrong TTL on multicast → 'ip_ttl_err', truncated IP → 'packet_len_err'. */
  onReject(reason: 'ip_ttl_err' | 'packet_len_err', detail: string, src: string | null): void;
  /** Socket errors after open; the daemon logs them. */
  onError(err: Error): void;
}

export interface VrrpTransport {
  readonly options: TransportOptions;
  /**
   * payload = encoded VRRP advert (its checksum already computed for this dst). IPv4: wrapped in a
   * keepalived-identical IPv4 header (TOS 0xc0, TTL 255/unicast_ttl, id counter, src = sourceIp).
   * Rejects with a clear error (also after close()).
   * `ipId`: the IPv4 header id. keepalived counts ids per instance, one per advert, and gives every
   * unicast peer of one advert the same id; instances sharing a socket therefore pass their own.
   * Without it the transport counts per socket. Ignored for IPv6 (no id field).
   */
  send(payload: Buffer, dst: string, ipId?: number): Promise<void>;
  /** Idempotent; releases the socket at once and lets the process exit. */
  close(): void;
}
