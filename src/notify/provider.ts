/**
 * The contract every provider under providers/ implements (see ../shared/DESIGN.md). The notify
 * stage calls these in the instance's configured order on each transition; nothing in src/
 * imports a provider directly except the registry that maps a config `type:` to a factory.
 */

/** Who holds the address as the cloud or the network reports it; compared with `selfId`. */
export type HolderId = string;

export interface Provider {
  readonly name: string;
  /** Resolve ids, warm clients and credentials; fail fast with a clear error. */
  prepare(): Promise<void>;
  /** Make this node the holder. Idempotent: a second call when already holder is cheap. */
  acquire(signal: AbortSignal): Promise<void>;
  /** Optional: let go (graceful stop, FAULT, BACKUP) where the mechanism needs it. */
  release?(signal: AbortSignal): Promise<void>;
  /** Who holds the address now, as the cloud/network says (read-back). */
  holder(signal: AbortSignal): Promise<HolderId | null>;
  /**
   * false for providers with nothing to read back (notify scripts): the notify stage then only
   * calls acquire/release/onTransition and runs no reconcile loop or split-brain rule for them.
   */
  readonly readBack?: boolean;
  /** This node's identity in `holder()`'s terms. */
  readonly selfId: HolderId;
  /** The cloud permissions this provider needs, in the cloud's own spelling. */
  readonly permissions: readonly string[];
  /**
   * Optional: every state change of the instance, in order, for providers that act on more than
   * "become holder / let go" (the `script` provider runs notify_master/backup/fault/stop).
   * Called before acquire() on MASTER and before release() on leaving MASTER.
   */
  onTransition?(t: TransitionNotice, signal: AbortSignal): Promise<void>;
  /**
   * Optional: whether a holder other than us is still alive, as the platform sees it (e.g. its
   * instance is running). Lets a fenced master take over at once when the holder really died.
   * null = cannot tell.
   */
  holderAlive?(holder: HolderId, signal: AbortSignal): Promise<boolean | null>;
  /**
   * Optional: say again, cheaply, that this node holds the address (GARP/NA). Called when a MASTER
   * hears a lower-priority master, e.g. one that was frozen and still has stale neighbour caches
   * pointing at it (keepalived's garp_lower_prio_repeat). Never called for cloud mutations.
   */
  reannounce?(signal: AbortSignal): Promise<void>;
  /** Optional: release sockets and timers at shutdown. */
  close?(): void;
}

export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';

export interface TransitionNotice {
  /** The instance, or the sync group when the instance belongs to one (keepalived's GROUP). */
  kind: 'INSTANCE' | 'GROUP';
  name: string;
  state: NotifyState;
  priority: number;
}

/**
 * A provider failure. `retryable: false` (missing permission, unknown resource) stops the notify
 * stage from retrying: repeating the call cannot help and only delays the log line that can.
 */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProviderError';
  }
}

/** What a provider factory gets: its own options from the config, and the instance around it. */
export interface ProviderContext {
  instance: string;
  interface: string;
  family: 'ipv4' | 'ipv6';
  virtualIps: ReadonlyArray<{
    address: string;
    prefix: number;
    dev?: string;
    label?: string;
    family: 'ipv4' | 'ipv6';
  }>;
  options: Record<string, unknown>;
  /** Global GARP settings from the config (keepalived's vrrp_garp_* and per-instance overrides). */
  garp: { masterDelayMs: number; masterRepeat: number; masterRefreshMs: number; masterRefreshRepeat: number };
  log: import('pino').Logger;
  /**
   * The whole config and the instance's own spec, for providers that need more than their options
   * (the script provider: notify commands, script security, notify_fifo). The daemon always sets
   * both; they are optional so tests of providers that do not need them can leave them out.
   */
  config?: import('../config/model.js').FloatipConfig;
  spec?: import('../config/model.js').InstanceSpec;
}

export type ProviderFactory = (ctx: ProviderContext) => Provider;
