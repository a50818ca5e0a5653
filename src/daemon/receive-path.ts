import { decodeAdvert, rejectCounterName, type RejectReason } from '../vrrp/advert.js';
import { checkAdvertPolicy, type AdvertPolicy } from '../vrrp/advert-policy.js';
import type { ReceivedPacket } from '../transport/types.js';
import type { InstanceRunner } from './instance-runner.js';
import { isCounterName, type Counters } from './stats.js';

/** One instance listening on a transport: its runner and what it accepts. */
export interface ReceiveTarget {
  runner: InstanceRunner;
  policy: AdvertPolicy;
  /** Sources accepted in unicast mode; null = any source (multicast, or check turned off). */
  allowedSources: ReadonlySet<string> | null;
}

export type ReceiveOutcome =
  | {
      kind: 'accepted';
      instance: string;
      priority: number;
      legacyChecksum: boolean;
      warnings: RejectReason[];
    }
  | { kind: 'rejected'; instance: string | null; reason: RejectReason; detail: string };

/**
 * The path from a packet the transport accepted to an event for one instance: find the instance
 * by VRID, decode, apply the instance's policy, count. Every drop is counted in the instance's
 * stats under keepalived's counter name (or in `unmatched` when no instance has that VRID), and
 * nothing here throws: a hostile packet costs a counter increment, never the daemon.
 */
export function receiveAdvert(
  pkt: ReceivedPacket,
  targetsByVrid: ReadonlyMap<number, ReceiveTarget>,
  unmatched: Counters,
): ReceiveOutcome {
  // keepalived looks the instance up by the VRID byte before validating the rest, so even a
  // malformed packet is charged to the instance it claims to be for.
  const vrid = pkt.payload.length >= 2 ? pkt.payload[1] : undefined;
  const target = vrid === undefined ? undefined : targetsByVrid.get(vrid);
  if (!target) {
    const reason: RejectReason = vrid === undefined ? 'packet_len_err' : 'vrid_err';
    bump(unmatched, reason);
    return {
      kind: 'rejected',
      instance: null,
      reason,
      detail: vrid === undefined ? 'packet too short to hold a VRID' : `no instance with VRID ${vrid}`,
    };
  }
  const counters = target.runner.counters;
  const reject = (reason: RejectReason, detail: string): ReceiveOutcome => {
    bump(counters, reason);
    return { kind: 'rejected', instance: target.runner.name, reason, detail };
  };

  if (target.allowedSources && !target.allowedSources.has(pkt.src)) {
    return reject('src_not_peer', `source ${pkt.src} is not a configured unicast peer`);
  }
  const decoded = decodeAdvert(pkt.payload, { family: pkt.family, src: pkt.src, dst: pkt.dst });
  if (!decoded.ok) return reject(decoded.reason, decoded.detail);
  const policy = checkAdvertPolicy(decoded.advert, target.policy);
  if (!policy.ok) return reject(policy.reason, policy.detail);
  for (const w of policy.warnings) bump(counters, w);

  counters.advert_rcvd++;
  const { priority, intervalCs } = decoded.advert;
  if (priority === 0) counters.pri_zero_rcvd++;
  target.runner.receiveAdvert(pkt.src, priority, intervalCs);
  return {
    kind: 'accepted',
    instance: target.runner.name,
    priority,
    legacyChecksum: decoded.legacyChecksum,
    warnings: policy.warnings,
  };
}

function bump(c: Counters, reason: RejectReason): void {
  const name = rejectCounterName(reason);
  if (isCounterName(name)) c[name]++;
  else if (isCounterName(reason)) c[reason]++;
}
