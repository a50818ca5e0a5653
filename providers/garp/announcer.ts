/**
 * When announcements go out while this node holds the VIPs, as keepalived 2.2.7 times them
 * (vrrp.c vrrp_state_become_master / vrrp_send_link_update, vrrp_scheduler.c
 * vrrp_gratuitous_arp_thread):
 *
 * - at once: `repeat` rounds, each round one frame per VIP in configuration order;
 * - after `delayMs` (0 = never): another `repeat` rounds;
 * - every `refreshMs` (0 = never) while held: `refreshRepeat` rounds.
 *
 * keepalived checks the refresh deadline only when it sends an advert, so its refresh drifts by up
 * to one advert interval; here it runs on its own timer, which is at least as punctual.
 */

export interface AnnouncePlan {
  repeat: number;
  delayMs: number;
  refreshMs: number;
  refreshRepeat: number;
}

/** The timer functions used, injectable so tests can drive time. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    // Announcements never keep a process alive on their own: the daemon's sockets do that.
    t.unref();
    return t;
  },
  clearTimeout(h) {
    clearTimeout(h as NodeJS.Timeout);
  },
};

export type BurstReason = 'acquire' | 'delay' | 'refresh';

export class Announcer {
  private delayTimer: unknown = null;
  private refreshTimer: unknown = null;
  private session = 0;

  /** `burst(rounds, reason)` sends `rounds` rounds over all VIPs; it must not throw. */
  constructor(
    private readonly plan: AnnouncePlan,
    private readonly burst: (rounds: number, reason: BurstReason) => void,
    private readonly timers: Timers = realTimers,
  ) {}

  /** True while a follow-up burst or the refresh is scheduled. */
  get active(): boolean {
    return this.delayTimer !== null || this.refreshTimer !== null;
  }

  /**
   * Sends the first burst now, before returning, and schedules the rest; a previous schedule is
   * replaced.
   */
  start(): void {
    this.stop();
    const session = this.session;
    this.burst(this.plan.repeat, 'acquire');
    if (this.plan.delayMs > 0) {
      this.delayTimer = this.timers.setTimeout(() => {
        this.delayTimer = null;
        if (session === this.session) this.burst(this.plan.repeat, 'delay');
      }, this.plan.delayMs);
    }
    if (this.plan.refreshMs > 0) this.scheduleRefresh(session);
  }

  /** Cancels whatever is scheduled; a burst already on the wire is not recalled. */
  stop(): void {
    this.session++;
    if (this.delayTimer !== null) this.timers.clearTimeout(this.delayTimer);
    if (this.refreshTimer !== null) this.timers.clearTimeout(this.refreshTimer);
    this.delayTimer = null;
    this.refreshTimer = null;
  }

  private scheduleRefresh(session: number): void {
    this.refreshTimer = this.timers.setTimeout(() => {
      this.refreshTimer = null;
      if (session !== this.session) return;
      this.burst(this.plan.refreshRepeat, 'refresh');
      if (session === this.session) this.scheduleRefresh(session);
    }, this.plan.refreshMs);
  }
}
