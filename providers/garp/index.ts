/**
 * The L2 provider: puts the instance's VIPs on the interface (rtnetlink) and tells the segment
 * about it with gratuitous ARP / unsolicited neighbour advertisements (AF_PACKET), the way
 * keepalived 2.2.7 does on becoming master. Everything runs in-process; sockets are opened in
 * prepare() so a failover costs a handful of syscalls.
 *
 * holder(): plain L2 has no authority that says who holds an address, so the read-back is local:
 * selfId when every VIP is on its interface here, null otherwise. It cannot see another node
 * holding the address too; VRRP is what keeps that from happening.
 *
 * release() removes every configured VIP that is present on its interface, whether this process
 * added it or found it there (a leftover of a crashed run would otherwise keep answering ARP on a
 * backup), like keepalived, which also clears its VIPs at start-up.
 *
 * The signal given to acquire() bounds the schedule it starts: aborting it (like release())
 * cancels the delayed second burst and the refresh timer. Pass a signal that lives as long as
 * this node is master, not a per-call deadline.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { HolderId, Provider, ProviderContext, ProviderFactory } from '../../src/notify/provider.js';
import { bytesToIp, ipToBytes } from '../../src/vrrp/addr.js';
import { Announcer, type BurstReason, type Timers } from './announcer.js';
import { ETH_P_ARP, ETH_P_IPV6, garpFrame, unsolicitedNaFrame } from './frames.js';
import { Ipv6Forwarding, linkFacts, type LinkFacts } from './link.js';
import { RtNetlink, type AddressRequest } from './netlink.js';
import { parseGarpOptions, type GarpOptions } from './options.js';
import { PacketSocket } from './packet-socket.js';

export type { GarpOptions } from './options.js';

interface Vip {
  address: string;
  /** Canonical text, to compare with what the kernel lists. */
  canonical: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
  ifname: string;
  label?: string;
}

interface Prepared {
  links: Map<string, LinkFacts>;
  sockets: Map<string, PacketSocket>;
  netlink: RtNetlink;
  /** Prebuilt ARP frames, null where the interface is NOARP; NA frames are built per burst. */
  arp: Map<Vip, Buffer | null>;
}

/** Extra knobs for tests; the daemon uses the defaults. */
export interface GarpTestHooks {
  timers?: Timers;
}

export class GarpProvider implements Provider {
  readonly name = 'garp';
  readonly selfId: HolderId;
  readonly permissions: readonly string[] = [];
  readonly options: GarpOptions;
  private readonly vips: Vip[];
  private readonly log: Logger;
  private readonly announcer: Announcer;
  private readonly forwarding = new Ipv6Forwarding();
  private prepared: Prepared | null = null;
  private detachAbort: (() => void) | null = null;
  /** Outcome of the latest burst, for acquire() to judge the first one. */
  private lastBurst = { sent: 0, failed: 0, firstError: '' };

  constructor(
    private readonly ctx: ProviderContext,
    hooks: GarpTestHooks = {},
  ) {
    this.options = parseGarpOptions(ctx.options, ctx.instance);
    this.log = ctx.log.child({ provider: 'garp', instance: ctx.instance });
    this.selfId = `${hostname()}/${ctx.interface}`;
    this.vips = ctx.virtualIps.map((v) => {
      const vip: Vip = {
        address: v.address,
        canonical: canonical(v.address, ctx.instance),
        prefix: v.prefix,
        family: v.family,
        ifname: v.dev ?? ctx.interface,
      };
      if (v.label !== undefined) vip.label = v.label;
      return vip;
    });
    if (this.vips.length === 0) {
      throw new Error(
        `instance ${ctx.instance}: garp provider: the instance has no virtual_ipaddress to manage`,
      );
    }
    this.announcer = new Announcer(
      {
        repeat: ctx.garp.masterRepeat,
        delayMs: ctx.garp.masterDelayMs,
        refreshMs: ctx.garp.masterRefreshMs,
        refreshRepeat: ctx.garp.masterRefreshRepeat,
      },
      (rounds, reason) => this.burst(rounds, reason),
      hooks.timers,
    );
  }

