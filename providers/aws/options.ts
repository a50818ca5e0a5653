/**
 * The aws provider's options (one `providers:` entry of an instance), validated with zod. Keys are
 * snake_case like the rest of the YAML; unknown keys are errors so a typo cannot silently change
 * which mechanism runs. Every message names the key and what to write instead.
 */
import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { parseDuration } from '../../src/config/duration.js';

export const MECHANISMS = ['eip', 'secondary-ip', 'route'] as const;
export type Mechanism = (typeof MECHANISMS)[number];

export interface EipTarget {
  allocationId: string;
  /** The private IP on our ENI to bind to; EC2 picks the ENI's primary when absent. */
  privateIp?: string;
}

interface Common {
  region?: string;
  endpoint?: string;
  imdsEndpoint?: string;
  instanceId?: string;
  eniId?: string;
  /** Bound on one acquire()/holder()/release(), ms, on top of the caller's signal. */
  timeoutMs: number;
  /** Mutating calls in flight at once. */
  maxConcurrency: number;
}

export type AwsOptions = Common &
  (
    | { mechanism: 'eip'; eips: EipTarget[]; detachOnRelease: boolean }
    | {
        mechanism: 'secondary-ip';
        addresses?: string[];
        manageOsAddress: boolean;
        unassignOnRelease: boolean;
      }
    | { mechanism: 'route'; routeTables: string[]; destinations: string[] }
  );

const idOf = (prefix: string, key: string) =>
  z
    .string({ error: `${key} must be a string like ${prefix}-0123456789abcdef0` })
    .regex(new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`), {
      error: (iss) =>
        `'${String(iss.input)}' is not a valid ${key}; write it like ${prefix}-0123456789abcdef0`,
    });

const ipv4 = z.string({ error: 'expected an IPv4 address like 10.0.1.50' }).refine(isIPv4, {
  error: (iss) => `'${String(iss.input)}' is not an IPv4 address (EC2 private IPs are IPv4)`,
});

const cidr4 = z.string({ error: 'expected an IPv4 CIDR like 10.0.1.50/32' }).refine(
  (s) => {
    const [addr, prefix, ...rest] = s.split('/');
    return (
      rest.length === 0 &&
      isIPv4(addr ?? '') &&
      prefix !== undefined &&
      /^\d+$/.test(prefix) &&
      Number(prefix) <= 32
    );
  },
  { error: (iss) => `'${String(iss.input)}' is not an IPv4 CIDR; write e.g. 10.0.1.50/32` },
);

const url = (key: string) =>
  z.string().refine(
    (s) => {
      try {
        const u = new URL(s);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    },
    { error: (iss) => `${key} '${String(iss.input)}' is not an http(s) URL, e.g. http://169.254.169.254` },
  );

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const r = parseDuration(v);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.message });
    return z.NEVER;
  }
  if (r.ms < 100) {
    ctx.addIssue({ code: 'custom', message: `${String(v)} is too short to reach EC2; use at least 100ms` });
    return z.NEVER;
  }
  return r.ms;
});

const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.union([item.transform((v) => [v]), z.array(item).min(1, 'list at least one')]);

const common = {
  mechanism: z.enum(MECHANISMS),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected a region like us-east-1')
    .optional(),
  endpoint: url('endpoint').optional(),
  imds_endpoint: url('imds_endpoint').optional(),
  instance_id: idOf('i', 'instance_id').optional(),
  eni_id: idOf('eni', 'eni_id').optional(),
  timeout: duration.default(10_000),
  max_concurrency: z
    .number()
    .int('max_concurrency must be a whole number')
    .min(1, 'max_concurrency must be at least 1')
    .max(64, 'max_concurrency above 64 only invites throttling; use 1..64')
    .default(8),
};

const eipSchema = z
  .strictObject({
    ...common,
    allocation_id: idOf('eipalloc', 'allocation_id').optional(),
    private_ip: ipv4.optional(),
    eips: z
      .array(
        z.strictObject({ allocation_id: idOf('eipalloc', 'allocation_id'), private_ip: ipv4.optional() }),
      )
      .min(1, 'list at least one { allocation_id, private_ip }')
      .optional(),
    detach_on_release: z.boolean().default(true),
  })
  .superRefine((o, ctx) => {
    if ((o.allocation_id === undefined) === (o.eips === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['allocation_id'],
        message:
          'give allocation_id (one Elastic IP, with optional private_ip) or eips (a list of { allocation_id, private_ip }), exactly one of them',
      });
    }
    if (o.eips !== undefined && o.private_ip !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['private_ip'],
        message: 'with eips, put private_ip inside each entry',
      });
    }
  });

