/**
 * floatip's native YAML format: parsed with `yaml` (keeping node positions), validated with a
 * strict zod schema (unknown keys are errors: the format is ours, a typo must not be silently
 * ignored), then mapped onto the model. Every schema issue is reported at the line and column
 * of the YAML node it concerns. docs/configuration.md is the reference for this schema.
 */
import { isIP } from 'node:net';
import { LineCounter, isMap, isNode, isPair, isScalar, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import type {
  ConfigDiagnostic,
  FloatipConfig,
  HttpCheckSpec,
  InstanceSpec,
  NotifyTimings,
  NotifyCommands,
  ProviderSpec,
  SourcePos,
  TcpCheckSpec,
  TrackRef,
  VirtualAddress,
} from './model.js';
import { parseDuration } from './duration.js';
import { PosIndex, familyOf, normalizeAdvertInterval } from './validate.js';

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const r = parseDuration(v);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.message });
    return z.NEVER;
  }
  return r.ms;
});

/** A duration of at least `minMs` (a 0 ms deadline or read-back period would spin). */
const durationAtLeast = (minMs: number, what: string) =>
  duration.refine((ms) => ms >= minMs, { error: `${what} must be at least ${minMs} ms` });

const notifyTimingKeys = {
  provider_timeout: durationAtLeast(100, 'provider_timeout').optional(),
  reconcile_interval: durationAtLeast(100, 'reconcile_interval').optional(),
  hold_off: duration.optional(),
};

const int = (min: number, max: number) =>
  z
    .number({ error: `expected a whole number in ${min}..${max}` })
    .int(`expected a whole number in ${min}..${max}`)
    .min(min, { error: (iss) => `${String(iss.input)} is out of range; use ${min}..${max}` })
    .max(max, { error: (iss) => `${String(iss.input)} is out of range; use ${min}..${max}` });

const ipAddress = z.string().refine((s) => isIP(s) !== 0, { message: 'expected an IPv4 or IPv6 address' });

const addressWithPrefix = z.string().refine(
  (s) => {
    const [addr, prefix, ...rest] = s.split('/');
    const v = isIP(addr ?? '');
    if (v === 0 || rest.length > 0) return false;
    if (prefix === undefined) return true;
    return /^\d+$/.test(prefix) && Number(prefix) <= (v === 4 ? 32 : 128);
  },
  { message: 'expected ADDRESS or ADDRESS/PREFIX, e.g. 10.0.0.100/24 or fd00::100/64' },
);

const vipSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { address: v } : v),
  z.strictObject({
    address: addressWithPrefix,
    dev: z.string().min(1).optional(),
    label: z.string().min(1).optional(),
  }),
);

const trackEntry = (lo: number, hi: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' ? { name: v } : v),
    z.strictObject({
      name: z.string().min(1),
      weight: int(lo, hi).optional(),
      reverse: z.boolean().optional(),
    }),
  );

const trackSchema = z.strictObject({
  scripts: z.array(trackEntry(-253, 253)).default([]),
  interfaces: z.array(trackEntry(-253, 253)).default([]),
  processes: z.array(trackEntry(-254, 254)).default([]),
  files: z.array(trackEntry(-254, 254)).default([]),
});

const command = z.string().min(1, 'expected a command');
const notifySchema = z.strictObject({
  master: command.optional(),
  backup: command.optional(),
  fault: command.optional(),
  stop: command.optional(),
  generic: command.optional(),
  deleted: command.optional(),
});

const providerSchema = z.looseObject({
  type: z.string().min(1, 'expected a provider type such as garp or aws'),
});

const authSchema = z.strictObject({
  type: z.string().superRefine((t, ctx) => {
    if (t === 'AH') {
      ctx.addIssue({
        code: 'custom',
        message: 'AH (IPsec authentication header) is not supported by floatip; use type PASS or remove auth',
      });
    } else if (t !== 'PASS') {
      ctx.addIssue({ code: 'custom', message: `unknown auth type '${t}'; use PASS` });
    }
  }),
  password: z
    .string()
    .min(1, 'expected a password of 1..8 bytes')
    .refine((p) => Buffer.byteLength(p, 'utf8') <= 8, {
      message: 'VRRPv2 carries 8 bytes of password; use at most 8 (keepalived would silently truncate it)',
    }),
});

