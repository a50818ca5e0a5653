/**
 * Meaning of the keepalived.conf statement tree: the VRRP subset of keepalived 2.2.7
 * (keepalived/vrrp/vrrp_parser.c, keepalived/core/global_parser.c, trackers/track_file.c),
 * mapped onto the normalized model with keepalived's defaults.
 *
 * Keywords keepalived knows but floatip does not act on are kept in `extra`; keywords keepalived
 * does not know get the same "unknown keyword" warning keepalived gives; whole blocks outside
 * VRRP (virtual_server, bfd_instance, ...) are skipped with one warning each.
 */
import type {
  ConfigDiagnostic,
  FileTrackerSpec,
  FloatipConfig,
  GlobalSpec,
  InstanceSpec,
  NotifyCommands,
  ProcessTrackerSpec,
  ScriptTrackerSpec,
  SourcePos,
  SyncGroupSpec,
  TrackRef,
  VirtualAddress,
} from './model.js';
import { splitQuotedEscaped, type KaStatement, type KaWord } from './keepalived-conf.js';
import { PosIndex, familyOf, normalizeAdvertInterval } from './validate.js';

export interface KaMapResult {
  config: FloatipConfig;
  positions: PosIndex;
  diagnostics: ConfigDiagnostic[];
}

const IGNORED_ROOTS = new Set([
  'virtual_server',
  'virtual_server_group',
  'bfd_instance',
  'static_ipaddress',
  'static_routes',
  'static_rules',
  'track_group',
  'garp_group',
  'linkbeat_interfaces',
  'linkbeat_use_polling',
  'interface_up_down_delays',
  'SSL',
  'net_namespace',
  'net_namespace_ipvs',
  'namespace_with_ipsets',
  'use_pid_dir',
  'instance',
  'child_wait_time',
]);

/** global_defs keywords keepalived 2.2.7 accepts; the ones floatip uses are handled explicitly. */
const GLOBAL_KNOWN = new Set(
  (
    'process_names process_name vrrp_process_name checker_process_name lvs_process_name bfd_process_name ' +
    'router_id notification_email_from smtp_server smtp_helo_name smtp_connect_timeout notification_email ' +
    'smtp_alert startup_script startup_script_timeout shutdown_script shutdown_script_timeout max_auto_priority ' +
    'min_auto_priority_delay smtp_alert_vrrp smtp_alert_checker checker_log_all_failures dynamic_interfaces ' +
    'no_email_faults default_interface disable_local_igmp lvs_timeouts lvs_flush lvs_flush_on_stop ' +
    'lvs_flush_onstop lvs_sync_daemon vrrp_mcast_group4 vrrp_mcast_group6 vrrp_garp_master_delay ' +
    'vrrp_garp_master_repeat vrrp_garp_master_refresh vrrp_garp_master_refresh_repeat vrrp_garp_lower_prio_delay ' +
    'vrrp_garp_lower_prio_repeat vrrp_down_timer_adverts vrrp_garp_interval vrrp_gna_interval vrrp_min_garp ' +
    'vrrp_garp_extra_if vrrp_vmac_garp_intvl vrrp_lower_prio_no_advert vrrp_higher_prio_send_advert vrrp_version ' +
    'vrrp_iptables vrrp_ipsets nftables nftables_priority nftables_ifindex nftables_ipvs nftables_ipvs_priority ' +
    'nftables_ipvs_start_fwmark nftables_counters vrrp_check_unicast_src vrrp_skip_check_adv_addr vrrp_strict ' +
    'vrrp_priority vrrp_no_swap vrrp_rt_priority vrrp_cpu_affinity vrrp_rlimit_rttime vrrp_rlimit_rtime ' +
    'notify_fifo notify_fifo_script vrrp_notify_fifo vrrp_notify_fifo_script vrrp_notify_priority_changes ' +
    'fifo_write_vrrp_states_on_reload lvs_notify_fifo lvs_notify_fifo_script checker_priority checker_no_swap ' +
    'checker_rt_priority checker_cpu_affinity checker_rlimit_rttime checker_rlimit_rtime bfd_priority bfd_no_swap ' +
    'bfd_rt_priority bfd_cpu_affinity bfd_rlimit_rttime bfd_rlimit_rtime snmp_socket enable_traps ' +
    'enable_snmp_vrrp enable_snmp_keepalived enable_snmp_rfc enable_snmp_rfcv2 enable_snmp_rfcv3 ' +
    'enable_snmp_checker enable_dbus dbus_service_name script_user enable_script_security ' +
    'vrrp_netlink_cmd_rcv_bufs vrrp_netlink_cmd_rcv_bufs_force vrrp_netlink_monitor_rcv_bufs ' +
    'vrrp_netlink_monitor_rcv_bufs_force process_monitor_rcv_bufs process_monitor_rcv_bufs_force ' +
    'lvs_netlink_cmd_rcv_bufs lvs_netlink_cmd_rcv_bufs_force lvs_netlink_monitor_rcv_bufs ' +
    'lvs_netlink_monitor_rcv_bufs_force rs_init_notifies no_checker_emails vrrp_rx_bufs_policy ' +
    'vrrp_rx_bufs_multiplier vrrp_startup_delay log_unknown_vrids vmac_prefix vmac_addr_prefix umask ' +
    'random_seed reload_check_config reload_time_file reload_repeat reload_file include_check config_save_dir ' +
    'tmp_config_directory data_use_instance'
  ).split(' '),
);

