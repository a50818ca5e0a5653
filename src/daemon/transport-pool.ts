import type { Logger } from 'pino';
import { openTransport } from '../transport/index.js';
import type { TransportOptions, VrrpTransport } from '../transport/types.js';
import { receiveAdvert, type ReceiveTarget } from './receive-path.js';
import type { Counters } from './stats.js';

interface Group {
  key: string;
  transport: Promise<VrrpTransport>;
  targets: Map<number, ReceiveTarget>;
}

/** How often the same (instance, reason) drop is logged at warn level; the counters see them all. */
const REJECT_LOG_INTERVAL_MS = 10_000;

/**
 * Instances that send from the same address on the same interface to the same destinations share
 * one socket, as keepalived shares its per-interface sockets: a raw socket sees every protocol-112
 * packet anyway, so one socket per instance would only multiply the work per packet.
 */
export class TransportPool {
  private readonly groups = new Map<string, Group>();
  private readonly lastRejectLog = new Map<string, number>();

  constructor(
    private readonly log: Logger,
    private readonly unmatched: Counters,
  ) {}

  async attach(opts: TransportOptions, target: ReceiveTarget): Promise<VrrpTransport> {
    const key = transportKey(opts);
    let group = this.groups.get(key);
    if (!group) {
      const targets = new Map<number, ReceiveTarget>();
      const transport = openTransport(opts, {
        onPacket: (pkt) => {
          const out = receiveAdvert(pkt, targets, this.unmatched);
          if (out.kind === 'rejected') this.logReject(out.instance, out.reason, out.detail, pkt.src);
          else if (out.legacyChecksum) this.logLegacyChecksum(out.instance, pkt.src);
        },
        onReject: (reason, detail, src) => {
          // Below the codec there is no VRID to charge it to; keepalived charges the interface.
          this.unmatched[reason]++;
          this.logReject(null, reason, detail, src);
        },
        onError: (err) =>
          this.log.error({ event: 'transport-error', key, err }, `transport ${key}: ${err.message}`),
      });
      group = { key, transport, targets };
      this.groups.set(key, group);
      transport.catch(() => this.groups.delete(key));
    }
    const clash = group.targets.get(target.policy.vrid);
    if (clash && clash !== target) {
      throw new Error(
        `instances ${clash.runner.name} and ${target.runner.name} both use VRID ${target.policy.vrid} on ${opts.ifname}; give each a distinct virtual_router_id`,
      );
    }
    group.targets.set(target.policy.vrid, target);
    return group.transport;
  }

  detach(opts: TransportOptions, target: ReceiveTarget): void {
    const key = transportKey(opts);
    const group = this.groups.get(key);
    if (!group || group.targets.get(target.policy.vrid) !== target) return;
    group.targets.delete(target.policy.vrid);
    if (group.targets.size === 0) {
      this.groups.delete(key);
      group.transport.then(
        (t) => t.close(),
        () => undefined,
      );
    }
  }

  async closeAll(): Promise<void> {
    const groups = [...this.groups.values()];
    this.groups.clear();
    const results = await Promise.allSettled(groups.map((g) => g.transport));
    for (const r of results) if (r.status === 'fulfilled') r.value.close();
  }

  private logReject(instance: string | null, reason: string, detail: string, src: string | null): void {
    const k = `${instance ?? '-'}/${reason}`;
    const now = Date.now();
    const last = this.lastRejectLog.get(k);
    const fields = { event: 'advert-dropped', instance, reason, src, detail };
    if (last !== undefined && now - last < REJECT_LOG_INTERVAL_MS) {
      this.log.debug(fields, `dropped advert: ${detail}`);
      return;
    }
    this.lastRejectLog.set(k, now);
    this.log.warn(
      fields,
      `dropped advert${instance ? ` for ${instance}` : ''} from ${src ?? '?'}: ${detail}`,
    );
  }

  private readonly legacyWarned = new Set<string>();
  private logLegacyChecksum(instance: string, src: string): void {
    const k = `${instance}/${src}`;
    if (this.legacyWarned.has(k)) return;
    this.legacyWarned.add(k);
    this.log.warn(
      { event: 'legacy-checksum', instance, src },
      `${instance}: ${src} sends VRRPv3 unicast checksums computed for 224.0.0.18 (old keepalived); accepted, but floatip always sends RFC-correct checksums`,
    );
  }
}

function transportKey(o: TransportOptions): string {
  return [o.family, o.ifname, o.sourceIp, [...o.unicastPeers].sort().join(','), o.unicastTtl].join('|');
}