const instanceSchema = z.strictObject({
  name: z.string().min(1),
  interface: z.string().min(1).max(15, 'interface names are at most 15 characters'),
  vrid: int(1, 255),
  priority: int(1, 255).default(100),
  advert_interval: duration.default(1000),
  version: z.union([z.literal(2), z.literal(3)], { error: 'version must be 2 or 3' }).optional(),
  state: z.enum(['MASTER', 'BACKUP']).optional(),
  preempt: z.boolean().default(true),
  preempt_delay: duration.default(0),
  down_timer_adverts: int(1, 100).optional(),
  source_ip: ipAddress.optional(),
  unicast: z
    .strictObject({
      source: ipAddress.optional(),
      peers: z.array(ipAddress).default([]),
      ttl: int(0, 255).default(255),
      check_source: z.boolean().default(true),
    })
    .optional(),
  auth: authSchema.optional(),
  virtual_ips: z.array(vipSchema).default([]),
  excluded_virtual_ips: z.array(vipSchema).default([]),
  track: trackSchema.optional(),
  notify: notifySchema.optional(),
  providers: z.array(providerSchema).optional(),
  garp_master_delay: duration.optional(),
  garp_master_repeat: int(1, 2 ** 32 - 1).optional(),
  garp_master_refresh: duration.optional(),
  ...notifyTimingKeys,
});

/** What vrrp_script and floatip's http and tcp checks share. */
const checkTiming = {
  interval: duration.default(1000),
  timeout: duration.optional(),
  weight: int(-253, 253).default(0),
  reverse: z.boolean().default(false),
  rise: int(1, 2 ** 31 - 1).default(1),
  fall: int(1, 2 ** 31 - 1).default(1),
  init_fail: z.boolean().default(false),
};

const scriptSchema = z.strictObject({
  script: command,
  ...checkTiming,
  user: z.string().min(1).optional(),
  group: z.string().min(1).optional(),
});

const httpCheckSchema = z.strictObject({
  url: z.string().refine((u) => /^https?:\/\/[^/]/.test(u) && URL.canParse(u), {
    message: 'expected an http:// or https:// URL',
  }),
  expect_status: int(100, 599).default(200),
  ...checkTiming,
});

const tcpCheckSchema = z.strictObject({
  host: z.string().min(1, 'expected a host name or address'),
  port: int(1, 65535),
  ...checkTiming,
});

const processSchema = z.strictObject({
  process: z.string().min(1),
  params: z.string().optional(),
  param_match: z.enum(['exact', 'partial', 'initial']).optional(),
  weight: int(-254, 254).default(0),
  reverse: z.boolean().default(false),
  quorum: int(0, 65535).default(1),
  quorum_max: int(0, 65535).optional(),
  delay: duration.default(0),
  terminate_delay: duration.optional(),
  fork_delay: duration.optional(),
});

const fileSchema = z.strictObject({
  file: z.string().min(1),
  weight: int(-254, 254).default(1),
  reverse: z.boolean().default(false),
  init_file: z
    .strictObject({ value: int(-254, 254).default(0), overwrite: z.boolean().default(false) })
    .optional(),
});

const syncGroupSchema = z.strictObject({
  members: z.array(z.string().min(1)),
  notify: notifySchema.optional(),
  track: trackSchema.optional(),
});

const globalSchema = z.strictObject({
  router_id: z.string().min(1).optional(),
  garp_master_delay: duration.default(5000),
  garp_master_repeat: int(1, 2 ** 32 - 1).default(5),
  garp_master_refresh: duration.default(0),
  garp_master_refresh_repeat: int(1, 2 ** 32 - 1).default(1),
  vrrp_version: z.union([z.literal(2), z.literal(3)], { error: 'vrrp_version must be 2 or 3' }).default(3),
  down_timer_adverts: int(1, 100).default(3),
  script_user: z.string().min(1).optional(),
  script_group: z.string().min(1).optional(),
  enable_script_security: z.boolean().default(false),
  notify_fifo: z.string().min(1).optional(),
  notify_fifo_script: command.optional(),
  check_unicast_src: z.boolean().optional(),
  ...notifyTimingKeys,
});