/** vrrp_instance keywords keepalived 2.2.7 accepts that floatip keeps in `extra` without acting on them. */
const INSTANCE_KEPT = new Set(
  (
    'unicast_fault_no_peer old_unicast_checksum native_ipv6 vrf dont_track_primary track_bfd track_src_ip ' +
    'promote_secondaries linkbeat_use_polling accept no_accept skip_check_adv_addr debug ' +
    'notify_master_rx_lower_pri smtp_alert notify_priority_changes lvs_sync_daemon_interface ' +
    'garp_lower_prio_delay garp_lower_prio_repeat garp_extra_if vmac_garp_intvl lower_prio_no_advert ' +
    'higher_prio_send_advert kernel_rx_buf_size'
  ).split(' '),
);

/** Instance keywords whose absence of effect under floatip changes behaviour: kept, with a warning. */
const INSTANCE_NOT_IMPLEMENTED = new Set([
  'use_vmac',
  'use_vmac_addr',
  'vmac_xmit_base',
  'use_ipvlan',
  'mcast_dst_ip',
  'virtual_routes',
  'virtual_rules',
  'strict_mode',
]);

const SYNC_GROUP_KEPT = new Set([
  'smtp_alert',
  'global_tracking',
  'sync_group_tracking_weight',
  'notify_priority_changes',
  'track_bfd',
]);

const VIP_OPTS_WITH_VALUE = new Set([
  'dev',
  'scope',
  'broadcast',
  'brd',
  'label',
  'peer',
  'preferred_lft',
  'track_group',
]);
const VIP_FLAGS = new Set([
  'home',
  '-nodad',
  'mngtmpaddr',
  'noprefixroute',
  'autojoin',
  'no_track',
  'use_vmac',
]);

class Ctx {
  readonly diags: ConfigDiagnostic[] = [];
  readonly positions = new PosIndex();

  error(message: string, pos: SourcePos | undefined): void {
    this.diags.push({ severity: 'error', message, pos });
  }

  warn(message: string, pos: SourcePos | undefined): void {
    this.diags.push({ severity: 'warning', message, pos });
  }

  /** The statement's first argument, or an error naming what is missing. */
  arg(st: KaStatement, what: string): KaWord | undefined {
    const a = st.args[0];
    if (!a) this.error(`${st.keyword.text} needs ${what}`, st.keyword.pos);
    return a;
  }

  int(st: KaStatement, min: number, max: number, index = 0): number | undefined {
    const a = st.args[index];
    const kw = st.keyword.text;
    if (!a) {
      this.error(`${kw} needs a value in ${min}..${max}`, st.keyword.pos);
      return undefined;
    }
    if (!/^[+-]?\d+$/.test(a.text)) {
      this.error(`${kw} '${a.text}' is not a whole number; use ${min}..${max}`, a.pos);
      return undefined;
    }
    const v = Number(a.text);
    if (v < min || v > max) {
      this.error(`${kw} ${a.text} is out of range; use ${min}..${max}`, a.pos);
      return undefined;
    }
    return v;
  }

  /** keepalived's read_decimal_unsigned: seconds with up to 6 decimals, returned in ms (rounded to the µs then ms). */
  seconds(st: KaStatement, min: number, max: number): number | undefined {
    const a = st.args[0];
    const kw = st.keyword.text;
    if (!a) {
      this.error(`${kw} needs a number of seconds`, st.keyword.pos);
      return undefined;
    }
    if (!/^\d+(\.\d{1,6})?$/.test(a.text) && !/^\.\d{1,6}$/.test(a.text)) {
      this.error(`${kw} '${a.text}' is not a number of seconds (up to 6 decimals)`, a.pos);
      return undefined;
    }
    const v = Number(a.text);
    if (v < min || v > max) {
      this.error(`${kw} ${a.text} is out of range; use ${min}..${max} seconds`, a.pos);
      return undefined;
    }
    return Math.round(v * 1000);
  }

  unknown(st: KaStatement, where: string): void {
    this.warn(
      `unknown keyword '${st.keyword.text}' in ${where}${st.block ? '; its block is skipped' : ''}`,
      st.keyword.pos,
    );
  }
}

/** Words of a statement and its block, flattened, for `extra`. */
function rawWords(st: KaStatement): string[] {
  const out = st.args.map((a) => a.text);
  for (const sub of st.block ?? []) out.push(sub.keyword.text, ...rawWords(sub));
  return out;
}

function addExtra(extra: Record<string, string[]>, key: string, words: string[]): void {
  const prev = extra[key];
  extra[key] = prev ? [...prev, ...words] : words;
}

/** The script text keepalived would run: the first word after quote/escape processing. */
function commandOf(ctx: Ctx, st: KaStatement): { command: string; rest: string[] } | undefined {
  const split = splitQuotedEscaped(st.rawArgs);
  if (split.error) {
    ctx.error(`${st.keyword.text}: ${split.error}`, st.keyword.pos);
    return undefined;
  }
  const [command, ...rest] = split.words;
  if (command === undefined || command === '') {
    ctx.error(`${st.keyword.text} needs a command`, st.keyword.pos);
    return undefined;
  }
  return { command, rest };
}

