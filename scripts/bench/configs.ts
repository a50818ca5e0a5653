/**
 * keepalived.conf text for the benchmark. floatip reads keepalived.conf syntax, so both daemons
 * get byte-identical files: any difference in the results is the implementation's, not the
 * settings'.
 */
import { masterDownIntervalUs, skewTimeUs } from '../../src/vrrp/timing.js';

export interface DetectionConfig {
  /** Short name used in tables and JSON. */
  name: string;
  version: 2 | 3;
  /** Seconds, as written in `advert_int`. */
  advertInt: number;
}

export const DETECTION_CONFIGS: DetectionConfig[] = [
  { name: 'v2 advert_int 1', version: 2, advertInt: 1 },
  { name: 'v3 advert_int 0.1', version: 3, advertInt: 0.1 },
  { name: 'v3 advert_int 0.05', version: 3, advertInt: 0.05 },
];

export interface InstanceSpec {
  name: string;
  vrid: number;
  vip: string;
  state: 'MASTER' | 'BACKUP';
  priority: number;
}

export interface NodeConfig {
  routerId: string;
  version: 2 | 3;
  advertInt: number;
  src: string;
  peer: string;
  instances: InstanceSpec[];
}

export function renderConfig(c: NodeConfig): string {
  const lines = [`global_defs {`, `  router_id ${c.routerId}`, `}`];
  for (const i of c.instances) {
    lines.push(
      `vrrp_instance ${i.name} {`,
      `  state ${i.state}`,
      `  interface eth0`,
      `  virtual_router_id ${i.vrid}`,
      `  priority ${i.priority}`,
      `  advert_int ${c.advertInt}`,
      `  version ${c.version}`,
      `  unicast_src_ip ${c.src}`,
      `  unicast_peer {`,
      `    ${c.peer}`,
      `  }`,
      `  virtual_ipaddress {`,
      `    ${i.vip}/16`,
      `  }`,
      `}`,
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * RFC 3768 / 5798 takeover times in seconds as keepalived computes them (src/vrrp/timing.ts): a
 * backup of priority `priority` takes over Skew_Time after a priority-0 advert and
 * Master_Down_Interval after the last advert of a master that went silent.
 */
export function formulaSeconds(
  c: { version: 2 | 3; advertInt: number },
  priority: number,
  kind: 'hard' | 'graceful',
): number {
  const cs = Math.round(c.advertInt * 100);
  const us =
    kind === 'graceful'
      ? skewTimeUs(c.version, priority, cs)
      : masterDownIntervalUs(c.version, priority, cs, 3);
  return us / 1e6;
}