const name = z.string().min(1);
export const yamlConfigSchema = z.strictObject({
  global: globalSchema.default(() => globalSchema.parse({})),
  control: z.strictObject({ listen: z.string().min(1) }).optional(),
  instances: z.array(instanceSchema).min(1, 'define at least one instance under instances:'),
  scripts: z.record(name, scriptSchema).default({}),
  processes: z.record(name, processSchema).default({}),
  files: z.record(name, fileSchema).default({}),
  sync_groups: z.record(name, syncGroupSchema).default({}),
  http_checks: z.record(name, httpCheckSchema).default({}),
  tcp_checks: z.record(name, tcpCheckSchema).default({}),
});

type YamlConfig = z.infer<typeof yamlConfigSchema>;
type Path = readonly (string | number)[];

export interface YamlLoadResult {
  config: FloatipConfig | null;
  positions: PosIndex | null;
  diagnostics: ConfigDiagnostic[];
}

export function loadYamlText(text: string, file: string): YamlLoadResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const diagnostics: ConfigDiagnostic[] = [];
  const at = (offset: number): SourcePos => {
    const { line, col } = lc.linePos(offset);
    return { file, line: Math.max(1, line), col: Math.max(1, col) };
  };
  for (const e of doc.errors) {
    diagnostics.push({
      severity: 'error',
      message: `YAML syntax: ${firstLine(e.message)}`,
      pos: at(e.pos[0]),
    });
  }
  for (const w of doc.warnings) {
    diagnostics.push({ severity: 'warning', message: `YAML: ${firstLine(w.message)}`, pos: at(w.pos[0]) });
  }
  if (doc.errors.length > 0) return { config: null, positions: null, diagnostics };

  const locate = new Locator(doc, at);
  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) {
    diagnostics.push({
      severity: 'error',
      message: 'the configuration is empty; define at least instances:',
      pos: { file, line: 1, col: 1 },
    });
    return { config: null, positions: null, diagnostics };
  }
  const parsed = yamlConfigSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          diagnostics.push({
            severity: 'error',
            message: `${describe([...path, key])}: unknown key '${key}'${suggest(key, path)}`,
            pos: locate.key(path, key),
          });
        }
        continue;
      }
      diagnostics.push({
        severity: 'error',
        message: `${describe(path)}: ${issueMessage(issue)}`,
        pos: locate.node(path),
      });
    }
    return { config: null, positions: null, diagnostics };
  }
  const positions = new PosIndex();
  const config = toModel(parsed.data, file, locate, positions, diagnostics);
  return { config, positions, diagnostics };
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.input === undefined) return `is required (${issue.expected})`;
  if (issue.code === 'invalid_value')
    return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return issue.message;
}