export function mapKeepalived(statements: KaStatement[], file: string): KaMapResult {
  const ctx = new Ctx();
  const global: GlobalSpec = {
    garpMasterDelayMs: 5000,
    garpMasterRepeat: 5,
    garpMasterRefreshMs: 0,
    garpMasterRefreshRepeat: 1,
    enableScriptSecurity: false,
    vrrpVersion: 2,
    extra: {},
  };
  const config: FloatipConfig = {
    file,
    format: 'keepalived',
    global,
    instances: [],
    scripts: [],
    processes: [],
    files: [],
    syncGroups: [],
  };
  let downTimerAdverts = 3;

  // global_defs first: keepalived copies global defaults into an instance when the instance is
  // declared, but a global_defs placed after the instances is almost always meant to apply.
  for (const st of statements) {
    if (st.keyword.text !== 'global_defs') continue;
    if (!st.block) {
      ctx.error("global_defs needs a '{ ... }' block", st.keyword.pos);
      continue;
    }
    const dta = mapGlobal(ctx, st.block, global);
    if (dta !== undefined) downTimerAdverts = dta;
  }

  const pendingInstances: { st: KaStatement; name: KaWord }[] = [];
  for (const st of statements) {
    const kw = st.keyword.text;
    switch (kw) {
      case 'global_defs':
        break;
      case 'vrrp_instance': {
        const name = namedBlock(ctx, st);
        if (name) pendingInstances.push({ st, name });
        break;
      }
      case 'vrrp_script': {
        const name = namedBlock(ctx, st);
        if (name) {
          const s = mapScript(ctx, name, st.block ?? []);
          if (s) config.scripts.push(s);
        }
        break;
      }
      case 'vrrp_track_process': {
        const name = namedBlock(ctx, st);
        if (name) {
          const p = mapProcess(ctx, name, st.block ?? []);
          if (p) config.processes.push(p);
        }
        break;
      }
      case 'track_file':
      case 'vrrp_track_file': {
        const name = namedBlock(ctx, st);
        if (name) {
          const f = mapTrackFile(ctx, name, st.block ?? []);
          if (f) config.files.push(f);
        }
        break;
      }
      case 'vrrp_sync_group': {
        const name = namedBlock(ctx, st);
        if (name) config.syncGroups.push(mapSyncGroup(ctx, name, st.block ?? []));
        break;
      }
      default:
        if (IGNORED_ROOTS.has(kw)) {
          ctx.warn(
            `floatip ignores '${kw}' (not part of VRRP); the whole ${st.block ? 'block' : 'line'} is skipped`,
            st.keyword.pos,
          );
        } else {
          ctx.unknown(st, 'the top level');
        }
    }
  }
  for (const { st, name } of pendingInstances) {
    config.instances.push(mapInstance(ctx, name, st.block ?? [], global, downTimerAdverts));
  }
  return { config, positions: ctx.positions, diagnostics: ctx.diags };
}

function namedBlock(ctx: Ctx, st: KaStatement): KaWord | undefined {
  const name = st.args[0];
  if (!name || st.args.length !== 1) {
    ctx.error(
      `${st.keyword.text} must have exactly one name, as in '${st.keyword.text} NAME { ... }'`,
      st.keyword.pos,
    );
    return undefined;
  }
  if (!st.block) {
    ctx.error(`${st.keyword.text} ${name.text} needs a '{ ... }' block`, st.keyword.pos);
    return undefined;
  }
  return name;
}

function mapGlobal(ctx: Ctx, block: KaStatement[], g: GlobalSpec): number | undefined {
  let downTimerAdverts: number | undefined;
  for (const st of block) {
    const kw = st.keyword.text;
    switch (kw) {
      case 'router_id': {
        const a = ctx.arg(st, 'a name');
        if (a) g.routerId = a.text;
        break;
      }
      case 'vrrp_garp_master_delay': {
        const v = ctx.int(st, 0, 4294);
        if (v !== undefined) g.garpMasterDelayMs = v * 1000;
        break;
      }
      case 'vrrp_garp_master_repeat': {
        const v = ctx.int(st, 0, 2 ** 32 - 1);
        if (v !== undefined) g.garpMasterRepeat = garpRepeat(ctx, st, v);
        break;
      }
      case 'vrrp_garp_master_refresh': {
        const v = ctx.int(st, 0, 2 ** 32 - 1);
        if (v !== undefined) g.garpMasterRefreshMs = v * 1000;
        break;
      }
      case 'vrrp_garp_master_refresh_repeat': {
        const v = ctx.int(st, 0, 2 ** 32 - 1);
        if (v !== undefined) g.garpMasterRefreshRepeat = garpRepeat(ctx, st, v);
        break;
      }
      case 'vrrp_version': {
        const v = ctx.int(st, 2, 3);
        if (v !== undefined) g.vrrpVersion = v as 2 | 3;
        break;
      }
      case 'vrrp_down_timer_adverts': {
        const v = ctx.int(st, 1, 100);
        if (v !== undefined) downTimerAdverts = v;
        addExtra(g.extra, kw, rawWords(st));
        break;
      }
      case 'script_user': {
        const a = ctx.arg(st, 'a user name');
        if (a) g.scriptUser = a.text;
        const grp = st.args[1];
        if (grp) g.scriptGroup = grp.text;
        break;
      }
      case 'enable_script_security':
        g.enableScriptSecurity = true;
        break;
      case 'notify_fifo':
      case 'vrrp_notify_fifo': {
        const a = ctx.arg(st, 'a FIFO path');
        if (a) g.notifyFifo = a.text;
        if (kw !== 'notify_fifo' || st.args.length > 1) addExtra(g.extra, kw, rawWords(st));
        break;
      }
      case 'notify_fifo_script':
      case 'vrrp_notify_fifo_script': {
        const c = commandOf(ctx, st);
        if (c) g.notifyFifoScript = c.command;
        if (kw !== 'notify_fifo_script' || (c && c.rest.length > 0)) addExtra(g.extra, kw, rawWords(st));
        break;
      }
      case 'vrrp_check_unicast_src':
        g.checkUnicastSrc = true;
        break;
      default:
        if (GLOBAL_KNOWN.has(kw)) addExtra(g.extra, kw, rawWords(st));
        else ctx.unknown(st, 'global_defs');
    }
  }
  return downTimerAdverts;
}

