/**
 * Who this node is in EC2 terms (instance id, region, the ENI behind the configured interface),
 * from IMDSv2 unless the config says it outright. The session token is fetched once and reused
 * until shortly before its TTL ends (IMDS rate-limits token PUTs, and a PUT per GET doubles every
 * metadata round trip); a 401 (token revoked, e.g. after an instance stop/start) refreshes it once.
 */

export const DEFAULT_IMDS_ENDPOINT = 'http://169.254.169.254';
/** The longest TTL IMDS grants; one token then serves the daemon's whole start-up and more. */
export const DEFAULT_TOKEN_TTL_S = 21600;
/** IMDS is link-local: an answer takes well under a millisecond, so a second means it is not there. */
const REQUEST_TIMEOUT_MS = 2000;

export interface ImdsClientOptions {
  endpoint?: string;
  tokenTtlSeconds?: number;
  clock?: () => number;
}

export class ImdsClient {
  readonly endpoint: string;
  private readonly ttlS: number;
  private readonly clock: () => number;
  private token: { value: string; refreshAt: number } | null = null;
  private pending: Promise<string> | null = null;

  constructor(o: ImdsClientOptions = {}) {
    this.endpoint = (o.endpoint ?? DEFAULT_IMDS_ENDPOINT).replace(/\/+$/, '');
    this.ttlS = o.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_S;
    this.clock = o.clock ?? Date.now;
  }

  /** GET /latest/meta-data/<path>, trimmed. Throws naming the path and the endpoint. */
  async get(path: string, signal?: AbortSignal): Promise<string> {
    let token = await this.sessionToken(signal);
    let res = await this.fetch(
      `/latest/meta-data/${path}`,
      { headers: { 'x-aws-ec2-metadata-token': token } },
      signal,
    );
    if (res.status === 401) {
      this.token = null;
      token = await this.sessionToken(signal);
      res = await this.fetch(
        `/latest/meta-data/${path}`,
        { headers: { 'x-aws-ec2-metadata-token': token } },
        signal,
      );
    }
    const body = await res.text();
    if (res.status === 404) {
      throw new Error(`IMDS at ${this.endpoint} has no meta-data/${path} (404)`);
    }
    if (!res.ok) throw new Error(`IMDS at ${this.endpoint}: GET meta-data/${path} answered ${res.status}`);
    return body.trim();
  }

  private sessionToken(signal?: AbortSignal): Promise<string> {
    const t = this.token;
    if (t && this.clock() < t.refreshAt) return Promise.resolve(t.value);
    // Concurrent callers share one PUT rather than each fetching a token.
    this.pending ??= this.fetchToken(signal).finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async fetchToken(signal?: AbortSignal): Promise<string> {
    const requestedAt = this.clock();
    const res = await this.fetch(
      '/latest/api/token',
      { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': String(this.ttlS) } },
      signal,
    );
    const body = await res.text();
    if (!res.ok) {
      throw new Error(
        `IMDS at ${this.endpoint} refused a session token (HTTP ${res.status}); IMDSv2 must be enabled and the hop limit high enough for this process`,
      );
    }
    const granted = Number(res.headers.get('x-aws-ec2-metadata-token-ttl-seconds') ?? this.ttlS);
    const ttlMs = (Number.isFinite(granted) && granted > 0 ? granted : this.ttlS) * 1000;
    // Refresh ahead of expiry (a tenth of the TTL, at most a minute) so a GET never races the end.
    const margin = Math.min(60_000, ttlMs / 10);
    this.token = { value: body, refreshAt: requestedAt + ttlMs - margin };
    return body;
  }

  private async fetch(path: string, init: RequestInit, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    try {
      return await fetch(this.endpoint + path, {
        ...init,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      throw new Error(
        `IMDS at ${this.endpoint} did not answer ${init.method ?? 'GET'} ${path} (${(err as Error).message}); ` +
          'outside EC2 set region, instance_id and eni_id in the provider options',
        { cause: err },
      );
    }
  }
}

export interface Identity {
  region: string;
  instanceId: string;
  eniId: string;
}

export interface IdentityOverrides {
  region?: string;
  instanceId?: string;
  eniId?: string;
}

/**
 * Fills in whatever the config left out. The ENI comes from the interface's MAC (what IMDS keys its
 * interface list by), so a second ENI on another device is found without knowing device indexes.
 */
export async function resolveIdentity(
  given: IdentityOverrides,
  imds: () => ImdsClient,
  interfaceMac: () => string,
  signal?: AbortSignal,
): Promise<Identity> {
  const [region, instanceId, eniId] = await Promise.all([
    given.region ?? imds().get('placement/region', signal),
    given.instanceId ?? imds().get('instance-id', signal),
    given.eniId ?? eniByMac(imds(), interfaceMac, signal),
  ]);
  return { region, instanceId, eniId };
}

async function eniByMac(imds: ImdsClient, interfaceMac: () => string, signal?: AbortSignal): Promise<string> {
  const mac = interfaceMac().toLowerCase();
  try {
    return await imds.get(`network/interfaces/macs/${mac}/interface-id`, signal);
  } catch (err) {
    throw new Error(
      `no ENI with MAC ${mac} is attached to this instance according to IMDS (${(err as Error).message}); ` +
        'set eni_id, or point the instance at the interface of the ENI',
      { cause: err },
    );
  }
}
