/**
 * The AWS provider: moves a floating address in a VPC by one of three mechanisms (eip,
 * secondary-ip, route; see docs/aws.md). prepare() resolves every id (IMDSv2 unless configured),
 * builds the one EC2 client and makes one cheap Describe call per mechanism, so credentials are
 * resolved and a connection is open before the first failover. acquire() then sends only the
 * mutating calls and confirms them with a read-back, retried until EC2's eventually consistent
 * Describe shows this node or the deadline passes; it never repeats the mutation on its own (the
 * notify stage's reconcile loop decides that).
 *
 * selfId is this node's ENI id. Deadlines: every call is bounded by the signal passed in and by the
 * `timeout` option (prepare() by `timeout` alone).
 */
import type { EC2ClientConfig } from '@aws-sdk/client-ec2';
import type { Logger } from 'pino';
import type { HolderId, Provider, ProviderContext, ProviderFactory } from '../../src/notify/provider.js';
import { interfaceInfo } from '../../src/transport/interface-info.js';
import { createGarpProvider } from '../garp/index.js';
import { createEc2Client, Ec2Api } from './ec2.js';
import { AwsProviderError } from './errors.js';
import { ImdsClient, resolveIdentity, type Identity } from './identity.js';
import type { Mechanism, MechanismEnv } from './mechanism.js';
import { EipMechanism } from './eip.js';
import { holderAlive } from './liveness.js';
import { parseAwsOptions, type AwsOptions } from './options.js';
import { permissionsFor } from './permissions.js';
import { READBACK_BACKOFF, jitteredDelay, sleep, withDeadline } from './retry.js';
import { RouteMechanism } from './route.js';
import { SecondaryIpMechanism } from './secondary-ip.js';

export type { AwsOptions } from './options.js';
export { AwsProviderError } from './errors.js';

/** Seams for tests and for a host without the real interface; the daemon passes none. */
export interface AwsProviderDeps {
  /** MAC of an OS interface (default: the kernel's, via interfaceInfo). */
  interfaceMac?: (ifname: string) => string;
  /** Builds the OS-address side of secondary-ip (default: the garp provider, announce off). */
  osAddresses?: ProviderFactory;
  /** Jitter source (default Math.random). */
  random?: () => number;
  /** Extra EC2 client settings, e.g. static credentials. */
  clientConfig?: Partial<EC2ClientConfig>;
  /** Clock for the IMDS token's lifetime. */
  clock?: () => number;
}

interface Ready {
  identity: Identity;
  api: Ec2Api;
  mechanism: Mechanism;
  os: Provider | null;
}

export class AwsProvider implements Provider {
  readonly name: string;
  readonly permissions: readonly string[];
  readonly options: AwsOptions;
  private readonly log: Logger;
  private readonly label: string;
  private readonly random: () => number;
  private ready: Ready | null = null;
  private preparing: Promise<Ready> | null = null;
  private imds: ImdsClient | null = null;

  constructor(
    private readonly ctx: ProviderContext,
    private readonly deps: AwsProviderDeps = {},
  ) {
    this.options = parseAwsOptions(ctx.options, ctx.instance);
    this.name = `aws:${this.options.mechanism}`;
    this.permissions = permissionsFor(this.options);
    this.label = `instance ${ctx.instance} aws ${this.options.mechanism}`;
    // The daemon's logger may already carry provider/instance; a second copy makes duplicate JSON keys.
    const bound = ctx.log.bindings();
    this.log = ctx.log.child({
      ...(bound.provider === undefined ? { provider: 'aws' } : {}),
      mechanism: this.options.mechanism,
      ...(bound.instance === undefined ? { instance: ctx.instance } : {}),
    });
    this.random = deps.random ?? Math.random;
    if (this.options.mechanism === 'secondary-ip') this.secondaryAddresses(this.options);
  }