function describe(path: Path): string {
  if (path.length === 0) return 'configuration';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

const KEY_HINTS: Record<string, string> = {
  virtual_router_id: 'vrid',
  advert_int: 'advert_interval',
  virtual_ipaddress: 'virtual_ips',
  unicast_peer: 'unicast.peers',
  unicast_src_ip: 'unicast.source',
  authentication: 'auth',
  nopreempt: 'preempt: false',
  track_script: 'track.scripts',
  vrrp_garp_master_delay: 'garp_master_delay',
};

function suggest(key: string, _path: Path): string {
  const hint = KEY_HINTS[key];
  return hint ? `; did you mean '${hint}'?` : '; remove it or check the spelling in docs/configuration.md';
}

/** Finds YAML nodes for schema paths, falling back to the nearest existing ancestor. */
class Locator {
  constructor(
    private readonly doc: Document,
    private readonly at: (offset: number) => SourcePos,
  ) {}

  has(path: Path): boolean {
    return this.doc.hasIn(path);
  }

  node(path: Path): SourcePos {
    for (let n = path.length; n >= 0; n--) {
      const node: unknown = this.doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return this.at(node.range[0]);
    }
    return this.at(0);
  }

  key(path: Path, key: string): SourcePos {
    const parent: unknown = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    if (isMap(parent)) {
      for (const item of parent.items) {
        if (isPair(item) && isScalar(item.key) && item.key.value === key && item.key.range) {
          return this.at(item.key.range[0]);
        }
      }
    }
    return this.node(path);
  }
}

function toModel(
  y: YamlConfig,
  file: string,
  loc: Locator,
  positions: PosIndex,
  diags: ConfigDiagnostic[],
): FloatipConfig {
  const g = y.global;
  const config: FloatipConfig = {
    file,
    format: 'yaml',
    global: {
      garpMasterDelayMs: g.garp_master_delay,
      garpMasterRepeat: g.garp_master_repeat,
      garpMasterRefreshMs: g.garp_master_refresh,
      garpMasterRefreshRepeat: g.garp_master_refresh_repeat,
      enableScriptSecurity: g.enable_script_security,
      vrrpVersion: g.vrrp_version,
      extra: {},
    },
    instances: [],
    scripts: [],
    processes: [],
    files: [],
    syncGroups: [],
  };
  const gl = config.global;
  if (g.router_id !== undefined) gl.routerId = g.router_id;
  if (g.script_user !== undefined) gl.scriptUser = g.script_user;
  if (g.script_group !== undefined) gl.scriptGroup = g.script_group;
  if (g.notify_fifo !== undefined) gl.notifyFifo = g.notify_fifo;
  if (g.notify_fifo_script !== undefined) gl.notifyFifoScript = g.notify_fifo_script;
  if (g.check_unicast_src !== undefined) gl.checkUnicastSrc = g.check_unicast_src;
  if (y.control) gl.controlListen = y.control.listen;
  const globalTimings = timingsOf(g);
  if (globalTimings) gl.notifyTimings = globalTimings;

  y.instances.forEach((yi, i) => {
    const base: Path = ['instances', i];
    const p = (...rest: (string | number)[]): SourcePos => loc.node([...base, ...rest]);
    const vips = yi.virtual_ips.map((v, j) => toVip(v, loc.node([...base, 'virtual_ips', j]), positions));
    const evips = yi.excluded_virtual_ips.map((v, j) =>
      toVip(v, loc.node([...base, 'excluded_virtual_ips', j]), positions),
    );
    const source = yi.unicast?.source ?? yi.source_ip;
    const first = vips[0];
    const family = first ? first.family : source ? (familyOf(source) ?? 'ipv4') : 'ipv4';
    const version: 2 | 3 = yi.version ?? (family === 'ipv6' ? 3 : g.vrrp_version);
    const inst: InstanceSpec = {
      name: yi.name,
      interface: yi.interface,
      vrid: yi.vrid,
      priority: yi.priority,
      advertIntervalCs: 0,
      version,
      family,
      preempt: yi.preempt,
      preemptDelayMs: yi.preempt_delay,
      downTimerAdverts: yi.down_timer_adverts ?? g.down_timer_adverts,
      unicastPeers: yi.unicast?.peers ?? [],
      unicastTtl: yi.unicast?.ttl ?? 255,
      checkUnicastSrc: yi.unicast?.check_source ?? true,
      virtualIps: vips,
      excludedVirtualIps: evips,
      trackScripts: trackRefs(yi.track?.scripts, [...base, 'track', 'scripts'], loc, positions),
      trackInterfaces: trackRefs(yi.track?.interfaces, [...base, 'track', 'interfaces'], loc, positions),
      trackProcesses: trackRefs(yi.track?.processes, [...base, 'track', 'processes'], loc, positions),
      trackFiles: trackRefs(yi.track?.files, [...base, 'track', 'files'], loc, positions),
      notify: notifyOf(yi.notify),
      providers: [],
      extra: {},
      pos: p(),
    };
    if (yi.state) inst.initialState = yi.state;
    if (source !== undefined) inst.unicastSrcIp = source;
    if (
      yi.unicast?.source !== undefined &&
      yi.source_ip !== undefined &&
      yi.unicast.source !== yi.source_ip
    ) {
      diags.push({
        severity: 'error',
        message: `instances[${i}]: source_ip ${yi.source_ip} and unicast.source ${yi.unicast.source} disagree; set only one`,
        pos: p('source_ip'),
      });
    }
    if (yi.auth) {
      const password = Buffer.alloc(8);
      Buffer.from(yi.auth.password, 'utf8').copy(password);
      inst.auth = { type: 'PASS', password };
      positions.set(inst, 'auth', p('auth'));
    }
    if (yi.garp_master_delay !== undefined) inst.garpMasterDelayMs = yi.garp_master_delay;
    if (yi.garp_master_repeat !== undefined) inst.garpMasterRepeat = yi.garp_master_repeat;
    if (yi.garp_master_refresh !== undefined) inst.garpMasterRefreshMs = yi.garp_master_refresh;
    const timings = timingsOf(yi);
    if (timings) inst.notifyTimings = timings;
    inst.providers = yi.providers
      ? yi.providers.map((pr, j): ProviderSpec => {
          const { type, ...options } = pr;
          return { type, options, pos: p('providers', j) };
        })
      : [{ type: 'garp', options: {}, pos: p() }];

    const fields: [string, string][] = [
      ['vrid', 'vrid'],
      ['priority', 'priority'],
      ['advertIntervalCs', 'advert_interval'],
      ['version', 'version'],
      ['preempt', 'preempt'],
      ['preemptDelayMs', 'preempt_delay'],
      ['interface', 'interface'],
      ['initialState', 'state'],
    ];
    for (const [field, key] of fields) {
      if (yi[key as keyof typeof yi] !== undefined && loc.has([...base, key]))
        positions.set(inst, field, p(key));
    }
    if (yi.unicast?.source !== undefined) positions.set(inst, 'unicastSrcIp', p('unicast', 'source'));
    else if (yi.source_ip !== undefined) positions.set(inst, 'unicastSrcIp', p('source_ip'));
    inst.unicastPeers.forEach((_, j) => positions.set(inst, `peer:${j}`, p('unicast', 'peers', j)));

    inst.advertIntervalCs = normalizeAdvertInterval(
      yi.advert_interval,
      version,
      yi.name,
      positions.get(inst, 'advertIntervalCs'),
      diags,
    );
    config.instances.push(inst);
  });

  for (const [sname, s] of Object.entries(y.scripts)) {
    const spec: FloatipConfig['scripts'][number] = {
      name: sname,
      script: s.script,
      ...checkTimingOf(s),
      pos: loc.key(['scripts'], sname),
    };
    if (s.user !== undefined) spec.user = s.user;
    if (s.group !== undefined) spec.group = s.group;
    config.scripts.push(spec);
  }
  for (const [cname, c] of Object.entries(y.http_checks)) {
    const spec: HttpCheckSpec = {
      name: cname,
      url: c.url,
      expectStatus: c.expect_status,
      ...checkTimingOf(c),
      pos: loc.key(['http_checks'], cname),
    };
    (config.httpChecks ??= []).push(spec);
  }
  for (const [cname, c] of Object.entries(y.tcp_checks)) {
    const spec: TcpCheckSpec = {
      name: cname,
      host: c.host,
      port: c.port,
      ...checkTimingOf(c),
      pos: loc.key(['tcp_checks'], cname),
    };
    (config.tcpChecks ??= []).push(spec);
  }
  for (const [pname, pr] of Object.entries(y.processes)) {
    const spec: FloatipConfig['processes'][number] = {
      name: pname,
      process: pr.process,
      weight: pr.weight,
      weightReverse: pr.reverse,
      quorum: pr.quorum,
      delayMs: pr.delay,
      pos: loc.key(['processes'], pname),
    };
    if (pr.params !== undefined) spec.params = pr.params;
    const match = pr.param_match ?? (pr.params !== undefined ? 'exact' : undefined);
    if (match !== undefined) spec.paramMatch = match;
    if (pr.quorum_max !== undefined) spec.quorumMax = pr.quorum_max;
    const term = pr.terminate_delay ?? (pr.delay > 0 ? pr.delay : undefined);
    const fork = pr.fork_delay ?? (pr.delay > 0 ? pr.delay : undefined);
    if (term !== undefined) spec.terminateDelayMs = term;
    if (fork !== undefined) spec.forkDelayMs = fork;
    config.processes.push(spec);
  }
  for (const [fname, f] of Object.entries(y.files)) {
    const spec: FloatipConfig['files'][number] = {
      name: fname,
      file: f.file,
      weight: f.weight,
      weightReverse: f.reverse,
      pos: loc.key(['files'], fname),
    };
    if (f.init_file) spec.initFile = { value: f.init_file.value, overwrite: f.init_file.overwrite };
    config.files.push(spec);
  }
  for (const [gname, sg] of Object.entries(y.sync_groups)) {
    const base: Path = ['sync_groups', gname];
    const group: FloatipConfig['syncGroups'][number] = {
      name: gname,
      members: sg.members,
      notify: notifyOf(sg.notify),
      trackScripts: trackRefs(sg.track?.scripts, [...base, 'track', 'scripts'], loc, positions),
      trackInterfaces: trackRefs(sg.track?.interfaces, [...base, 'track', 'interfaces'], loc, positions),
      trackProcesses: trackRefs(sg.track?.processes, [...base, 'track', 'processes'], loc, positions),
      trackFiles: trackRefs(sg.track?.files, [...base, 'track', 'files'], loc, positions),
      pos: loc.key(['sync_groups'], gname),
    };
    sg.members.forEach((m, j) => positions.set(group, `member:${m}`, loc.node([...base, 'members', j])));
    config.syncGroups.push(group);
  }
  return config;
}

function toVip(
  v: { address: string; dev?: string | undefined; label?: string | undefined },
  pos: SourcePos,
  positions: PosIndex,
): VirtualAddress {
  const [address = '', prefix] = v.address.split('/');
  const family = familyOf(address) ?? 'ipv4';
  const vip: VirtualAddress = {
    address,
    prefix: prefix === undefined ? (family === 'ipv4' ? 32 : 128) : Number(prefix),
    family,
  };
  if (v.dev !== undefined) vip.dev = v.dev;
  if (v.label !== undefined) vip.label = v.label;
  positions.set(vip, 'address', pos);
  return vip;
}

function trackRefs(
  entries: { name: string; weight?: number | undefined; reverse?: boolean | undefined }[] | undefined,
  path: Path,
  loc: Locator,
  positions: PosIndex,
): TrackRef[] {
  return (entries ?? []).map((e, j) => {
    const ref: TrackRef = { name: e.name };
    if (e.weight !== undefined) ref.weight = e.weight;
    if (e.reverse !== undefined) ref.reverse = e.reverse;
    positions.set(ref, 'name', loc.node([...path, j]));
    return ref;
  });
}

function notifyOf(n: Partial<Record<keyof NotifyCommands, string | undefined>> | undefined): NotifyCommands {
  const out: NotifyCommands = {};
  if (!n) return out;
  for (const k of ['master', 'backup', 'fault', 'stop', 'generic', 'deleted'] as const) {
    const v = n[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function timingsOf(o: {
  provider_timeout?: number | undefined;
  reconcile_interval?: number | undefined;
  hold_off?: number | undefined;
}): Partial<NotifyTimings> | undefined {
  const t: Partial<NotifyTimings> = {};
  if (o.provider_timeout !== undefined) t.providerTimeoutMs = o.provider_timeout;
  if (o.reconcile_interval !== undefined) t.reconcileIntervalMs = o.reconcile_interval;
  if (o.hold_off !== undefined) t.holdOffMs = o.hold_off;
  return Object.keys(t).length > 0 ? t : undefined;
}

function checkTimingOf(c: {
  interval: number;
  timeout?: number | undefined;
  weight: number;
  reverse: boolean;
  rise: number;
  fall: number;
  init_fail: boolean;
}): Pick<
  HttpCheckSpec,
  'intervalMs' | 'timeoutMs' | 'weight' | 'weightReverse' | 'rise' | 'fall' | 'initFail'
> {
  return {
    intervalMs: c.interval,
    ...(c.timeout !== undefined ? { timeoutMs: c.timeout } : {}),
    weight: c.weight,
    weightReverse: c.reverse,
    rise: c.rise,
    fall: c.fall,
    initFail: c.init_fail,
  };
}
