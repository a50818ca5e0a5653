/**
 * keepalived 2.2.7's start-up check of a notify command (lib/notify.c check_script_secure), done
 * once in prepare(): path search for a bare name, realpath, "executable by the script user",
 * the #! test that decides exec versus /bin/sh, and, when the script runs with root's uid or gid
 * (or is setuid/setgid root), the walk over every path component looking for anything a non-root
 * user could modify. keepalived disables a script that fails; floatip refuses to start instead,
 * so the operator sees the reason before the first failover rather than after it.
 */
import { closeSync, lstatSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { splitQuotedEscaped } from '../../src/config/keepalived-conf.js';

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;
const S_IXUSR = 0o100;
const S_IWGRP = 0o020;
const S_IXGRP = 0o010;
const S_IWOTH = 0o002;
const S_IXOTH = 0o001;

export interface ScriptIds {
  uid: number;
  gid: number;
}

/** A notify command ready to run: argv as keepalived would exec it. */
export interface PreparedCommand {
  /** For messages: `notify_master of vrrp_instance VI_1`. */
  what: string;
  /** argv[0] is the resolved path keepalived execs (it rewrites args[0] the same way). */
  argv: string[];
  /** The file has no #! and is not a binary: keepalived runs it through system(). */
  shell: boolean;
  ids: ScriptIds;
  /** Things keepalived logs but still runs the script for. */
  warnings: string[];
  /** Some path component is writable or owned by non-root (only checked when it matters). */
  insecure: boolean;
}

/** keepalived's is_executable(): note that supplementary groups are not considered. */
export function isExecutable(st: Pick<Stats, 'mode' | 'uid' | 'gid'>, ids: ScriptIds): boolean {
  const m = st.mode;
  if (ids.uid === 0) return (m & (S_IXUSR | S_IXGRP | S_IXOTH)) !== 0;
  if (ids.uid === st.uid) return (m & S_IXUSR) !== 0;
  if (ids.gid === st.gid) return (m & S_IXGRP) !== 0;
  return (m & S_IXOTH) !== 0;
}

export type SecurityFinding =
  | { kind: 'ok' }
  | { kind: 'wrong-type'; component: string }
  | { kind: 'unsafe'; component: string; reason: string };

/**
 * keepalived's check_security(): "/", each directory, then the file itself (lstat, no symlink
 * following). The first unsafe component decides. Directories with the sticky bit (like /tmp)
 * may be writable by others; nothing may be owned by a non-root user.
 */
export function checkPathSecurity(path: string, lstat: (p: string) => Stats = lstatSync): SecurityFinding {
  const components: string[] = ['/'];
  let at = path.indexOf('/', 1);
  while (at !== -1) {
    components.push(path.slice(0, at));
    at = path.indexOf('/', at + 1);
  }
  if (path !== '/') components.push(path);
  for (let i = 0; i < components.length; i++) {
    const c = components[i] as string;
    const last = i === components.length - 1;
    let st: Stats;
    try {
      st = lstat(c);
    } catch {
      return { kind: 'wrong-type', component: c };
    }
    if ((!last && !st.isDirectory()) || (last && !st.isFile() && !st.isSymbolicLink())) {
      return { kind: 'wrong-type', component: c };
    }
    if (st.uid !== 0)
      return { kind: 'unsafe', component: c, reason: `it is owned by uid ${st.uid}, not root` };
    const modeMatters = (st.isDirectory() && (st.mode & S_ISVTX) === 0) || st.isFile();
    if (modeMatters && st.gid !== 0 && (st.mode & S_IWGRP) !== 0) {
      return { kind: 'unsafe', component: c, reason: `it is writable by group ${st.gid}, not root's group` };
    }
    if (modeMatters && (st.mode & S_IWOTH) !== 0) {
      return {
        kind: 'unsafe',
        component: c,
        reason: st.isDirectory()
          ? 'it is a world-writable directory without the sticky bit'
          : 'it is world-writable',
      };
    }
  }
  return { kind: 'ok' };
}

/** glibc's _CS_PATH, which keepalived falls back to when PATH is unset. */
const CS_PATH = '/bin:/usr/bin';

export interface PrepareOptions {
  /** Global enable_script_security. */
  scriptSecurity: boolean;
  /** PATH for bare command names; keepalived uses its own environment's. */
  path?: string;
}

/**
 * Splits, resolves and checks one notify command. Throws an Error naming the command, the file
 * and what to do, for everything keepalived would disable the script for.
 */
export function prepareCommand(
  what: string,
  command: string,
  ids: ScriptIds,
  opts: PrepareOptions,
): PreparedCommand {
  const split = splitQuotedEscaped(command);
  const first = split.words[0];
  if (split.error || first === undefined || first === '') {
    throw new Error(
      `${what}: cannot split ${JSON.stringify(command)} into a command: ${split.error ?? 'it is empty'}`,
    );
  }
  const argv = [...split.words];
  const warnings: string[] = [];
  if (/^<[ \t]*\//.test(first)) {
    throw new Error(
      `${what}: "${first}" is a file-existence test, which keepalived accepts only for vrrp_script; give a script to run`,
    );
  }

  if (!first.includes('/')) {
    const found = searchPath(first, ids, opts.path ?? process.env.PATH ?? CS_PATH);
    if (found.kind === 'denied') {
      throw new Error(
        `${what}: ${first} is in PATH but not executable by uid:gid ${ids.uid}:${ids.gid}; chmod it or give the full path of the right file`,
      );
    }
    if (found.kind === 'missing') {
      throw new Error(
        `${what}: ${first} was not found in PATH (${opts.path ?? process.env.PATH ?? CS_PATH}); give its full path`,
      );
    }
    warnings.push(
      `script \`${first}\` resolved by path search to \`${found.path}\`. Please specify full path.`,
    );
    argv[0] = found.path;
  }

  let resolved: string;
  try {
    resolved = realpathSync(argv[0] as string);
  } catch (e) {
    throw new Error(`${what}: script ${argv[0]} cannot be accessed: ${(e as Error).message}; check the path`);
  }

  // keepalived execs the resolved path, but keeps the file name as written when the resolved
  // directory has the same file under it, because some programs act on the name they are run by.
  let realFile: string | null = null;
  let execPath = resolved;
  const written = argv[0] as string;
  if (written !== resolved) {
    const writtenName = written.slice(written.lastIndexOf('/') + 1);
    const resolvedName = resolved.slice(resolved.lastIndexOf('/') + 1);
    if (writtenName !== resolvedName) {
      const candidate = resolved.slice(0, resolved.lastIndexOf('/') + 1) + writtenName;
      if (sameFile(resolved, candidate)) {
        realFile = resolved;
        execPath = candidate;
      }
    }
    argv[0] = execPath;
  }

  let st: Stats;
  try {
    st = statSync(realFile ?? execPath);
  } catch (e) {
    throw new Error(`${what}: unable to access script ${execPath}: ${(e as Error).message}`);
  }
  if (!st.isFile() || !isExecutable(st, ids)) {
    throw new Error(
      `${what}: ${execPath} is not executable for uid:gid ${ids.uid}:${ids.gid} (keepalived disables such a script); chmod +x it or change script_user`,
    );
  }

  const shell = !hasExecMagic(realFile ?? execPath);
  if (shell) warnings.push(`Please add a #! shebang to script ${execPath}`);

  // Only a script that runs with root's uid or gid, or that becomes root by set-id bits, can be
  // used to gain root by whoever may modify it; keepalived checks nothing else.
  const needsProtection =
    ids.uid === 0 ||
    ids.gid === 0 ||
    (st.uid === 0 && (st.mode & S_IXUSR) !== 0 && (st.mode & S_ISUID) !== 0) ||
    (st.gid === 0 && (st.mode & S_IXGRP) !== 0 && (st.mode & S_ISGID) !== 0);
  let insecure = false;
  if (needsProtection) {
    for (const p of realFile ? [execPath, realFile] : [execPath]) {
      const f = checkPathSecurity(p);
      if (f.kind === 'ok') continue;
      if (f.kind === 'wrong-type') {
        throw new Error(
          `${what}: wrong file type in script path ${p} at ${f.component} (every component must be a directory, the last a file)`,
        );
      }
      if (opts.scriptSecurity) {
        throw new Error(
          `${what}: unsafe permissions for script ${p}: ${f.component}: ${f.reason}, so a non-root user could ` +
            `change what runs as root; enable_script_security refuses it. Make every component of the path ` +
            `owned by root and not writable by others (or run it as a non-root script_user)`,
        );
      }
      insecure = true;
      warnings.push(`Unsafe permissions found for script '${p}': ${f.component}: ${f.reason}`);
      break;
    }
  }
  return { what, argv, shell, ids, warnings, insecure };
}

function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

type PathSearch = { kind: 'found'; path: string } | { kind: 'denied' } | { kind: 'missing' };

/** keepalived's find_path(): glibc's execvp search, judged for the script's uid/gid. */
function searchPath(file: string, ids: ScriptIds, path: string): PathSearch {
  let denied = false;
  for (const dir of path.split(':')) {
    const candidate = dir === '' ? file : `${dir}/${file}`;
    let st: Stats;
    try {
      st = statSync(candidate);
    } catch {
      continue;
    }
    if (st.isFile() && isExecutable(st, ids)) return { kind: 'found', path: candidate };
    denied = true;
  }
  return denied ? { kind: 'denied' } : { kind: 'missing' };
}

/**
 * Stands in for keepalived's libmagic test ("executable" or "shared object" in the description):
 * an ELF binary or a #! script is exec'd, anything else goes through /bin/sh.
 */
function hasExecMagic(path: string): boolean {
  const head = Buffer.alloc(4);
  let n = 0;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    n = readSync(fd, head, 0, 4, 0);
  } catch {
    // Unreadable by floatip itself: exec it and let the kernel decide, as keepalived does without magic.
    return true;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (n >= 2 && head[0] === 0x23 && head[1] === 0x21) return true;
  return n === 4 && head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
}