  /** The ENI id: known from eni_id at once, else after prepare() has asked IMDS. */
  get selfId(): HolderId {
    const id = this.ready?.identity.eniId ?? this.options.eniId;
    if (id === undefined) {
      throw new Error(
        `${this.label}: selfId (the ENI id) is known only after prepare(); call prepare() first`,
      );
    }
    return id;
  }

  /** The IMDS client, for tests and diagnostics; null until prepare() needed it. */
  get metadata(): ImdsClient | null {
    return this.imds;
  }

  /** Calls sent per EC2 action since start, retries included. */
  get callsSent(): ReadonlyMap<string, number> {
    return this.ready?.api.sent ?? new Map<string, number>();
  }

  async prepare(): Promise<void> {
    await this.prepared();
  }

  async acquire(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const r = await this.prepared();
    const deadline = withDeadline(signal, this.options.timeoutMs);
    const started = performance.now();
    await r.mechanism.mutate(deadline);
    const mutatedMs = performance.now() - started;
    await this.confirm(r, deadline);
    this.log.info(
      { mutateMs: Math.round(mutatedMs), totalMs: Math.round(performance.now() - started) },
      `${this.label}: ${r.identity.eniId} is now the holder`,
    );
  }

  async release(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const r = await this.prepared();
    await r.mechanism.release(withDeadline(signal, this.options.timeoutMs));
  }

  async holder(signal: AbortSignal): Promise<HolderId | null> {
    signal.throwIfAborted();
    const r = await this.prepared();
    return r.mechanism.observe(withDeadline(signal, this.options.timeoutMs));
  }

  /**
   * Whether another holder's instance is still up (pending/running), as EC2 says: its ENI's
   * attachment, then the instance's state. See liveness.ts for what counts as dead.
   */
  async holderAlive(holder: HolderId, signal: AbortSignal): Promise<boolean | null> {
    signal.throwIfAborted();
    const r = await this.prepared();
    return holderAlive(
      { api: r.api, self: r.identity.eniId, label: this.label },
      holder,
      withDeadline(signal, this.options.timeoutMs),
    );
  }

  /** Frees the client's sockets and the OS-address side; for shutdown and tests. */
  close(): void {
    const r = this.ready;
    this.ready = null;
    this.preparing = null;
    if (!r) return;
    r.api.destroy();
    (r.os as { close?: () => void } | null)?.close?.();
  }

  /**
   * EC2's Describe calls lag its mutations (seconds, occasionally). Polling the read-back is safe;
   * repeating the mutation is not (it could undo a peer's newer takeover), so only reads repeat.
   */
  private async confirm(r: Ready, deadline: AbortSignal): Promise<void> {
    let last: HolderId | null = null;
    for (let attempt = 0; ; attempt++) {
      try {
        last = await r.mechanism.observe(deadline);
      } catch (err) {
        if (err instanceof AwsProviderError && err.kind === 'deadline') throw this.unconfirmed(r, last, err);
        throw err;
      }
      if (last === r.identity.eniId) return;
      try {
        await sleep(jitteredDelay(READBACK_BACKOFF, attempt, this.random), deadline);
      } catch (err) {
        throw this.unconfirmed(r, last, err);
      }
    }
  }

  private unconfirmed(r: Ready, last: HolderId | null, cause: unknown): AwsProviderError {
    return new AwsProviderError(
      `aws: ${this.label}: EC2 accepted the change but its read-back still shows ${last ?? 'no holder'} ` +
        `instead of ${r.identity.eniId} at the deadline; EC2 may be slow to converge or a peer took it back`,
      'read-back',
      'Unconfirmed',
      'unconfirmed',
      1,
      { cause },
    );
  }

  private prepared(): Promise<Ready> {
    if (this.ready) return Promise.resolve(this.ready);
    // A failed prepare() is not cached: the next call (e.g. the notify stage's retry) starts over.
    this.preparing ??= this.doPrepare().then(
      (r) => {
        this.ready = r;
        return r;
      },
      (err: unknown) => {
        this.preparing = null;
        throw err;
      },
    );
    return this.preparing;
  }

