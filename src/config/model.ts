/**
 * The normalized configuration that both loaders (native YAML and keepalived.conf) produce.
 * Everything downstream (daemon, trackers, notify stage) reads only this shape, so the two
 * formats can never drift apart in meaning.
 */

/** Where a value came from, for messages that point the operator at the right line. */
export interface SourcePos {
  file: string;
  line: number; // 1-based
  col: number; // 1-based
}

export type AddressFamily = 'ipv4' | 'ipv6';

export interface VirtualAddress {
  /** Address text as written, without prefix: "10.99.0.100" or "fd00::100". */
  address: string;
  /** Prefix length; keepalived's default is /32 (IPv4) and /128 (IPv6) when omitted. */
  prefix: number;
  /** `dev IFNAME` when the address lives on another interface than the instance's. */
  dev?: string;
  label?: string;
  family: AddressFamily;
}

export interface TrackRef {
  name: string;
  /** Overrides the tracker's own weight when set (keepalived's `track_script { name weight N }`). */
  weight?: number;
  /** keepalived's `reverse` flag on track_* entries. */
  reverse?: boolean;
}

export interface NotifyCommands {
  master?: string;
  backup?: string;
  fault?: string;
  stop?: string;
  /** Generic `notify`: gets `INSTANCE|GROUP name STATE priority` appended. */
  generic?: string;
  /** Notify on deletion (keepalived `notify_deleted`), kept for later issues. */
  deleted?: string;
}

/** A provider entry: `type` picks the folder under providers/, the rest is that provider's own. */
export interface ProviderSpec {
  type: string;
  options: Record<string, unknown>;
  pos?: SourcePos;
}

export interface AuthSpec {
  type: 'PASS';
  /** Exactly 8 bytes, zero padded (longer passwords are truncated with a warning). */
  password: Buffer;
}

/** How the notify stage paces provider calls (YAML `provider_timeout`, `reconcile_interval`, `hold_off`). */
export interface NotifyTimings {
  /** Deadline of one provider call (acquire, release, holder read-back), retries included. */
  providerTimeoutMs: number;
  /** Holder read-back period while MASTER. */
  reconcileIntervalMs: number;
  /** How long a master that found another live holder stays fenced before it checks again. */
  holdOffMs: number;
}

export const NOTIFY_TIMING_DEFAULTS: Readonly<NotifyTimings> = {
  providerTimeoutMs: 10_000,
  reconcileIntervalMs: 10_000,
  holdOffMs: 60_000,
};

/** The instance's own value, else the global one, else the default, per key. */
export function notifyTimingsFor(global: GlobalSpec, spec: InstanceSpec): NotifyTimings {
  return { ...NOTIFY_TIMING_DEFAULTS, ...global.notifyTimings, ...spec.notifyTimings };
}

export interface InstanceSpec {
  name: string;
  interface: string;
  vrid: number; // 1..255
  /** Base priority 1..255 (255 = address owner). */
  priority: number;
  /** Advertisement interval in centiseconds (v2 only allows whole seconds). */
  advertIntervalCs: number;
  version: 2 | 3;
  family: AddressFamily;
  /** `state MASTER|BACKUP` as written; informational, the start rule is RFC/keepalived's. */
  initialState?: 'MASTER' | 'BACKUP';
  preempt: boolean;
  preemptDelayMs: number;
  /** Master_Down = downTimerAdverts × Master_Adver_Interval + Skew (keepalived `down_timer_adverts`). */
  downTimerAdverts: number;
  /** Source address of adverts; also the tie-break "primary IP". */
  unicastSrcIp?: string;
  /** Empty = multicast (224.0.0.18 / ff02::12). */
  unicastPeers: string[];
  unicastTtl: number;
  /**
   * In unicast mode, drop adverts whose source is not a configured peer. floatip's default is
   * true (keepalived accepts any source unless `check_unicast_src` is set).
   */
  checkUnicastSrc: boolean;
  auth?: AuthSpec;
  virtualIps: VirtualAddress[];
  excludedVirtualIps: VirtualAddress[];
  trackScripts: TrackRef[];
  trackInterfaces: TrackRef[];
  trackProcesses: TrackRef[];
  trackFiles: TrackRef[];
  notify: NotifyCommands;
  /** Ordered providers run by the notify stage. */
  providers: ProviderSpec[];
  garpMasterDelayMs?: number;
  garpMasterRepeat?: number;
  garpMasterRefreshMs?: number;
  /** Overrides of the global notify-stage timings for this instance. */
  notifyTimings?: Partial<NotifyTimings>;
  /** Keywords parsed and kept for later issues or not acted on by floatip, with their raw values. */
  extra: Record<string, string[]>;
  pos: SourcePos;
}

