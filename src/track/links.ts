/**
 * Which trackers each instance follows and with what weight, resolved once from the config the way
 * keepalived wires tracking_obj lists (vrrp.c add_vrrp_to_track_*, vrrp_complete_instance).
 */
import type { FloatipConfig, InstanceSpec, TrackRef } from '../config/model.js';
import type { NetChecks, TrackerKind } from './types.js';

export interface TrackLink {
  kind: TrackerKind;
  /** Tracker name; for interfaces, the interface name. */
  name: string;
  weight: number;
  reverse: boolean;
  /** The instance's own interface, tracked implicitly. */
  own?: boolean;
}

export interface LinkOptions {
  /** Sync groups with keepalived's `sync_group_tracking_weight` (the config model does not carry it yet). */
  syncGroupTrackingWeight?: ReadonlySet<string>;
}

export interface ResolvedLinks {
  links: Map<string, TrackLink[]>;
  /** Config problems keepalived also reports and ignores (missing names, dropped weights). */
  warnings: string[];
}

interface Defaults {
  weight: number;
  reverse: boolean;
}

export function resolveLinks(
  config: FloatipConfig,
  checks: NetChecks,
  opts: LinkOptions = {},
): ResolvedLinks {
  const warnings: string[] = [];
  // scripts, http and tcp checks share one name space so an instance lists any of them in track_script.
  const scriptLike = new Map<string, { kind: TrackerKind } & Defaults>();
  const addScriptLike = (kind: TrackerKind, name: string, d: Defaults): void => {
    const prev = scriptLike.get(name);
    if (prev) {
      throw new Error(
        `tracker name "${name}" is used by a ${prev.kind} check and a ${kind} check; give each check its own name`,
      );
    }
    scriptLike.set(name, { kind, ...d });
  };
  for (const s of config.scripts)
    addScriptLike('script', s.name, { weight: s.weight, reverse: s.weightReverse });
  for (const h of checks.http ?? [])
    addScriptLike('http', h.name, { weight: h.weight, reverse: h.weightReverse });
  for (const t of checks.tcp ?? [])
    addScriptLike('tcp', t.name, { weight: t.weight, reverse: t.weightReverse });
  const processes = new Map(
    config.processes.map((p) => [p.name, { weight: p.weight, reverse: p.weightReverse }]),
  );
  const files = new Map(config.files.map((f) => [f.name, { weight: f.weight, reverse: f.weightReverse }]));

  const groupsOf = new Map<string, FloatipConfig['syncGroups']>();
  for (const g of config.syncGroups) {
    for (const m of g.members) groupsOf.set(m, [...(groupsOf.get(m) ?? []), g]);
  }

  const links = new Map<string, TrackLink[]>();
  for (const inst of config.instances) {
    const list: TrackLink[] = [];
    const groups = groupsOf.get(inst.name) ?? [];
    const owner = inst.priority === 255;
    const syncNoWeight = groups.length > 0 && !groups.some((g) => opts.syncGroupTrackingWeight?.has(g.name));
    const who = `instance ${inst.name}`;

    if (!('dont_track_primary' in inst.extra)) {
      list.push({ kind: 'interface', name: inst.interface, weight: 0, reverse: false, own: true });
    }
    const instanceLinks = refsOf(inst, scriptLike, processes, files, who, warnings);
    for (const l of instanceLinks) {
      if (l.weight !== 0 && (owner || syncNoWeight)) {
        const why = syncNoWeight ? 'it is in a sync group' : 'it is the address owner (priority 255)';
        // vrrp_complete_instance: interfaces lose the weight in a sync group and are dropped for an
        // owner; scripts and processes are dropped; files with the default weight 1 become
        // unweighted, other weights are dropped.
        if (l.kind === 'interface' && syncNoWeight) {
          warnings.push(`${who}: weight of tracked interface ${l.name} ignored because ${why}`);
          add(list, { ...l, weight: 0 }, false);
        } else if (l.kind === 'file' && l.weight === 1) {
          warnings.push(`${who}: weight of tracked file ${l.name} ignored because ${why}; specify weight 0`);
          add(list, { ...l, weight: 0 }, false);
        } else {
          warnings.push(`${who}: weighted ${l.kind} ${l.name} ignored because ${why}`);
        }
        continue;
      }
      add(list, l, false);
    }
    for (const g of groups) {
      for (const l of refsOf(g, scriptLike, processes, files, `sync group ${g.name}`, warnings))
        add(list, l, true);
    }
    links.set(inst.name, list);
  }
  return { links, warnings };
}

/**
 * A tracker listed twice is followed once. Within one instance the first entry stays (keepalived:
 * "duplicate track_* - ignoring"; the own interface stays unweighted). A sync group's entry
 * replaces the instance's weight unless the instance's entry is unweighted.
 */
function add(list: TrackLink[], l: TrackLink, fromGroup: boolean): void {
  const existing = list.find((e) => e.kind === l.kind && e.name === l.name);
  if (!existing) {
    list.push(l);
    return;
  }
  if (fromGroup && existing.weight !== 0) {
    existing.weight = l.weight;
    existing.reverse = l.reverse;
  }
}

type Tracks = Pick<InstanceSpec, 'trackScripts' | 'trackInterfaces' | 'trackProcesses' | 'trackFiles'>;

function refsOf(
  t: Tracks,
  scriptLike: Map<string, { kind: TrackerKind } & Defaults>,
  processes: Map<string, Defaults>,
  files: Map<string, Defaults>,
  who: string,
  warnings: string[],
): TrackLink[] {
  const out: TrackLink[] = [];
  const pick = (ref: TrackRef, d: Defaults): Pick<TrackLink, 'weight' | 'reverse'> => ({
    weight: ref.weight ?? d.weight,
    reverse: ref.reverse ?? d.reverse,
  });
  for (const ref of t.trackScripts) {
    const d = scriptLike.get(ref.name);
    if (!d) {
      warnings.push(
        `${who}: track_script ${ref.name} is not defined; ignored (define vrrp_script ${ref.name})`,
      );
      continue;
    }
    out.push({ kind: d.kind, name: ref.name, ...pick(ref, d) });
  }
  for (const ref of t.trackInterfaces) {
    out.push({ kind: 'interface', name: ref.name, ...pick(ref, { weight: 0, reverse: false }) });
  }
  for (const ref of t.trackProcesses) {
    const d = processes.get(ref.name);
    if (!d) {
      warnings.push(
        `${who}: track_process ${ref.name} is not defined; ignored (define vrrp_track_process ${ref.name})`,
      );
      continue;
    }
    out.push({ kind: 'process', name: ref.name, ...pick(ref, d) });
  }
  for (const ref of t.trackFiles) {
    const d = files.get(ref.name);
    if (!d) {
      warnings.push(`${who}: track_file ${ref.name} is not defined; ignored (define track_file ${ref.name})`);
      continue;
    }
    out.push({ kind: 'file', name: ref.name, ...pick(ref, d) });
  }
  return out;
}