function garpRepeat(ctx: Ctx, st: KaStatement, v: number): number {
  if (v === 0) {
    ctx.warn(`${st.keyword.text} must be greater than 0; using 1 as keepalived does`, st.args[0]?.pos);
    return 1;
  }
  return v;
}

interface TrackLists {
  trackScripts: TrackRef[];
  trackInterfaces: TrackRef[];
  trackProcesses: TrackRef[];
  trackFiles: TrackRef[];
}

/** track_* blocks: one entry a line, `NAME [weight N [reverse|noreverse]]`. */
function mapTrackBlock(ctx: Ctx, st: KaStatement, owner: string, into: TrackRef[]): void {
  if (!st.block) {
    ctx.error(`${st.keyword.text} needs a '{ ... }' block listing names`, st.keyword.pos);
    return;
  }
  const kw = st.keyword.text;
  const [lo, hi] = kw === 'track_interface' || kw === 'track_script' ? [-253, 253] : [-254, 254];
  for (const entry of st.block) {
    const ref: TrackRef = { name: entry.keyword.text };
    ctx.positions.set(ref, 'name', entry.keyword.pos);
    const [w, val, rev] = entry.args;
    if (w) {
      if (w.text !== 'weight') {
        ctx.warn(`${owner}: unknown ${kw} option '${w.text}' for ${ref.name}; the entry is ignored`, w.pos);
        continue;
      }
      if (!val) {
        ctx.warn(`${owner}: weight without a value for ${kw} ${ref.name}; the entry is ignored`, w.pos);
        continue;
      }
      if (!/^[+-]?\d+$/.test(val.text) || Number(val.text) < lo || Number(val.text) > hi) {
        ctx.error(
          `${owner}: ${kw} ${ref.name} weight ${val.text} is out of range; use ${lo}..${hi}`,
          val.pos,
        );
        continue;
      }
      ref.weight = Number(val.text);
      if (rev) {
        if (rev.text === 'reverse') ref.reverse = true;
        else if (rev.text === 'noreverse') ref.reverse = false;
        else
          ctx.warn(`${owner}: unknown ${kw} weight option '${rev.text}' for ${ref.name}; ignored`, rev.pos);
      }
    }
    into.push(ref);
  }
}

function trackKeyword(ctx: Ctx, st: KaStatement, owner: string, t: TrackLists): boolean {
  switch (st.keyword.text) {
    case 'track_script':
      mapTrackBlock(ctx, st, owner, t.trackScripts);
      return true;
    case 'track_interface':
      mapTrackBlock(ctx, st, owner, t.trackInterfaces);
      return true;
    case 'track_process':
      mapTrackBlock(ctx, st, owner, t.trackProcesses);
      return true;
    case 'track_file':
      mapTrackBlock(ctx, st, owner, t.trackFiles);
      return true;
    default:
      return false;
  }
}

const NOTIFY_FIELD: Record<string, keyof NotifyCommands> = {
  notify: 'generic',
  notify_master: 'master',
  notify_backup: 'backup',
  notify_fault: 'fault',
  notify_stop: 'stop',
  notify_deleted: 'deleted',
};

function notifyKeyword(
  ctx: Ctx,
  st: KaStatement,
  owner: string,
  notify: NotifyCommands,
  extra: Record<string, string[]> | undefined,
  allowed: readonly string[],
): boolean {
  const kw = st.keyword.text;
  const field = NOTIFY_FIELD[kw];
  if (!field || !allowed.includes(kw)) return false;
  if (notify[field] !== undefined) {
    ctx.warn(`${owner}: ${kw} is already set; ignoring this one as keepalived does`, st.keyword.pos);
    return true;
  }
  const c = commandOf(ctx, st);
  if (!c) return true;
  notify[field] = c.command;
  ctx.positions.set(notify, field, st.keyword.pos);
  if (c.rest.length > 0) {
    // keepalived runs this script as `user [group]`; floatip keeps the words but runs scripts as script_user.
    ctx.warn(
      `${owner}: ${kw} names user '${c.rest.join(' ')}'; floatip runs notify commands as the global script_user, ` +
        `the per-script user is not applied`,
      st.args[1]?.pos ?? st.keyword.pos,
    );
    if (extra) addExtra(extra, `${kw}_user`, c.rest);
  }
  return true;
}