/** floatip extension (YAML `http_checks`): GET a URL, success = the expected status. */
export interface HttpCheckSpec {
  name: string;
  url: string;
  expectStatus: number;
  intervalMs: number;
  /** Default: the interval, as for vrrp_script. */
  timeoutMs?: number;
  weight: number;
  weightReverse: boolean;
  rise: number;
  fall: number;
  initFail: boolean;
  pos: SourcePos;
}

/** floatip extension (YAML `tcp_checks`): success = a TCP handshake completes in time. */
export interface TcpCheckSpec {
  name: string;
  host: string;
  port: number;
  intervalMs: number;
  timeoutMs?: number;
  weight: number;
  weightReverse: boolean;
  rise: number;
  fall: number;
  initFail: boolean;
  pos: SourcePos;
}

export interface ScriptTrackerSpec {
  name: string;
  /** The command as written; split into argv the way keepalived does. */
  script: string;
  intervalMs: number;
  timeoutMs?: number;
  weight: number;
  /** keepalived's `weight N reverse`. */
  weightReverse: boolean;
  rise: number;
  fall: number;
  initFail: boolean;
  user?: string;
  group?: string;
  pos: SourcePos;
}

export interface ProcessTrackerSpec {
  name: string;
  process: string;
  params?: string;
  paramMatch?: 'exact' | 'partial' | 'initial';
  weight: number;
  weightReverse: boolean;
  quorum: number;
  quorumMax?: number;
  delayMs: number;
  terminateDelayMs?: number;
  forkDelayMs?: number;
  pos: SourcePos;
}

export interface FileTrackerSpec {
  name: string;
  file: string;
  weight: number;
  weightReverse: boolean;
  initFile?: { value: number; overwrite: boolean };
  pos: SourcePos;
}

export interface SyncGroupSpec {
  name: string;
  members: string[];
  notify: NotifyCommands;
  trackScripts: TrackRef[];
  trackInterfaces: TrackRef[];
  trackProcesses: TrackRef[];
  trackFiles: TrackRef[];
  pos: SourcePos;
}

export interface GlobalSpec {
  routerId?: string;
  garpMasterDelayMs: number;
  garpMasterRepeat: number;
  garpMasterRefreshMs: number;
  garpMasterRefreshRepeat: number;
  scriptUser?: string;
  scriptGroup?: string;
  enableScriptSecurity: boolean;
  notifyFifo?: string;
  notifyFifoScript?: string;
  /** Default `version` for instances that do not set it (keepalived `vrrp_version`). */
  vrrpVersion: 2 | 3;
  checkUnicastSrc?: boolean;
  /** Where `floatip run` serves /metrics and /status; undefined = off. */
  controlListen?: string;
  /** Defaults of the notify-stage timings; unset keys fall back to NOTIFY_TIMING_DEFAULTS. */
  notifyTimings?: Partial<NotifyTimings>;
  extra: Record<string, string[]>;
}

export interface FloatipConfig {
  /** The file the config was loaded from (after includes: the top-level file). */
  file: string;
  format: 'yaml' | 'keepalived';
  global: GlobalSpec;
  instances: InstanceSpec[];
  scripts: ScriptTrackerSpec[];
  processes: ProcessTrackerSpec[];
  files: FileTrackerSpec[];
  syncGroups: SyncGroupSpec[];
  /** floatip's http/tcp checks (YAML only); they share the vrrp_script name space. */
  httpChecks?: HttpCheckSpec[];
  tcpChecks?: TcpCheckSpec[];
}

export interface ConfigDiagnostic {
  severity: 'error' | 'warning';
  message: string;
  pos?: SourcePos;
}

export function formatDiagnostic(d: ConfigDiagnostic): string {
  const where = d.pos ? `${d.pos.file}:${d.pos.line}:${d.pos.col}: ` : '';
  return `${where}${d.severity}: ${d.message}`;
}
