/**
 * track_interface and the instance's own interface: up means IFF_UP and IFF_RUNNING, keepalived's
 * FLAGS_UP; an interface that does not exist is down.
 *
 * Polled (SIOCGIFFLAGS, default every second) rather than subscribed to rtnetlink: Node has no
 * AF_NETLINK socket, and a koffi-bound netlink socket needs a blocking recv on a thread of its own
 * (as the IPv6 receive path does) for what is, at a one-second poll, a latency well inside the
 * 3 × advert-interval Master_Down time peers use anyway. The ioctl reads the process's own network
 * namespace, where /sys/class/net may show another.
 */
import type { Logger } from 'pino';
import * as libc from '../transport/libc.js';
import {
  AF_INET,
  IFF_RUNNING,
  IFF_UP,
  ifreq,
  SIOCGIFFLAGS,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
} from '../transport/sockopt.js';
import { showUp, type Observation, type Tracker, type TrackerEvent } from './tracker.js';
import type { Timers } from './types.js';

export type LinkState = 'up' | 'down' | 'absent';
export type LinkReader = (ifname: string) => LinkState;

export const readLinkState: LinkReader = (ifname) => {
  let req: Buffer;
  try {
    req = ifreq(ifname);
  } catch {
    return 'absent';
  }
  const fd = libc.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  try {
    libc.ioctl(fd, SIOCGIFFLAGS, req, `SIOCGIFFLAGS ${ifname}`);
  } catch (err) {
    if (err instanceof libc.SysError && err.code === 'ENODEV') return 'absent';
    throw err;
  } finally {
    libc.close(fd);
  }
  const flags = req.readUInt16LE(16);
  return (flags & IFF_UP) !== 0 && (flags & IFF_RUNNING) !== 0 ? 'up' : 'down';
};

export class InterfaceTracker implements Tracker {
  readonly kind = 'interface' as const;
  readonly firstResult = Promise.resolve();
  private state: LinkState;
  private timer: unknown = null;
  private emit: (e: TrackerEvent) => void = () => {};

  constructor(
    readonly name: string,
    private readonly read: LinkReader,
    private readonly pollMs: number,
    private readonly timers: Timers,
    private readonly log: Logger,
  ) {
    // Known from the start, as keepalived reads interface flags before the first instance runs.
    this.state = this.safeRead();
  }

  observe(): Observation {
    return { up: this.state === 'up' };
  }

  detail(): string {
    return this.state === 'absent' ? 'does not exist' : this.state;
  }

  start(emit: (e: TrackerEvent) => void): void {
    this.emit = emit;
    this.schedule();
  }

  stop(): Promise<void> {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    return Promise.resolve();
  }

  private schedule(): void {
    this.timer = this.timers.setTimeout(() => {
      this.poll();
      this.schedule();
    }, this.pollMs);
  }

  private poll(): void {
    const next = this.safeRead();
    if (next === this.state) return;
    const before = this.observe().up;
    const beforeDetail = this.detail();
    this.state = next;
    const after = this.observe().up;
    if (before !== after) this.emit({ from: showUp(before), to: showUp(after), detail: this.detail() });
    else
      this.log.info(
        { event: 'track-detail', kind: 'interface', tracker: this.name },
        `interface ${this.name}: ${beforeDetail} -> ${this.detail()}`,
      );
  }

  private safeRead(): LinkState {
    try {
      return this.read(this.name);
    } catch (err) {
      this.log.error(
        { event: 'track-error', kind: 'interface', tracker: this.name, err },
        `interface ${this.name}: cannot read link flags; counting it as down`,
      );
      return 'down';
    }
  }
}