function parseAddressEntry(
  ctx: Ctx,
  entry: KaStatement,
  owner: string,
  extra: Record<string, string[]>,
  extraKey: string,
): VirtualAddress | undefined {
  const text = entry.keyword.text;
  const slash = text.indexOf('/');
  const address = slash >= 0 ? text.slice(0, slash) : text;
  const family = familyOf(address);
  if (!family) {
    ctx.error(
      `${owner}: '${address}' is not a valid IP address; write ADDRESS[/PREFIX] [dev IFNAME] [label LABEL]`,
      entry.keyword.pos,
    );
    return undefined;
  }
  const maxPrefix = family === 'ipv4' ? 32 : 128;
  let prefix = maxPrefix;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d+$/.test(p) || Number(p) > maxPrefix) {
      ctx.error(
        `${owner}: prefix length '/${p}' of ${address} is invalid; use 0..${maxPrefix}`,
        entry.keyword.pos,
      );
      return undefined;
    }
    prefix = Number(p);
  }
  const vip: VirtualAddress = { address, prefix, family };
  ctx.positions.set(vip, 'address', entry.keyword.pos);
  const kept: string[] = [];
  const args = entry.args;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as KaWord;
    if (VIP_OPTS_WITH_VALUE.has(a.text)) {
      const v = args[i + 1];
      if (!v) {
        ctx.error(`${owner}: '${a.text}' after ${text} needs a value`, a.pos);
        return undefined;
      }
      i++;
      if (a.text === 'dev') vip.dev = v.text;
      else if (a.text === 'label') {
        if (family === 'ipv6')
          ctx.warn(
            `${owner}: IPv6 address ${address} cannot have a label; ignored as keepalived does`,
            a.pos,
          );
        else vip.label = v.text;
      } else kept.push(a.text, v.text);
    } else if (VIP_FLAGS.has(a.text)) {
      kept.push(a.text);
    } else {
      ctx.warn(`${owner}: unknown option '${a.text}' for address ${text}; ignored`, a.pos);
    }
  }
  if (kept.length > 0) addExtra(extra, `${extraKey} ${text}`, kept);
  return vip;
}