const secondarySchema = z.strictObject({
  ...common,
  addresses: z
    .array(ipv4)
    .min(1, 'list at least one address, or leave addresses out to use the instance VIPs')
    .optional(),
  manage_os_address: z.boolean().default(true),
  unassign_on_release: z.boolean().default(true),
});

const routeSchema = z
  .strictObject({
    ...common,
    route_tables: oneOrMany(idOf('rtb', 'route_tables')),
    destination: cidr4.optional(),
    destinations: z.array(cidr4).min(1, 'list at least one CIDR').optional(),
  })
  .superRefine((o, ctx) => {
    if ((o.destination === undefined) === (o.destinations === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['destination'],
        message:
          'give destination (one CIDR such as 10.0.1.50/32) or destinations (a list), exactly one of them',
      });
    }
  });

function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; see docs/aws.md for the options of each mechanism`;
  }
  const path = issue.path.map(String).join('.');
  if (issue.code === 'invalid_type' && issue.input === undefined) return `option ${path} is required`;
  return path ? `option ${path}: ${issue.message}` : issue.message;
}

/** Throws one Error naming the instance, the key and the fix, listing every problem found. */
export function parseAwsOptions(raw: Record<string, unknown>, instance: string): AwsOptions {
  const prefix = `instance ${instance}: aws provider`;
  const mechanism = raw.mechanism;
  if (typeof mechanism !== 'string' || !(MECHANISMS as readonly string[]).includes(mechanism)) {
    throw new Error(
      `${prefix}: option mechanism must be one of ${MECHANISMS.join(', ')}` +
        (mechanism === undefined ? ' (it is missing)' : `, not ${JSON.stringify(mechanism)}`),
    );
  }
  const schema = mechanism === 'eip' ? eipSchema : mechanism === 'route' ? routeSchema : secondarySchema;
  const r = schema.safeParse(raw);
  if (!r.success) throw new Error(`${prefix}: ${r.error.issues.map(issueText).join('; ')}`);
  const o = r.data;
  const base: Common = { timeoutMs: o.timeout, maxConcurrency: o.max_concurrency };
  if (o.region !== undefined) base.region = o.region;
  if (o.endpoint !== undefined) base.endpoint = o.endpoint;
  if (o.imds_endpoint !== undefined) base.imdsEndpoint = o.imds_endpoint;
  if (o.instance_id !== undefined) base.instanceId = o.instance_id;
  if (o.eni_id !== undefined) base.eniId = o.eni_id;
  if (mechanism === 'eip') {
    const e = o as z.infer<typeof eipSchema>;
    const list = e.eips ?? [{ allocation_id: e.allocation_id!, private_ip: e.private_ip }];
    const eips = list.map((x) => {
      const t: EipTarget = { allocationId: x.allocation_id };
      if (x.private_ip !== undefined) t.privateIp = x.private_ip;
      return t;
    });
    const dup = firstDuplicate(eips.map((x) => x.allocationId));
    if (dup) throw new Error(`${prefix}: option eips: ${dup} is listed twice`);
    // EC2 binds one Elastic IP per private IP and silently unbinds the previous one.
    if (eips.length > 1) {
      const unbound = eips.find((x) => x.privateIp === undefined);
      if (unbound) {
        throw new Error(
          `${prefix}: option eips: ${unbound.allocationId} needs a private_ip: with several Elastic IPs each must go to its own private IP of the ENI`,
        );
      }
      const ipDup = firstDuplicate(eips.map((x) => x.privateIp!));
      if (ipDup)
        throw new Error(
          `${prefix}: option eips: private_ip ${ipDup} is used twice; an ENI private IP takes one Elastic IP`,
        );
    }
    return { ...base, mechanism: 'eip', eips, detachOnRelease: e.detach_on_release };
  }
  if (mechanism === 'route') {
    const rt = o as z.infer<typeof routeSchema>;
    const destinations = rt.destinations ?? [rt.destination!];
    const dup = firstDuplicate(rt.route_tables) ?? firstDuplicate(destinations);
    if (dup) throw new Error(`${prefix}: option route_tables/destinations: ${dup} is listed twice`);
    return { ...base, mechanism: 'route', routeTables: rt.route_tables, destinations };
  }
  const s = o as z.infer<typeof secondarySchema>;
  const out: AwsOptions = {
    ...base,
    mechanism: 'secondary-ip',
    manageOsAddress: s.manage_os_address,
    unassignOnRelease: s.unassign_on_release,
  };
  if (s.addresses !== undefined) {
    const dup = firstDuplicate(s.addresses);
    if (dup) throw new Error(`${prefix}: option addresses: ${dup} is listed twice`);
    out.addresses = s.addresses;
  }
  return out;
}

function firstDuplicate(xs: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const x of xs) {
    if (seen.has(x)) return x;
    seen.add(x);
  }
  return undefined;
}
