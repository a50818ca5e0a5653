/**
 * Real keepalived (Debian 2.2.7) as a lab peer, started the way the reference captures were:
 * `keepalived -n -l -D -P -f CONF -p PID -r VRRP_PID -c CHK_PID` with a private TMPDIR, so its
 * stats file (`$TMPDIR/keepalived.stats`, written by the VRRP child on SIGUSR2) is ours alone.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab, LabNode, LabProcess } from './harness.js';

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

/** One instance's counters from keepalived's stats file, section by section. */
export interface KeepalivedStats {
  advertisements: { received: number; sent: number };
  becameMaster: number;
  releasedMaster: number;
  packetErrors: {
    length: number;
    ttl: number;
    invalidType: number;
    advertisementInterval: number;
    addressList: number;
  };
  authenticationErrors: { invalidType: number; typeMismatch: number; failure: number };
  priorityZero: { received: number; sent: number };
}

export interface Keepalived {
  node: LabNode;
  proc: LabProcess;
  /** Private TMPDIR holding the config, pid files and stats file. */
  dir: string;
  confPath: string;
  /** PID of the VRRP child (from the -r file): the process that sends and receives adverts. */
  vrrpPid: number;
  /** Number of output lines so far; pass to waitForState to only look at later lines. */
  mark(): number;
  /** Last state the instance entered according to the log, if any. */
  state(instance: string): VrrpState | undefined;
  /** Resolves with the log line once `(instance) Entering STATE STATE` appears at or after line `since`. */
  waitForState(instance: string, state: VrrpState, timeoutMs: number, since?: number): Promise<string>;
  /** SIGSTOP / SIGCONT the VRRP child: a hard failure with the process still present. */
  freeze(): void;
  thaw(): void;
  /** SIGUSR2, then read and parse the stats file. The VRRP child must not be frozen. */
  stats(): Promise<Record<string, KeepalivedStats>>;
  /** SIGTERM (keepalived sends priority-0 adverts on the way out), SIGKILL after timeoutMs. */
  stop(timeoutMs?: number): Promise<number | null>;
}

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** Read test/netns/fixtures/NAME and replace every `{{KEY}}` from vars; unknown keys throw. */
export function renderFixture(name: string, vars: Record<string, string | number>): string {
  const text = readFileSync(join(FIXTURES, name), 'utf8');
  return text.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_m, key: string) => {
    const v = vars[key];
    if (v === undefined) throw new Error(`fixture ${name}: no value given for {{${key}}}`);
    return String(v);
  });
}