function mapInstance(
  ctx: Ctx,
  nameWord: KaWord,
  block: KaStatement[],
  g: GlobalSpec,
  downTimerAdverts: number,
): InstanceSpec {
  const name = nameWord.text;
  const owner = `instance ${name}`;
  const inst: InstanceSpec = {
    name,
    interface: '',
    vrid: 0,
    priority: 0,
    advertIntervalCs: 100,
    version: g.vrrpVersion,
    family: 'ipv4',
    preempt: true,
    preemptDelayMs: 0,
    downTimerAdverts,
    unicastPeers: [],
    unicastTtl: 255,
    checkUnicastSrc: true,
    virtualIps: [],
    excludedVirtualIps: [],
    trackScripts: [],
    trackInterfaces: [],
    trackProcesses: [],
    trackFiles: [],
    notify: {},
    providers: [{ type: 'garp', options: {}, pos: nameWord.pos }],
    extra: {},
    pos: nameWord.pos,
  };
  const at = (field: string, p: SourcePos | undefined): void => {
    if (p) ctx.positions.set(inst, field, p);
  };
  let advertMs = 1000;
  let explicitVersion: 2 | 3 | undefined;
  let priority: number | undefined;
  let authType: 'PASS' | 'AH' | undefined;
  let authPass: KaWord | undefined;
  let authPos: SourcePos | undefined;
  let ttlSet = false;

  for (const st of block) {
    const kw = st.keyword.text;
    const a0 = st.args[0];
    if (trackKeyword(ctx, st, owner, inst)) continue;
    if (notifyKeyword(ctx, st, owner, inst.notify, inst.extra, Object.keys(NOTIFY_FIELD))) continue;
    switch (kw) {
      case 'state': {
        const a = ctx.arg(st, 'MASTER or BACKUP');
        if (!a) break;
        if (a.text === 'MASTER') inst.initialState = 'MASTER';
        else if (a.text === 'BACKUP') {
          if (inst.initialState === 'MASTER')
            ctx.warn(`${owner}: state was already set to MASTER; ignoring BACKUP`, a.pos);
          else inst.initialState = 'BACKUP';
        } else {
          ctx.warn(
            `${owner}: unknown state '${a.text}'; using BACKUP as keepalived does (write MASTER or BACKUP)`,
            a.pos,
          );
          inst.initialState = 'BACKUP';
        }
        at('initialState', a.pos);
        break;
      }
      case 'interface': {
        const a = ctx.arg(st, 'an interface name');
        if (!a) break;
        if (a.text.length >= 16) {
          ctx.error(`${owner}: interface name '${a.text}' is longer than 15 characters`, a.pos);
          break;
        }
        inst.interface = a.text;
        at('interface', a.pos);
        break;
      }
      case 'virtual_router_id': {
        const v = ctx.int(st, 1, 255);
        if (v !== undefined) inst.vrid = v;
        at('vrid', a0?.pos ?? st.keyword.pos);
        break;
      }
      case 'priority': {
        const v = ctx.int(st, 1, 255);
        if (v !== undefined) priority = v;
        at('priority', a0?.pos);
        break;
      }
      case 'advert_int': {
        const v = ctx.seconds(st, 0.01, 255);
        if (v !== undefined) {
          if (v <= 0) ctx.error(`${owner}: advert_int must be greater than 0`, a0?.pos);
          else advertMs = v;
        }
        at('advertIntervalCs', a0?.pos);
        break;
      }
      case 'version': {
        const v = ctx.int(st, 2, 3);
        if (v !== undefined) explicitVersion = v as 2 | 3;
        at('version', a0?.pos);
        break;
      }
      case 'nopreempt':
        inst.preempt = false;
        at('preempt', st.keyword.pos);
        break;
      case 'preempt':
        inst.preempt = true;
        at('preempt', st.keyword.pos);
        break;
      case 'preempt_delay': {
        const v = ctx.seconds(st, 0, 1000);
        if (v !== undefined) inst.preemptDelayMs = v;
        at('preemptDelayMs', a0?.pos);
        break;
      }
      case 'down_timer_adverts': {
        const v = ctx.int(st, 1, 100);
        if (v !== undefined) inst.downTimerAdverts = v;
        at('downTimerAdverts', a0?.pos);
        break;
      }
      case 'unicast_src_ip':
      case 'mcast_src_ip': {
        const a = ctx.arg(st, 'an IP address');
        if (!a) break;
        if (!familyOf(a.text)) {
          ctx.error(`${owner}: ${kw} '${a.text}' is not a valid IP address`, a.pos);
          break;
        }
        if (inst.unicastSrcIp !== undefined && inst.unicastSrcIp !== a.text) {
          ctx.warn(`${owner}: ${kw} replaces the source address ${inst.unicastSrcIp} set earlier`, a.pos);
        }
        inst.unicastSrcIp = a.text;
        at('unicastSrcIp', a.pos);
        break;
      }
      case 'unicast_peer': {
        if (!st.block) {
          ctx.error(`${owner}: unicast_peer needs a '{ ... }' block with one address a line`, st.keyword.pos);
          break;
        }
        at('unicastPeers', st.keyword.pos);
        for (const entry of st.block) {
          const addr = entry.keyword.text;
          if (!familyOf(addr)) {
            ctx.error(`${owner}: unicast peer '${addr}' is not a valid IP address`, entry.keyword.pos);
            continue;
          }
          at(`peer:${inst.unicastPeers.length}`, entry.keyword.pos);
          inst.unicastPeers.push(addr);
          const rest = entry.args.map((w) => w.text);
          for (let i = 0; i < entry.args.length; i += 2) {
            const opt = entry.args[i] as KaWord;
            const val = entry.args[i + 1];
            if (opt.text !== 'min_ttl' && opt.text !== 'max_ttl') {
              ctx.warn(
                `${owner}: unknown unicast_peer option '${opt.text}' for ${addr}; kept but not applied`,
                opt.pos,
              );
            } else if (!val || !/^\d+$/.test(val.text) || Number(val.text) > 255) {
              ctx.error(`${owner}: ${opt.text} for peer ${addr} needs a value in 0..255`, (val ?? opt).pos);
            }
          }
          if (rest.length > 0) addExtra(inst.extra, `unicast_peer ${addr}`, rest);
        }
        break;
      }
      case 'unicast_ttl': {
        const v = ctx.int(st, 0, 255);
        if (v !== undefined) {
          inst.unicastTtl = v;
          ttlSet = true;
        }
        at('unicastTtl', a0?.pos);
        break;
      }
      case 'check_unicast_src':
        inst.checkUnicastSrc = true;
        at('checkUnicastSrc', st.keyword.pos);
        break;
      case 'authentication': {
        authPos = st.keyword.pos;
        for (const sub of st.block ?? []) {
          const sa = sub.args[0];
          if (sub.keyword.text === 'auth_type') {
            if (!sa) ctx.error(`${owner}: auth_type needs PASS or AH`, sub.keyword.pos);
            else if (sa.text === 'PASS') authType = 'PASS';
            else if (sa.text === 'AH') {
              ctx.error(
                `${owner}: auth_type AH (IPsec authentication header) is not supported by floatip; use auth_type PASS or remove the authentication block`,
                sa.pos,
              );
              authType = 'AH';
            } else ctx.error(`${owner}: unknown auth_type '${sa.text}'; use PASS`, sa.pos);
          } else if (sub.keyword.text === 'auth_pass') {
            if (!sa) ctx.error(`${owner}: auth_pass needs a password`, sub.keyword.pos);
            else authPass = sa;
          } else {
            ctx.unknown(sub, `the authentication block of ${owner}`);
          }
        }
        break;
      }
      case 'virtual_ipaddress':
      case 'virtual_ipaddress_excluded': {
        if (!st.block) {
          ctx.error(`${owner}: ${kw} needs a '{ ... }' block with one address a line`, st.keyword.pos);
          break;
        }
        const list = kw === 'virtual_ipaddress' ? inst.virtualIps : inst.excludedVirtualIps;
        for (const entry of st.block) {
          const vip = parseAddressEntry(ctx, entry, owner, inst.extra, kw);
          if (vip) list.push(vip);
        }
        break;
      }
      case 'garp_master_delay': {
        const v = ctx.int(st, 0, 4294);
        if (v !== undefined) inst.garpMasterDelayMs = v * 1000;
        break;
      }
      case 'garp_master_repeat': {
        const v = ctx.int(st, 0, 2 ** 32 - 1);
        if (v !== undefined) inst.garpMasterRepeat = garpRepeat(ctx, st, v);
        break;
      }
      case 'garp_master_refresh': {
        const v = ctx.int(st, 0, 2 ** 32 - 1);
        if (v !== undefined) inst.garpMasterRefreshMs = v * 1000;
        break;
      }
      case 'garp_master_refresh_repeat': {
        const v = ctx.int(st, 0, 2 ** 32 - 1);
        if (v !== undefined) addExtra(inst.extra, kw, [String(garpRepeat(ctx, st, v))]);
        break;
      }
      default:
        if (INSTANCE_NOT_IMPLEMENTED.has(kw)) {
          ctx.warn(`${owner}: floatip does not implement '${kw}'; it is ignored`, st.keyword.pos);
          addExtra(inst.extra, kw, rawWords(st));
        } else if (INSTANCE_KEPT.has(kw)) {
          addExtra(inst.extra, kw, rawWords(st));
        } else {
          ctx.unknown(st, `vrrp_instance ${name}`);
        }
    }
  }

  const first = inst.virtualIps[0];
  if (first) inst.family = first.family;
  else if (inst.unicastSrcIp) inst.family = familyOf(inst.unicastSrcIp) ?? 'ipv4';
  else if (inst.unicastPeers[0]) inst.family = familyOf(inst.unicastPeers[0]) ?? 'ipv4';

  // keepalived: IPv6 instances default to v3; otherwise the instance's own version, else vrrp_version.
  inst.version = explicitVersion ?? (inst.family === 'ipv6' ? 3 : g.vrrpVersion);
  if (explicitVersion === undefined && inst.family === 'ipv6') at('version', inst.pos);

  // keepalived derives an unset priority from the initial state: MASTER means address owner.
  inst.priority = priority ?? (inst.initialState === 'MASTER' ? 255 : 100);

  inst.advertIntervalCs = normalizeAdvertInterval(
    advertMs,
    inst.version,
    name,
    ctx.positions.get(inst, 'advertIntervalCs'),
    ctx.diags,
  );

  if (ttlSet && inst.unicastPeers.length === 0) {
    ctx.warn(
      `${owner}: unicast_ttl has no effect without unicast peers`,
      ctx.positions.get(inst, 'unicastTtl'),
    );
  }

  if (authType === 'PASS') {
    if (!authPass) {
      ctx.warn(
        `${owner}: authentication PASS without auth_pass is ignored, as keepalived does; add auth_pass`,
        authPos,
      );
    } else {
      const bytes = Buffer.from(authPass.text, 'utf8');
      if (bytes.length > 8) {
        ctx.warn(
          `${owner}: auth_pass is ${bytes.length} bytes; VRRPv2 carries 8, so it is truncated to ` +
            `'${bytes.subarray(0, 8).toString('utf8')}' as keepalived does (peers must use the same 8 bytes)`,
          authPass.pos,
        );
      }
      const password = Buffer.alloc(8);
      bytes.copy(password, 0, 0, 8);
      inst.auth = { type: 'PASS', password };
      at('auth', authPos);
    }
  } else if (authType === undefined && authPass) {
    ctx.warn(`${owner}: auth_pass without auth_type is ignored; add 'auth_type PASS'`, authPass.pos);
  }
  return inst;
}

