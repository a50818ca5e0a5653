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
  /** This node's identity in `holder()`'s terms. */
  readonly selfId: HolderId;
  /** The cloud permissions this provider needs, in the cloud's own spelling. */
  readonly permissions: readonly string[];
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
}

export type ProviderFactory = (ctx: ProviderContext) => Provider;