export async function startKeepalived(
  lab: Lab,
  node: LabNode,
  config: string,
  opts: { label?: string; startTimeoutMs?: number } = {},
): Promise<Keepalived> {
  const dir = mkdtempSync(join(tmpdir(), `${lab.id}-ka-${node.name}-`));
  const confPath = join(dir, 'keepalived.conf');
  writeFileSync(confPath, config);
  const vrrpPidFile = join(dir, 'vrrp.pid');
  const statsFile = join(dir, 'keepalived.stats');
  const label = opts.label ?? `keepalived@${node.name}`;
  const proc = lab.spawn(
    node.ns,
    [
      'keepalived',
      '-n',
      '-l',
      '-D',
      '-P',
      '-f',
      confPath,
      '-p',
      join(dir, 'keepalived.pid'),
      '-r',
      vrrpPidFile,
      '-c',
      join(dir, 'checkers.pid'),
    ],
    { env: { TMPDIR: dir }, label },
  );
  // Everything worth keeping (the log) is in memory; the config comes from a fixture.
  void proc.exited.then(() => rmSync(dir, { recursive: true, force: true }));
  const timeout = opts.startTimeoutMs ?? 10000;
  // "Startup complete" is logged by the VRRP child once its sockets and instances are set up.
  await proc.waitForLine(/Startup complete/, timeout);
  const deadline = Date.now() + timeout;
  while (!existsSync(vrrpPidFile) || readFileSync(vrrpPidFile, 'utf8').trim() === '') {
    if (Date.now() > deadline)
      throw new Error(
        `${label}: ${vrrpPidFile} never appeared; output:\n${proc.lines().slice(-20).join('\n')}`,
      );
    await sleep(20);
  }
  const vrrpPid = Number(readFileSync(vrrpPidFile, 'utf8').trim());
  if (!Number.isInteger(vrrpPid) || vrrpPid <= 1)
    throw new Error(`${label}: bad VRRP child pid in ${vrrpPidFile}`);
  let frozen = false;
  const thaw = (): void => {
    process.kill(vrrpPid, 'SIGCONT');
    frozen = false;
  };

  const entering = (line: string): { inst: string; state: VrrpState } | undefined => {
    const m = /\((\S+)\) Entering (INIT|BACKUP|MASTER|FAULT|STOP) STATE/.exec(line);
    return m ? { inst: m[1]!, state: m[2] as VrrpState } : undefined;
  };

  return {
    node,
    proc,
    dir,
    confPath,
    vrrpPid,
    mark: () => proc.lines().length,
    state(instance) {
      let st: VrrpState | undefined;
      for (const l of proc.lines()) {
        const e = entering(l);
        if (e?.inst === instance) st = e.state;
      }
      return st;
    },
    async waitForState(instance, state, timeoutMs, since = 0) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const lines = proc.lines();
        for (let i = since; i < lines.length; i++) {
          const e = entering(lines[i]!);
          if (e?.inst === instance && e.state === state) return lines[i]!;
        }
        if (Date.now() > end) {
          throw new Error(
            `${label}: (${instance}) did not enter ${state} within ${timeoutMs} ms; last output:\n${lines.slice(-20).join('\n')}`,
          );
        }
        await sleep(20);
      }
    },
    freeze() {
      process.kill(vrrpPid, 'SIGSTOP');
      frozen = true;
    },
    thaw,
    async stats() {
      if (frozen) throw new Error(`${label}: stats() while the VRRP child is frozen; thaw() first`);
      rmSync(statsFile, { force: true });
      proc.signal('SIGUSR2');
      const end = Date.now() + 3000;
      for (;;) {
        await sleep(30);
        if (existsSync(statsFile)) {
          const parsed = tryParseStats(readFileSync(statsFile, 'utf8'));
          if (parsed) {
            unlinkSync(statsFile);
            return parsed;
          }
        }
        if (Date.now() > end) throw new Error(`${label}: no complete ${statsFile} within 3 s of SIGUSR2`);
      }
    },
    async stop(timeoutMs = 5000) {
      // proc.stop sends SIGCONT to the parent only; the frozen one is the VRRP child.
      if (frozen) thaw();
      return proc.stop(timeoutMs);
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const FIELDS: [string, string, (s: KeepalivedStats, v: number) => void][] = [
  ['Advertisements', 'Received', (s, v) => (s.advertisements.received = v)],
  ['Advertisements', 'Sent', (s, v) => (s.advertisements.sent = v)],
  ['', 'Became master', (s, v) => (s.becameMaster = v)],
  ['', 'Released master', (s, v) => (s.releasedMaster = v)],
  ['Packet Errors', 'Length', (s, v) => (s.packetErrors.length = v)],
  ['Packet Errors', 'TTL', (s, v) => (s.packetErrors.ttl = v)],
  ['Packet Errors', 'Invalid Type', (s, v) => (s.packetErrors.invalidType = v)],
  ['Packet Errors', 'Advertisement Interval', (s, v) => (s.packetErrors.advertisementInterval = v)],
  ['Packet Errors', 'Address List', (s, v) => (s.packetErrors.addressList = v)],
  ['Authentication Errors', 'Invalid Type', (s, v) => (s.authenticationErrors.invalidType = v)],
  ['Authentication Errors', 'Type Mismatch', (s, v) => (s.authenticationErrors.typeMismatch = v)],
  ['Authentication Errors', 'Failure', (s, v) => (s.authenticationErrors.failure = v)],
  ['Priority Zero', 'Received', (s, v) => (s.priorityZero.received = v)],
  ['Priority Zero', 'Sent', (s, v) => (s.priorityZero.sent = v)],
];

function emptyStats(): KeepalivedStats {
  return {
    advertisements: { received: 0, sent: 0 },
    becameMaster: 0,
    releasedMaster: 0,
    packetErrors: { length: 0, ttl: 0, invalidType: 0, advertisementInterval: 0, addressList: 0 },
    authenticationErrors: { invalidType: 0, typeMismatch: 0, failure: 0 },
    priorityZero: { received: 0, sent: 0 },
  };
}

/**
 * Parse keepalived 2.2.7's stats file (vrrp_print_stats): per instance a "VRRP Instance: NAME"
 * line, then 2-space section headers and 4-space "Key: N" lines. Throws on anything unexpected
 * or on a block that lacks a counter, so a format change cannot pass as "zero errors".
 */
export function parseKeepalivedStats(text: string): Record<string, KeepalivedStats> {
  const out: Record<string, KeepalivedStats> = {};
  let cur: { stats: KeepalivedStats; seen: Set<string> } | undefined;
  let curName = '';
  let section = '';
  const finish = (): void => {
    if (!cur) return;
    const missing = FIELDS.filter(([sec, key]) => !cur!.seen.has(`${sec}/${key}`)).map(
      ([sec, key]) => `${sec ? sec + ' ' : ''}${key}`,
    );
    if (missing.length) throw new Error(`keepalived stats: instance ${curName} lacks ${missing.join(', ')}`);
    out[curName] = cur.stats;
  };
  for (const [i, raw] of text.split('\n').entries()) {
    if (raw.trim() === '') continue;
    const inst = /^VRRP Instance: (.+)$/.exec(raw);
    if (inst) {
      finish();
      curName = inst[1]!.trim();
      cur = { stats: emptyStats(), seen: new Set() };
      section = '';
      continue;
    }
    if (!cur) throw new Error(`keepalived stats line ${i + 1}: "${raw}" before any "VRRP Instance:" line`);
    const m = /^( +)([A-Za-z ]+):\s*(\d+)?\s*$/.exec(raw);
    if (!m) throw new Error(`keepalived stats line ${i + 1}: cannot parse "${raw}"`);
    const indent = m[1]!.length;
    const key = m[2]!;
    if (m[3] === undefined) {
      if (indent !== 2) throw new Error(`keepalived stats line ${i + 1}: unexpected section "${raw}"`);
      section = key;
      continue;
    }
    const sec = indent === 2 ? '' : section;
    const field = FIELDS.find(([s, k]) => s === sec && k === key);
    if (!field) throw new Error(`keepalived stats line ${i + 1}: unknown counter "${raw}"`);
    field[2](cur.stats, Number(m[3]));
    cur.seen.add(`${sec}/${key}`);
  }
  finish();
  return out;
}

function tryParseStats(text: string): Record<string, KeepalivedStats> | undefined {
  // The file may be caught half written; a complete one ends with the last instance's
  // "Priority Zero ... Sent" line and parses without error.
  if (!text.endsWith('\n')) return undefined;
  try {
    const s = parseKeepalivedStats(text);
    return Object.keys(s).length > 0 ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Sum of every error counter (packet and authentication errors). */
export function errorTotal(s: KeepalivedStats): number {
  return [...Object.values(s.packetErrors), ...Object.values(s.authenticationErrors)].reduce(
    (a, b) => a + b,
    0,
  );
}

/**
 * keepalived log lines that report a bad packet without a stats counter (checksum errors are
 * only counted for SNMP) or that show it switched to the old unicast checksum mode.
 */
export const KEEPALIVED_PACKET_COMPLAINTS =
  /Invalid VRRPv[23] checksum|Setting unicast VRRPv3 checksum to old version|received an invalid passwd|received a \d+ auth, expecting|Invalid auth type|AH header|advertisement interval mismatch|Invalid packet type|unexpected ip number count|expected \d+ VIPs but received|ip address associated with VRID|TTL\/HL|vrrp packet too|wrong version|not a unicast peer|Expected \w+icast packet but received/;
