/**
 * The checks on a decoded advert that need the receiving instance's configuration, in the order
 * keepalived 2.2.7 applies them (vrrp_scheduler.c picks the instance by VRID, then vrrp.c
 * vrrp_check_packet does the rest). Every failure here makes keepalived drop the packet, so every
 * failure here is a rejection; `warnings` exists for checks that keepalived only counts, and 2.2.7
 * has none of those on this path (see the address list check below).
 */
import { timingSafeEqual } from 'node:crypto';
import type { Advert, RejectReason } from './advert.js';
import { compareIp } from './addr.js';

export interface AdvertPolicy {
  version: 2 | 3;
  vrid: number;
  advertIntervalCs: number;
  virtualIps: string[];
  auth?: { type: 'PASS'; password: Buffer /* exactly 8 bytes */ };
}

export type PolicyResult =
  { ok: true; warnings: RejectReason[] } | { ok: false; reason: RejectReason; detail: string };

const AUTH_NONE = 0;
const AUTH_PASS = 1;
const AUTH_NAMES: Record<number, string> = { 0: 'none', 1: 'PASS', 2: 'AH' };
/** VRRPv2's authentication field is 8 bytes (RFC 3768 5.3.10); keepalived's auth_data likewise. */
const PASSWORD_LEN = 8;

export function checkAdvertPolicy(a: Advert, p: AdvertPolicy): PolicyResult {
  // keepalived finds the instance by VRID and silently ignores unknown VRIDs ("Unknown VRID"
  // log line only when log_unknown_vrids is set); no stats-file counter.
  if (a.vrid !== p.vrid)
    return fail('vrid_err', `advert for VRID ${a.vrid}, this instance is VRID ${p.vrid}`);
  if (a.version !== p.version) {
    return fail('version_err', `VRRPv${a.version} advert, this instance runs VRRPv${p.version}`);
  }

  if (a.version === 2) {
    // RFC 5798 dropped authentication; keepalived looks at auth only for v2.
    const ours = p.auth ? AUTH_PASS : AUTH_NONE;
    if (a.authType !== ours) {
      return fail(
        'authtype_mismatch',
        `advert uses auth type ${authName(a.authType)}, this instance expects ${authName(ours)}`,
      );
    }
    if (p.auth && !passwordMatches(a.authData, p.auth.password)) {
      return fail('auth_failure', 'advert carries a different PASS password (auth_pass) than this instance');
    }
    // keepalived drops a v2 advert whose interval differs from ours "to prevent concurrent VRID
    // running" (RFC 3768 7.1). Note that 2.2.7 only logs this: its advert_interval_err counter is
    // never incremented.
    if (a.intervalCs !== p.advertIntervalCs) {
      return fail(
        'advert_interval_err',
        `advert interval ${a.intervalCs / 100} s, this instance uses ${p.advertIntervalCs / 100} s`,
      );
    }
  }
  // v3: Master_Adver_Interval is learnt from the master (RFC 5798 6.4.2), so no interval check.

  // keepalived 2.2.7 drops (VRRP_PACKET_KO) and counts addr_list_err when the count differs or one
  // of our VIPs is missing from the advert, in both BACKUP and MASTER. Order does not matter (it
  // searches the advert for each of our VIPs). The only exception is its optional
  // skip_check_adv_addr, which skips the check for repeat adverts from the current master; floatip
  // does not model that option.
  if (a.addresses.length !== p.virtualIps.length) {
    return fail(
      'addr_list_err',
      `advert lists ${a.addresses.length} addresses, this instance has ${p.virtualIps.length} virtual IPs`,
    );
  }
  for (const vip of p.virtualIps) {
    if (!a.addresses.some((x) => sameIp(x, vip))) {
      return fail('addr_list_err', `virtual IP ${vip} of this instance is missing from the advert`);
    }
  }
  return { ok: true, warnings: [] };
}

function fail(reason: RejectReason, detail: string): PolicyResult {
  return { ok: false, reason, detail };
}

function authName(t: number): string {
  return AUTH_NAMES[t] ?? `#${t}`;
}

function sameIp(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return compareIp(a, b) === 0;
  } catch {
    return false; // a VIP text that is not an address matches nothing (config validation reports it)
  }
}

/** Constant-time, like keepalived's memcmp_constant_time, so timing does not leak the password. */
function passwordMatches(got: Buffer, want: Buffer): boolean {
  return got.length === want.length && timingSafeEqual(got, want);
}

/**
 * auth_pass text to the 8 bytes on the wire: keepalived copies at most 8 bytes and zero-pads
 * (vrrp_parser.c), so "secretpw9" goes out as "secretpw". `truncated` lets the config loader warn.
 */
export function encodePassword(pw: string): { password: Buffer; truncated: boolean } {
  const raw = Buffer.from(pw, 'utf8');
  const password = Buffer.alloc(PASSWORD_LEN);
  raw.copy(password, 0, 0, PASSWORD_LEN);
  return { password, truncated: raw.length > PASSWORD_LEN };
}
