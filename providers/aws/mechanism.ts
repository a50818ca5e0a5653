/** What each AWS mechanism (eip, secondary-ip, route) gives the provider around it. */
import type { Logger } from 'pino';
import type { HolderId } from '../../src/notify/provider.js';
import type { Ec2Api } from './ec2.js';
import type { Identity } from './identity.js';

export interface MechanismEnv {
  api: Ec2Api;
  identity: Identity;
  /** "instance VI_1 aws eip", to start every message with. */
  label: string;
  maxConcurrency: number;
  log: Logger;
}

export interface Mechanism {
  /** Check every configured id exists and make one cheap call (credentials, connection). */
  prepare(signal: AbortSignal): Promise<void>;
  /** Only the mutating calls; the provider confirms with observe() afterwards. */
  mutate(signal: AbortSignal): Promise<void>;
  /** The holder as EC2 reports it now: the ENI id when every item is ours. */
  observe(signal: AbortSignal): Promise<HolderId | null>;
  release(signal: AbortSignal): Promise<void>;
}

/**
 * One holder for several items: ours when every item is ours, else the first item's holder that is
 * not us (null where an item is held by nobody), so a partial takeover never reads as done.
 */
export function combinedHolder(self: HolderId, holders: ReadonlyArray<HolderId | null>): HolderId | null {
  for (const h of holders) if (h !== self) return h;
  return self;
}
