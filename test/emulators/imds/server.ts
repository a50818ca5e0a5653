/**
 * IMDSv2: a session token from PUT /latest/api/token, required (by default) on every GET, with its
 * TTL enforced. Serves the metadata paths an AWS provider and the SDK's credential chain read.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ImdsInterface {
  mac: string;
  interfaceId: string;
  deviceNumber: number;
  /** Primary first, as IMDS lists them. */
  localIpv4s: string[];
  publicIpv4s?: string[];
  subnetId?: string;
  vpcId?: string;
}

export interface ImdsRole {
  name: string;
  accessKeyId: string;
  secretAccessKey: string;
  token: string;
  /** Default: six hours after each read, like the real role credentials. */
  expiration?: Date;
}

export interface ImdsInstance {
  instanceId: string;
  region: string;
  availabilityZone: string;
  accountId?: string;
  instanceType?: string;
  imageId?: string;
  /** The device-number 0 interface comes first. */
  interfaces: ImdsInterface[];
  role?: ImdsRole | null;
}

export interface ImdsOptions {
  /** A fixed description, or a function read on every request so it can follow live EC2 state. */
  instance: ImdsInstance | (() => ImdsInstance);
  host?: string;
  port?: number;
  /** 'required' is IMDSv2-only (HttpTokens=required); 'optional' also answers token-less GETs. */
  httpTokens?: 'required' | 'optional';
  clock?: () => number;
}

export interface ImdsRequestRecord {
  method: string;
  path: string;
  status: number;
  time: number;
  withToken: boolean;
}

export interface ImdsEmulator {
  readonly endpoint: string;
  /** PUT /latest/api/token calls that issued a token: a client that caches its token keeps this low. */
  readonly tokenRequests: number;
  readonly requests: readonly ImdsRequestRecord[];
  /** Ends every issued token's life now (the next GET with it gets 401). */
  expireTokens(): void;
  close(): Promise<void>;
}

const MAX_TTL = 21600;

type Tree = { [name: string]: Tree | string };

function metadataTree(i: ImdsInstance, now: number): Tree {
  const primary = i.interfaces[0];
  const macs: Tree = {};
  for (const n of i.interfaces) {
    const entry: Tree = {
      'device-number': String(n.deviceNumber),
      'interface-id': n.interfaceId,
      'local-ipv4s': n.localIpv4s.join('\n'),
      mac: n.mac,
      'owner-id': i.accountId ?? '123456789012',
    };
    if (n.publicIpv4s && n.publicIpv4s.length > 0) entry['public-ipv4s'] = n.publicIpv4s.join('\n');
    if (n.subnetId) entry['subnet-id'] = n.subnetId;
    if (n.vpcId) entry['vpc-id'] = n.vpcId;
    macs[n.mac] = entry;
  }
  const tree: Tree = {
    'ami-id': i.imageId ?? 'ami-0123456789abcdef0',
    'instance-id': i.instanceId,
    'instance-type': i.instanceType ?? 't3.micro',
    placement: { region: i.region, 'availability-zone': i.availabilityZone },
    network: { interfaces: { macs } },
    services: { domain: 'amazonaws.com', partition: 'aws' },
  };
  if (primary) {
    tree.mac = primary.mac;
    const ip = primary.localIpv4s[0];
    if (ip) {
      tree['local-ipv4'] = ip;
      tree['local-hostname'] =
        `ip-${ip.replaceAll('.', '-')}.${i.region === 'us-east-1' ? 'ec2.internal' : `${i.region}.compute.internal`}`;
    }
    const pub = primary.publicIpv4s?.[0];
    if (pub) tree['public-ipv4'] = pub;
  }
  if (i.role) {
    const r = i.role;
    const expiration = r.expiration ?? new Date(now + 6 * 3600_000);
    const lastUpdated = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
    tree.iam = {
      info: JSON.stringify({
        Code: 'Success',
        LastUpdated: lastUpdated,
        InstanceProfileArn: `arn:aws:iam::${i.accountId ?? '123456789012'}:instance-profile/${r.name}`,
        InstanceProfileId: 'AIPAEMULATOR000000000',
      }),
      'security-credentials': {
        [r.name]: JSON.stringify({
          Code: 'Success',
          LastUpdated: lastUpdated,
          Type: 'AWS-HMAC',
          AccessKeyId: r.accessKeyId,
          SecretAccessKey: r.secretAccessKey,
          Token: r.token,
          Expiration: expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        }),
      },
    };
  }
  return tree;
}

