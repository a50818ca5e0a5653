/**
 * Cross-checks that apply to a loaded configuration whatever its format. Each loader records
 * where fields came from in a PosIndex so these checks can point at the right line.
 *
 * Where keepalived repairs a config with a message (dropping a track reference to an undefined
 * script, clearing nopreempt on an address owner), the same repair is made here with a
 * warning, so a config keepalived runs also runs under floatip with the same behaviour.
 */
import { isIP } from 'node:net';
import type {
  AddressFamily,
  ConfigDiagnostic,
  FloatipConfig,
  InstanceSpec,
  SourcePos,
  TrackRef,
} from './model.js';

/** Remembers the position of individual fields of model objects. */
export class PosIndex {
  private readonly map = new WeakMap<object, Map<string, SourcePos>>();

  set(obj: object, field: string, pos: SourcePos): void {
    let m = this.map.get(obj);
    if (!m) {
      m = new Map();
      this.map.set(obj, m);
    }
    m.set(field, pos);
  }

  /** The field's own position, else the object's `pos`, else undefined. */
  /** Whether the field itself was written in the source (not just defaulted). */
  has(obj: object, field: string): boolean {
    return this.map.get(obj)?.has(field) ?? false;
  }

  get(obj: object, field?: string): SourcePos | undefined {
    const own = field ? this.map.get(obj)?.get(field) : undefined;
    if (own) return own;
    const p = (obj as { pos?: unknown }).pos;
    return isPos(p) ? p : undefined;
  }
}

function isPos(p: unknown): p is SourcePos {
  return typeof p === 'object' && p !== null && 'file' in p && 'line' in p && 'col' in p;
}

export function familyOf(address: string): AddressFamily | undefined {
  const v = isIP(address);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : undefined;
}

/**
 * Turns an advertisement interval into the centiseconds the model stores, the way keepalived's
 * vrrp_complete_instance does: v2 carries whole seconds (1..255, rounded half up), v3
 * centiseconds (1..4095, rounded half up), each with a warning when the value had to change.
 */
export function normalizeAdvertInterval(
  ms: number,
  version: 2 | 3,
  instance: string,
  pos: SourcePos | undefined,
  diags: ConfigDiagnostic[],
): number {
  const warn = (message: string): void => {
    diags.push({ severity: 'warning', message: `instance ${instance}: ${message}`, pos });
  };
  const seconds = ms / 1000;
  if (version === 2) {
    if (ms >= 256_000) {
      warn(
        `VRRPv2 advertisement interval ${seconds}s is out of range; using 255s (v2 allows 1..255 whole seconds)`,
      );
      return 25_500;
    }
    if (ms % 1000 !== 0) {
      const rounded = Math.max(1, Math.floor((ms + 500) / 1000));
      warn(
        `VRRPv2 advertisement interval ${seconds}s must be whole seconds; rounded to ${rounded}s as keepalived does ` +
          `(use version 3 for sub-second intervals)`,
      );
      return rounded * 100;
    }
    return ms / 10;
  }
  if (ms >= 40_960) {
    warn(`VRRPv3 advertisement interval ${seconds}s is out of range; using 40.95s (v3 allows 0.01..40.95s)`);
    return 4095;
  }
  if (ms % 10 !== 0) {
    const cs = Math.max(1, Math.floor((ms + 5) / 10));
    warn(`VRRPv3 advertisement interval ${seconds}s is not a multiple of 10ms; rounded to ${cs * 10}ms`);
    return cs;
  }
  return ms / 10;
}