function mapScript(ctx: Ctx, name: KaWord, block: KaStatement[]): ScriptTrackerSpec | undefined {
  const owner = `vrrp_script ${name.text}`;
  const s: ScriptTrackerSpec = {
    name: name.text,
    script: '',
    intervalMs: 1000,
    weight: 0,
    weightReverse: false,
    rise: 1,
    fall: 1,
    initFail: false,
    pos: name.pos,
  };
  for (const st of block) {
    const kw = st.keyword.text;
    switch (kw) {
      case 'script': {
        const c = commandOf(ctx, st);
        if (c) s.script = c.command;
        break;
      }
      case 'interval':
      case 'timeout': {
        const v = ctx.int(st, 0, 4294967);
        if (v === undefined) break;
        const secs = v === 0 ? 1 : v;
        if (v === 0)
          ctx.warn(`${owner}: ${kw} must be greater than 0; using 1 as keepalived does`, st.args[0]?.pos);
        if (kw === 'interval') s.intervalMs = secs * 1000;
        else s.timeoutMs = secs * 1000;
        break;
      }
      case 'weight': {
        const v = ctx.int(st, -253, 253);
        if (v !== undefined) s.weight = v;
        const r = st.args[1];
        if (r) {
          if (r.text === 'reverse') s.weightReverse = true;
          else ctx.warn(`${owner}: unknown weight option '${r.text}'; ignored`, r.pos);
        }
        break;
      }
      case 'rise':
      case 'fall': {
        const v = ctx.int(st, 1, 2 ** 31 - 1);
        if (v !== undefined) s[kw] = v;
        break;
      }
      case 'user': {
        const a = ctx.arg(st, 'a user name');
        if (a) s.user = a.text;
        if (st.args[1]) s.group = st.args[1].text;
        break;
      }
      case 'init_fail':
        s.initFail = true;
        break;
      default:
        ctx.unknown(st, owner);
    }
  }
  if (!s.script) {
    ctx.warn(`${owner} has no script; it is removed, as keepalived does (add 'script "COMMAND"')`, name.pos);
    return undefined;
  }
  return s;
}