function identityDocument(i: ImdsInstance): string {
  return JSON.stringify(
    {
      accountId: i.accountId ?? '123456789012',
      architecture: 'x86_64',
      availabilityZone: i.availabilityZone,
      billingProducts: null,
      devpayProductCodes: null,
      marketplaceProductCodes: null,
      imageId: i.imageId ?? 'ami-0123456789abcdef0',
      instanceId: i.instanceId,
      instanceType: i.instanceType ?? 't3.micro',
      kernelId: null,
      pendingTime: '2024-01-01T00:00:00Z',
      privateIp: i.interfaces[0]?.localIpv4s[0] ?? null,
      ramdiskId: null,
      region: i.region,
      version: '2017-09-30',
    },
    null,
    2,
  );
}

/** Directory paths answer with their children, one per line, sub-directories ending in '/'. */
function lookup(tree: Tree, parts: string[]): string | undefined {
  let node: Tree | string = tree;
  for (const p of parts) {
    if (typeof node === 'string') return undefined;
    const next: Tree | string | undefined = node[p];
    if (next === undefined) return undefined;
    node = next;
  }
  if (typeof node === 'string') return node;
  return Object.entries(node)
    .map(([k, v]) => (typeof v === 'string' ? k : `${k}/`))
    .join('\n');
}

export async function startImdsEmulator(opts: ImdsOptions): Promise<ImdsEmulator> {
  const clock = opts.clock ?? Date.now;
  const httpTokens = opts.httpTokens ?? 'required';
  const tokens = new Map<string, number>(); // token -> expiry (ms)
  const requests: ImdsRequestRecord[] = [];
  let tokenRequests = 0;
  const describe = (): ImdsInstance =>
    typeof opts.instance === 'function' ? opts.instance() : opts.instance;

  function reply(
    res: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ): number {
    res.writeHead(status, {
      'content-type': 'text/plain',
      'content-length': Buffer.byteLength(body),
      ...headers,
    });
    res.end(body);
    return status;
  }

  function serve(req: IncomingMessage, res: ServerResponse): number {
    // The SDK's metadata client may join endpoint and path into '//latest/...'. new URL() would read
    // that as a host name ('latest'), so the path is cut from the raw request target instead.
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = (q < 0 ? target : target.slice(0, q)).replace(/\/{2,}/g, '/');
    const now = clock();
    if (path === '/latest/api/token') {
      if (req.method !== 'PUT') return reply(res, 405, 'Method Not Allowed', { allow: 'PUT' });
      // IMDS refuses token requests that went through a proxy, so a forwarded PUT never gets a token.
      if (req.headers['x-forwarded-for'] !== undefined) return reply(res, 403, 'Forbidden');
      const ttlText = req.headers['x-aws-ec2-metadata-token-ttl-seconds'];
      const ttl = typeof ttlText === 'string' && /^[0-9]+$/.test(ttlText) ? Number(ttlText) : NaN;
      if (!(ttl >= 1 && ttl <= MAX_TTL)) return reply(res, 400, 'Bad Request');
      const token = randomBytes(42).toString('base64');
      tokens.set(token, now + ttl * 1000);
      tokenRequests += 1;
      return reply(res, 200, token, { 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'Method Not Allowed');
    const token = req.headers['x-aws-ec2-metadata-token'];
    if (typeof token === 'string') {
      const expiry = tokens.get(token);
      if (expiry === undefined || expiry <= now) return reply(res, 401, 'Unauthorized');
    } else if (httpTokens === 'required') {
      return reply(res, 401, 'Unauthorized');
    }
    const instance = describe();
    if (path === '/latest/dynamic/instance-identity/document')
      return reply(res, 200, identityDocument(instance));
    const m = /^\/latest\/meta-data(?:\/(.*))?$/.exec(path);
    if (!m) return reply(res, 404, 'Not Found');
    const parts = (m[1] ?? '').split('/').filter((p) => p !== '');
    const body = lookup(metadataTree(instance, now), parts);
    return body === undefined ? reply(res, 404, 'Not Found') : reply(res, 200, body);
  }

  const server = createServer((req, res) => {
    const time = clock();
    const withToken = typeof req.headers['x-aws-ec2-metadata-token'] === 'string';
    // Drain the body: token PUTs carry none, but a client may send one.
    req.resume();
    req.on('end', () => {
      let status: number;
      try {
        status = serve(req, res);
      } catch (e) {
        status = reply(res, 500, `IMDS emulator bug: ${(e as Error).message}`);
      }
      requests.push({ method: req.method ?? '', path: req.url ?? '', status, time, withToken });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    endpoint: `http://${host}:${addr.port}`,
    get tokenRequests() {
      return tokenRequests;
    },
    requests,
    expireTokens() {
      tokens.clear();
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