  private async doPrepare(): Promise<Ready> {
    const o = this.options;
    const signal = AbortSignal.timeout(o.timeoutMs);
    if (o.imdsEndpoint !== undefined) {
      // The SDK's instance-role credential provider reads its endpoint only from the environment or
      // ~/.aws/config; this makes it use the same metadata service as the identity look-up.
      process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = o.imdsEndpoint;
    }
    const imds = (): ImdsClient => {
      this.imds ??= new ImdsClient({
        ...(o.imdsEndpoint !== undefined ? { endpoint: o.imdsEndpoint } : {}),
        ...(this.deps.clock ? { clock: this.deps.clock } : {}),
      });
      return this.imds;
    };
    const mac = (): string =>
      (this.deps.interfaceMac ?? ((n: string) => interfaceInfo(n).mac))(this.ctx.interface);
    let identity: Identity;
    try {
      identity = await resolveIdentity(
        { ...pick(o, 'region'), ...pick(o, 'instanceId'), ...pick(o, 'eniId') },
        imds,
        mac,
        signal,
      );
    } catch (err) {
      throw new Error(
        `${this.label}: cannot tell which instance and ENI this is: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    const api = new Ec2Api(
      createEc2Client({
        region: identity.region,
        ...pick(o, 'endpoint'),
        ...(this.deps.clientConfig ? { extra: this.deps.clientConfig } : {}),
      }),
      this.log,
      this.random,
    );
    const env: MechanismEnv = {
      api,
      identity,
      label: this.label,
      maxConcurrency: o.maxConcurrency,
      log: this.log,
    };
    let os: Provider | null = null;
    let mechanism: Mechanism;
    if (o.mechanism === 'eip') {
      mechanism = new EipMechanism(env, o.eips, o.detachOnRelease);
    } else if (o.mechanism === 'route') {
      mechanism = new RouteMechanism(env, o.routeTables, o.destinations);
    } else {
      const addresses = this.secondaryAddresses(o);
      os = o.manageOsAddress ? this.osAddresses(addresses) : null;
      mechanism = new SecondaryIpMechanism(env, addresses, os, o.unassignOnRelease);
    }
    try {
      await mechanism.prepare(signal);
    } catch (err) {
      api.destroy();
      (os as { close?: () => void } | null)?.close?.();
      throw err;
    }
    this.log.info(identity, `${this.label}: ready`);
    return { identity, api, mechanism, os };
  }

  /** The configured addresses, else the instance's IPv4 VIPs on its own interface. */
  private secondaryAddresses(o: Extract<AwsOptions, { mechanism: 'secondary-ip' }>): string[] {
    if (o.addresses) return o.addresses;
    const vips = this.ctx.virtualIps
      .filter((v) => v.family === 'ipv4' && (v.dev === undefined || v.dev === this.ctx.interface))
      .map((v) => v.address);
    if (vips.length === 0) {
      throw new Error(
        `${this.label}: no IPv4 virtual_ipaddress on ${this.ctx.interface} to assign; list them in the provider's addresses option`,
      );
    }
    return vips;
  }

  /** The garp provider, announce off: adds/removes the addresses on the OS interface only. */
  private osAddresses(addresses: readonly string[]): Provider {
    const byAddress = new Map(this.ctx.virtualIps.map((v) => [v.address, v]));
    const factory = this.deps.osAddresses ?? createGarpProvider;
    return factory({
      ...this.ctx,
      options: { announce: false, manage_addresses: true },
      virtualIps: addresses.map((address) => {
        const vip = byAddress.get(address);
        // An address that is not a VIP gets /32: EC2 routes it to this host alone.
        return vip ?? { address, prefix: 32, family: 'ipv4' as const };
      }),
    });
  }
}

function pick<T extends object, K extends keyof T>(o: T, k: K): Partial<Pick<T, K>> {
  return o[k] === undefined ? {} : ({ [k]: o[k] } as Partial<Pick<T, K>>);
}

export const createAwsProvider: ProviderFactory = (ctx) => new AwsProvider(ctx);