/** Runs every format-independent check; repairs the config in place where keepalived would. */
export function validateConfig(cfg: FloatipConfig, pos: PosIndex): ConfigDiagnostic[] {
  const diags: ConfigDiagnostic[] = [];
  const err = (message: string, p: SourcePos | undefined): void => {
    diags.push({ severity: 'error', message, pos: p });
  };
  const warn = (message: string, p: SourcePos | undefined): void => {
    diags.push({ severity: 'warning', message, pos: p });
  };

  const byName = new Map<string, InstanceSpec>();
  const byVrid = new Map<string, InstanceSpec>();
  for (const inst of cfg.instances) {
    const name = inst.name;
    const prev = byName.get(name);
    if (prev) {
      err(
        `instance ${name} is already defined at ${where(prev.pos)}; give each vrrp_instance a unique name`,
        inst.pos,
      );
    } else {
      byName.set(name, inst);
    }
    checkInstance(inst, pos, err, warn);
    const key = `${inst.interface}/${inst.family}/${inst.vrid}`;
    const other = byVrid.get(key);
    if (other && inst.interface && inst.vrid > 0) {
      err(
        `instance ${name}: virtual_router_id ${inst.vrid} is already used on ${inst.interface} by instance ` +
          `${other.name} (${where(other.pos)}); use a different VRID for each instance on one interface`,
        pos.get(inst, 'vrid'),
      );
    } else {
      byVrid.set(key, inst);
    }
  }

  // http and tcp checks share the vrrp_script name space (instances list them under track_script).
  const scriptLike = [...cfg.scripts, ...(cfg.httpChecks ?? []), ...(cfg.tcpChecks ?? [])];
  const scripts = new Set(scriptLike.map((s) => s.name));
  const processes = new Set(cfg.processes.map((p) => p.name));
  const files = new Set(cfg.files.map((f) => f.name));
  checkDuplicates(scriptLike, 'script or check', err);
  checkDuplicates(cfg.processes, 'vrrp_track_process', err);
  checkDuplicates(cfg.files, 'track_file', err);

  const owners: {
    name: string;
    trackScripts: TrackRef[];
    trackProcesses: TrackRef[];
    trackFiles: TrackRef[];
  }[] = [...cfg.instances, ...cfg.syncGroups];
  for (const o of owners) {
    const kind = cfg.syncGroups.includes(o as never) ? 'sync group' : 'instance';
    o.trackScripts = dropUnknown(
      o.trackScripts,
      scripts,
      `${kind} ${o.name}`,
      'track_script',
      'vrrp_script',
      pos,
      warn,
    );
    o.trackProcesses = dropUnknown(
      o.trackProcesses,
      processes,
      `${kind} ${o.name}`,
      'track_process',
      'vrrp_track_process',
      pos,
      warn,
    );
    o.trackFiles = dropUnknown(
      o.trackFiles,
      files,
      `${kind} ${o.name}`,
      'track_file',
      'track_file',
      pos,
      warn,
    );
  }

  const memberOf = new Map<string, string>();
  const groupNames = new Set<string>();
  for (const g of cfg.syncGroups) {
    if (groupNames.has(g.name))
      err(`sync group ${g.name} is defined twice; merge the two definitions`, g.pos);
    groupNames.add(g.name);
    if (g.members.length === 0) {
      warn(`sync group ${g.name} has no members; list instances in its group { ... } block`, g.pos);
    }
    for (const m of g.members) {
      if (!byName.has(m)) {
        err(
          `sync group ${g.name} names instance ${m}, which is not defined; define vrrp_instance ${m} or remove it from the group`,
          pos.get(g, `member:${m}`) ?? g.pos,
        );
        continue;
      }
      const already = memberOf.get(m);
      if (already !== undefined) {
        err(
          `instance ${m} is in sync groups ${already} and ${g.name}; an instance can belong to one sync group only`,
          pos.get(g, `member:${m}`) ?? g.pos,
        );
      } else {
        memberOf.set(m, g.name);
      }
    }
  }
  return diags;
}

type Report = (message: string, p: SourcePos | undefined) => void;