  prepare(): Promise<void> {
    if (this.prepared) return Promise.resolve();
    const links = new Map<string, LinkFacts>();
    const sockets = new Map<string, PacketSocket>();
    let netlink: RtNetlink | null = null;
    try {
      for (const name of new Set(this.vips.map((v) => v.ifname))) {
        links.set(name, linkFacts(name));
      }
      netlink = new RtNetlink();
      const arp = new Map<Vip, Buffer | null>();
      if (this.options.announce) {
        for (const [name, link] of links) sockets.set(name, new PacketSocket(name, link.index));
        for (const v of this.vips) {
          if (v.family !== 'ipv4') continue;
          const link = links.get(v.ifname)!;
          arp.set(v, link.noArp ? null : garpFrame(link.mac, v.address));
          if (link.noArp)
            this.log.warn(
              { interface: v.ifname },
              `interface ${v.ifname} is NOARP: no gratuitous ARP for ${v.address}`,
            );
        }
      }
      this.prepared = { links, sockets, netlink, arp };
      return Promise.resolve();
    } catch (err) {
      for (const s of sockets.values()) s.close();
      netlink?.close();
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  async acquire(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await this.prepare();
    // Aborted while prepare() ran: an abort listener added now would never fire.
    signal.throwIfAborted();
    const p = this.prepared!;
    if (this.options.manageAddresses) {
      for (const v of this.vips) {
        const r = p.netlink.addAddress(this.request(v, p));
        this.log.debug({ vip: `${v.address}/${v.prefix}`, interface: v.ifname, result: r }, 'address');
      }
    }
    if (!this.options.announce) return;
    this.detachAbort?.();
    this.announcer.start();
    const onAbort = (): void => this.stopAnnouncing();
    signal.addEventListener('abort', onAbort, { once: true });
    this.detachAbort = () => signal.removeEventListener('abort', onAbort);
    const { sent, failed, firstError } = this.lastBurst;
    if (sent === 0 && failed > 0) {
      this.stopAnnouncing();
      throw new Error(
        `garp: instance ${this.ctx.instance}: no announcement could be sent (${firstError}); check that the interface is up`,
      );
    }
  }

  /**
   * A lower-priority master showed up (one that was frozen, say): announce again so neighbours
   * that followed its stale announcements come back, as keepalived's garp_lower_prio_repeat does.
   * The addresses are not touched; the schedule (burst, delayed burst, refresh) restarts.
   */
  reannounce(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.options.announce && this.prepared) this.announcer.start();
    return Promise.resolve();
  }

  release(signal: AbortSignal): Promise<void> {
    this.stopAnnouncing();
    signal.throwIfAborted();
    const p = this.prepared;
    if (!this.options.manageAddresses || !p) return Promise.resolve();
    for (const v of this.vips) {
      const r = p.netlink.deleteAddress(this.request(v, p));
      this.log.debug({ vip: `${v.address}/${v.prefix}`, interface: v.ifname, result: r }, 'address');
    }
    return Promise.resolve();
  }

  async holder(signal: AbortSignal): Promise<HolderId | null> {
    signal.throwIfAborted();
    await this.prepare();
    const p = this.prepared!;
    const present = new Set(p.netlink.listAddresses().map((a) => `${a.ifindex}|${a.address}`));
    const all = this.vips.every((v) => present.has(`${p.links.get(v.ifname)!.index}|${v.canonical}`));
    return all ? this.selfId : null;
  }

  /** True while a delayed burst or the refresh is pending. */
  get announcing(): boolean {
    return this.announcer.active;
  }

  /** Stops announcing and closes the sockets; not part of the contract, for shutdown and tests. */
  close(): void {
    this.stopAnnouncing();
    const p = this.prepared;
    this.prepared = null;
    if (!p) return;
    for (const s of p.sockets.values()) s.close();
    p.netlink.close();
  }

  private stopAnnouncing(): void {
    this.announcer.stop();
    this.detachAbort?.();
    this.detachAbort = null;
  }

  private request(v: Vip, p: Prepared): AddressRequest {
    const req: AddressRequest = {
      ifindex: p.links.get(v.ifname)!.index,
      ifname: v.ifname,
      family: v.family,
      address: v.address,
      prefix: v.prefix,
    };
    if (v.label !== undefined) req.label = v.label;
    return req;
  }

  /** keepalived's order: round by round, each round every VIP in configuration order. */
  private burst(rounds: number, reason: BurstReason): void {
    const p = this.prepared;
    const result = { sent: 0, failed: 0, firstError: '' };
    this.lastBurst = result;
    if (!p) return;
    const frames: Array<{ vip: Vip; frame: Buffer; type: number; socket: PacketSocket }> = [];
    for (const v of this.vips) {
      const socket = p.sockets.get(v.ifname);
      if (!socket) continue;
      if (v.family === 'ipv4') {
        const f = p.arp.get(v);
        if (f) frames.push({ vip: v, frame: f, type: ETH_P_ARP, socket });
      } else {
        const link = p.links.get(v.ifname)!;
        const f = unsolicitedNaFrame(link.mac, v.address, this.forwarding.get(v.ifname));
        frames.push({ vip: v, frame: f, type: ETH_P_IPV6, socket });
      }
    }
    for (let r = 0; r < rounds; r++) {
      for (const { vip, frame, type, socket } of frames) {
        const err = socket.send(frame, type);
        if (err === null) {
          result.sent++;
          continue;
        }
        result.failed++;
        if (!result.firstError) {
          result.firstError = `${err} sending on ${vip.ifname} for ${vip.address}`;
        }
      }
    }
    if (result.failed > 0) {
      this.log.warn(
        { reason, sent: result.sent, failed: result.failed },
        `announcements failed: ${result.firstError}`,
      );
    } else {
      this.log.debug({ reason, sent: result.sent }, 'announced');
    }
  }
}

function canonical(address: string, instance: string): string {
  try {
    const b = ipToBytes(address);
    return bytesToIp(b, b.length === 4 ? 'ipv4' : 'ipv6');
  } catch (err) {
    throw new Error(`instance ${instance}: garp provider: ${(err as Error).message}`);
  }
}

export const createGarpProvider: ProviderFactory = (ctx) => new GarpProvider(ctx);
