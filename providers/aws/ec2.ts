/**
 * The one EC2 client of a provider and the single path every call takes: the deadline signal goes
 * to the SDK (so a call in flight is cut at the deadline), retries are ours (retry.ts), and every
 * failure leaves as an AwsProviderError that names the action and what to do.
 */
import { EC2Client, type EC2ClientConfig } from '@aws-sdk/client-ec2';
import type { Logger } from 'pino';
import { callWithRetry } from './retry.js';

export interface ClientSettings {
  region: string;
  endpoint?: string;
  /** Test seam: extra client settings (e.g. static credentials); the daemon passes none. */
  extra?: Partial<EC2ClientConfig>;
}

export function createEc2Client(s: ClientSettings): EC2Client {
  const config: EC2ClientConfig = {
    region: s.region,
    // The SDK's own retries count attempts and ignore our deadline: one attempt each, retry.ts loops.
    maxAttempts: 1,
    // A connect that takes longer than this is a dead path, better retried on a fresh socket.
    requestHandler: { connectionTimeout: 3000 },
    ...s.extra,
  };
  if (s.endpoint !== undefined) config.endpoint = s.endpoint;
  // Credentials are deliberately not set: the SDK's default chain (env, profile, web identity,
  // container, instance role via IMDS) applies, and prepare()'s first call resolves them.
  return new EC2Client(config);
}

export class Ec2Api {
  /** Calls sent, per action, retries included: the cost of a failover, for logs and tests. */
  readonly sent = new Map<string, number>();

  constructor(
    readonly client: EC2Client,
    private readonly log: Logger,
    private readonly random: () => number,
  ) {}

  call<T>(
    action: string,
    what: string,
    signal: AbortSignal,
    send: (client: EC2Client, abortSignal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    return callWithRetry(
      (s) => {
        this.sent.set(action, (this.sent.get(action) ?? 0) + 1);
        return send(this.client, s);
      },
      {
        action,
        what,
        signal,
        random: this.random,
        onRetry: (r) => this.log.warn(r, `aws: ${action} answered ${r.code}; retrying in ${r.delayMs} ms`),
      },
    );
  }

  destroy(): void {
    this.client.destroy();
  }
}