function mapProcess(ctx: Ctx, name: KaWord, block: KaStatement[]): ProcessTrackerSpec | undefined {
  const owner = `vrrp_track_process ${name.text}`;
  const p: ProcessTrackerSpec = {
    name: name.text,
    process: '',
    weight: 0,
    weightReverse: false,
    quorum: 1,
    delayMs: 0,
    pos: name.pos,
  };
  let weightSet = false;
  for (const st of block) {
    const kw = st.keyword.text;
    switch (kw) {
      case 'process': {
        const a = ctx.arg(st, 'a process name or path');
        if (!a) break;
        if (p.process) {
          ctx.warn(`${owner}: process is already set; ignoring '${a.text}'`, a.pos);
          break;
        }
        p.process = a.text;
        if (st.args.length > 1) {
          p.params = st.args
            .slice(1)
            .map((w) => w.text)
            .join(' ');
          p.paramMatch ??= 'exact';
        }
        break;
      }
      case 'param_match': {
        const a = st.args[0];
        if (!a) p.paramMatch = 'exact';
        else if (a.text === 'initial' || a.text === 'partial') p.paramMatch = a.text;
        else ctx.warn(`${owner}: invalid param_match '${a.text}'; use initial or partial`, a.pos);
        break;
      }
      case 'weight': {
        if (weightSet) {
          ctx.warn(`${owner}: weight is already set; ignoring this one`, st.keyword.pos);
          break;
        }
        const v = ctx.int(st, -254, 254);
        if (v !== undefined) {
          p.weight = v;
          weightSet = true;
        }
        const r = st.args[1];
        if (r) {
          if (r.text === 'reverse') p.weightReverse = true;
          else ctx.warn(`${owner}: unknown weight option '${r.text}'; ignored`, r.pos);
        }
        break;
      }
      case 'quorum': {
        const v = ctx.int(st, 1, 65535);
        if (v !== undefined) {
          if (p.quorumMax !== undefined && v > p.quorumMax)
            ctx.error(`${owner}: quorum ${v} is greater than quorum_max ${p.quorumMax}`, st.args[0]?.pos);
          else p.quorum = v;
        }
        break;
      }
      case 'quorum_max': {
        const v = ctx.int(st, 0, 65535);
        if (v !== undefined) {
          if ((v > 0 || p.quorum > 1) && v < p.quorum)
            ctx.error(`${owner}: quorum_max ${v} is less than quorum ${p.quorum}`, st.args[0]?.pos);
          else {
            p.quorumMax = v;
            if (v === 0) p.quorum = 0;
          }
        }
        break;
      }
      case 'delay':
      case 'terminate_delay':
      case 'fork_delay': {
        const v = ctx.seconds(st, 0.000001, 3600);
        if (v === undefined) break;
        if (kw === 'delay') {
          p.delayMs = v;
          p.terminateDelayMs = v;
          p.forkDelayMs = v;
        } else if (kw === 'terminate_delay') p.terminateDelayMs = v;
        else p.forkDelayMs = v;
        break;
      }
      case 'full_command':
        break;
      default:
        ctx.unknown(st, owner);
    }
  }
  if (!p.process) {
    ctx.warn(`${owner} has no process; it is removed, as keepalived does (add 'process NAME')`, name.pos);
    return undefined;
  }
  return p;
}

function mapTrackFile(ctx: Ctx, name: KaWord, block: KaStatement[]): FileTrackerSpec | undefined {
  const owner = `track_file ${name.text}`;
  const f: FileTrackerSpec = { name: name.text, file: '', weight: 1, weightReverse: false, pos: name.pos };
  for (const st of block) {
    const kw = st.keyword.text;
    switch (kw) {
      case 'file': {
        const a = ctx.arg(st, 'a file path');
        if (a) f.file = a.text;
        break;
      }
      case 'weight': {
        const v = ctx.int(st, -254, 254);
        if (v !== undefined) f.weight = v;
        const r = st.args[1];
        if (r) {
          if (r.text === 'reverse') f.weightReverse = true;
          else ctx.warn(`${owner}: unknown weight option '${r.text}'; ignored`, r.pos);
        }
        break;
      }
      case 'init_file': {
        const init = { value: 0, overwrite: false };
        for (const a of st.args) {
          if (/^-?\d+$/.test(a.text)) init.value = Number(a.text);
          else if (a.text === 'overwrite') init.overwrite = true;
          else ctx.warn(`${owner}: unknown init_file option '${a.text}'; ignored`, a.pos);
        }
        f.initFile = init;
        break;
      }
      default:
        ctx.unknown(st, owner);
    }
  }
  if (!f.file) {
    ctx.warn(`${owner} has no file; it is removed, as keepalived does (add 'file PATH')`, name.pos);
    return undefined;
  }
  return f;
}

function mapSyncGroup(ctx: Ctx, name: KaWord, block: KaStatement[]): SyncGroupSpec {
  const owner = `vrrp_sync_group ${name.text}`;
  const g: SyncGroupSpec = {
    name: name.text,
    members: [],
    notify: {},
    trackScripts: [],
    trackInterfaces: [],
    trackProcesses: [],
    trackFiles: [],
    pos: name.pos,
  };
  let haveGroup = false;
  for (const st of block) {
    const kw = st.keyword.text;
    if (trackKeyword(ctx, st, owner, g)) continue;
    if (
      notifyKeyword(ctx, st, owner, g.notify, undefined, [
        'notify',
        'notify_master',
        'notify_backup',
        'notify_fault',
        'notify_stop',
      ])
    ) {
      continue;
    }
    if (kw === 'group') {
      if (haveGroup) {
        ctx.warn(`${owner}: group is already listed; ignoring this one as keepalived does`, st.keyword.pos);
        continue;
      }
      haveGroup = true;
      for (const entry of st.block ?? []) {
        for (const w of [entry.keyword, ...entry.args]) {
          g.members.push(w.text);
          ctx.positions.set(g, `member:${w.text}`, w.pos);
        }
      }
    } else if (SYNC_GROUP_KEPT.has(kw)) {
      // Nothing in the model carries these; keepalived's behaviour without them is the default.
    } else {
      ctx.unknown(st, owner);
    }
  }
  return g;
}