function checkInstance(inst: InstanceSpec, pos: PosIndex, err: Report, warn: Report): void {
  const name = inst.name;
  if (!inst.interface) {
    err(
      `instance ${name} has no interface; add 'interface IFNAME' naming the interface VRRP runs on`,
      inst.pos,
    );
  }
  // An invalid value was already reported where it was written; only a missing one is left.
  if (inst.vrid === 0 && !pos.has(inst, 'vrid')) {
    err(`instance ${name} has no virtual_router_id; set a VRID in 1..255 (the same on every node)`, inst.pos);
  }
  if (!Number.isInteger(inst.priority) || inst.priority < 1 || inst.priority > 255) {
    err(`instance ${name}: priority ${inst.priority} is out of range; use 1..255`, pos.get(inst, 'priority'));
  }

  for (const vip of inst.virtualIps) {
    if (vip.family !== inst.family) {
      err(
        `instance ${name}: virtual address ${vip.address} is ${vip.family} but the instance is ${inst.family}; ` +
          `put IPv4 and IPv6 addresses in separate instances`,
        pos.get(vip, 'address'),
      );
    }
  }
  if (inst.family === 'ipv6' && inst.version !== 3) {
    err(
      `instance ${name} has IPv6 addresses, which need VRRP version 3; set 'version 3'`,
      pos.get(inst, 'version') ?? inst.pos,
    );
  }
  if (inst.virtualIps.length === 0) {
    if (inst.version === 3) {
      err(`instance ${name} has no virtual addresses; VRRPv3 requires at least one`, inst.pos);
    } else {
      warn(`instance ${name} has no virtual addresses; at least one is sensible`, inst.pos);
    }
  }
  if (inst.unicastSrcIp !== undefined) {
    const f = familyOf(inst.unicastSrcIp);
    if (f !== inst.family) {
      err(
        `instance ${name}: source address ${inst.unicastSrcIp} is ${f ?? 'not an IP address'} but the instance is ${inst.family}; ` +
          `use an address of the same family`,
        pos.get(inst, 'unicastSrcIp'),
      );
    }
  }
  const seen = new Set<string>();
  inst.unicastPeers.forEach((peer, i) => {
    const p = pos.get(inst, `peer:${i}`) ?? pos.get(inst, 'unicastPeers');
    const f = familyOf(peer);
    if (f !== inst.family) {
      err(
        `instance ${name}: unicast peer ${peer} is ${f ?? 'not an IP address'} but the instance is ${inst.family}; ` +
          `all peers must be of the instance's address family`,
        p,
      );
    }
    if (seen.has(peer)) warn(`instance ${name}: unicast peer ${peer} is listed twice`, p);
    seen.add(peer);
  });
  if (inst.auth && inst.version === 3) {
    warn(
      `instance ${name}: VRRP version 3 has no authentication; the authentication block is ignored (as keepalived does)`,
      pos.get(inst, 'auth'),
    );
    delete inst.auth;
  }
  if (inst.priority === 255 && !inst.preempt) {
    warn(
      `instance ${name}: nopreempt does not apply to the address owner (priority 255); preemption stays on`,
      pos.get(inst, 'preempt'),
    );
    inst.preempt = true;
  }
  if (inst.initialState === 'MASTER') {
    if (!inst.preempt) {
      warn(
        `instance ${name}: nopreempt does not work with initial state MASTER; clearing nopreempt (use state BACKUP)`,
        pos.get(inst, 'preempt'),
      );
      inst.preempt = true;
    }
    if (inst.preemptDelayMs > 0) {
      warn(
        `instance ${name}: preempt_delay does not work with initial state MASTER; clearing it (use state BACKUP)`,
        pos.get(inst, 'preemptDelayMs'),
      );
      inst.preemptDelayMs = 0;
    }
  }
  if (inst.preemptDelayMs > 0 && !inst.preempt) {
    warn(
      `instance ${name}: preempt_delay has no effect with nopreempt; clearing it`,
      pos.get(inst, 'preemptDelayMs'),
    );
    inst.preemptDelayMs = 0;
  }
}

function dropUnknown(
  refs: TrackRef[],
  known: Set<string>,
  owner: string,
  keyword: string,
  definer: string,
  pos: PosIndex,
  warn: Report,
): TrackRef[] {
  const seen = new Set<string>();
  return refs.filter((r) => {
    if (!known.has(r.name)) {
      warn(
        `${owner}: ${keyword} ${r.name} is not defined, ignoring it (as keepalived does); define ${definer} ${r.name}`,
        pos.get(r, 'name'),
      );
      return false;
    }
    if (seen.has(r.name)) {
      warn(`${owner}: duplicate ${keyword} ${r.name} is ignored`, pos.get(r, 'name'));
      return false;
    }
    seen.add(r.name);
    return true;
  });
}

function checkDuplicates(items: { name: string; pos: SourcePos }[], kind: string, err: Report): void {
  const seen = new Map<string, SourcePos>();
  for (const it of items) {
    const prev = seen.get(it.name);
    if (prev) err(`${kind} ${it.name} is already defined at ${where(prev)}; rename or remove one`, it.pos);
    else seen.set(it.name, it.pos);
  }
}

function where(p: SourcePos): string {
  return `${p.file}:${p.line}:${p.col}`;
}
