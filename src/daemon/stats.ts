/**
 * Per-instance counters, named after keepalived's `vrrp_stats` fields so an operator can compare
 * `keepalived.stats` and floatip's stats file line by line.
 */
export const COUNTER_NAMES = [
  'advert_rcvd',
  'advert_sent',
  'become_master',
  'release_master',
  'packet_len_err',
  'ip_ttl_err',
  'invalid_type_rcvd',
  'advert_interval_err',
  'addr_list_err',
  'invalid_authtype',
  'authtype_mismatch',
  'auth_failure',
  'pri_zero_rcvd',
  'pri_zero_sent',
  'checksum_err',
  'version_err',
  'vrid_err',
  'family_err',
  'src_not_peer',
] as const;

export type CounterName = (typeof COUNTER_NAMES)[number];
export type Counters = Record<CounterName, number>;

export function emptyCounters(): Counters {
  return Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])) as Counters;
}

export function isCounterName(s: string): s is CounterName {
  return (COUNTER_NAMES as readonly string[]).includes(s);
}
