/**
 * Entry point for configuration: picks the format, runs the loader and the shared checks, and
 * turns every failure (including IO) into diagnostics. Callers get a config only when there is
 * no error.
 */
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, resolve, sep } from 'node:path';
import type { ConfigDiagnostic, FloatipConfig } from './model.js';
import { parseKeepalived, type KaFileAccess } from './keepalived-conf.js';
import { mapKeepalived } from './keepalived-map.js';
import { loadYamlText } from './yaml-config.js';
import { validateConfig } from './validate.js';

export interface LoadResult {
  config: FloatipConfig | null;
  diagnostics: ConfigDiagnostic[];
}

/** .yaml/.yml → yaml; .conf → keepalived; otherwise keepalived if the text looks like it. */
export function detectFormat(file: string, text: string): 'yaml' | 'keepalived' {
  const ext = extname(file).toLowerCase();
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  if (ext === '.conf') return 'keepalived';
  // keepalived files are `keyword ... {` blocks; YAML top-level keys end in ':'.
  if (
    /^\s*(global_defs|vrrp_instance|vrrp_script|vrrp_sync_group|vrrp_track_process|track_file|include)\b/m.test(
      text,
    )
  ) {
    return 'keepalived';
  }
  if (/^\s*[{}]\s*$/m.test(text)) return 'keepalived';
  return 'yaml';
}

export async function loadConfig(path: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return {
      config: null,
      diagnostics: [
        {
          severity: 'error',
          message: `cannot read configuration file ${path}: ${ioMessage(err)}`,
          pos: { file: path, line: 1, col: 1 },
        },
      ],
    };
  }
  return loadConfigText(text, path);
}

export async function loadConfigText(
  text: string,
  file: string,
  format?: 'yaml' | 'keepalived',
): Promise<LoadResult> {
  const fmt = format ?? detectFormat(file, text);
  const diagnostics: ConfigDiagnostic[] = [];
  let config: FloatipConfig | null = null;
  try {
    if (fmt === 'keepalived') {
      const parsed = await parseKeepalived(text, file, nodeFileAccess);
      diagnostics.push(...parsed.diagnostics);
      const mapped = mapKeepalived(parsed.statements, file);
      diagnostics.push(...mapped.diagnostics);
      diagnostics.push(...validateConfig(mapped.config, mapped.positions));
      config = mapped.config;
    } else {
      const loaded = loadYamlText(text, file);
      diagnostics.push(...loaded.diagnostics);
      if (loaded.config && loaded.positions) {
        diagnostics.push(...validateConfig(loaded.config, loaded.positions));
        config = loaded.config;
      }
    }
  } catch (err) {
    // A loader bug must still come out as a diagnostic, never as a crash at start-up.
    diagnostics.push({
      severity: 'error',
      message: `internal error while loading the configuration: ${err instanceof Error ? err.message : String(err)}`,
      pos: { file, line: 1, col: 1 },
    });
  }
  const failed = diagnostics.some((d) => d.severity === 'error');
  return { config: failed ? null : config, diagnostics: sortDiagnostics(diagnostics) };
}

function sortDiagnostics(ds: ConfigDiagnostic[]): ConfigDiagnostic[] {
  // Stable: keeps include order for different files, orders by line within one file.
  return ds
    .map((d, i) => ({ d, i }))
    .sort((a, b) => {
      const pa = a.d.pos;
      const pb = b.d.pos;
      if (!pa || !pb || pa.file !== pb.file) return a.i - b.i;
      return pa.line - pb.line || pa.col - pb.col || a.i - b.i;
    })
    .map((x) => x.d);
}

function ioMessage(err: unknown): string {
  const code = err && typeof err === 'object' && 'code' in err ? String(err.code) : '';
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied (run as a user that can read it)';
  if (code === 'EISDIR') return 'is a directory, not a file';
  return err instanceof Error ? err.message : String(err);
}

/** File access for keepalived includes, with glob(3)-style matching of *, ?, [...] and {a,b}. */
export const nodeFileAccess: KaFileAccess = {
  readFile: (path) => readFile(path, 'utf8'),
  realpath: (path) => realpath(path),
  expandGlob,
};

export async function expandGlob(pattern: string): Promise<string[]> {
  const results = new Set<string>();
  for (const p of expandBraces(pattern)) {
    for (const m of await globOne(p)) results.add(m);
  }
  return [...results].sort();
}

function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{');
  if (open < 0) return [pattern];
  let depth = 0;
  const parts: string[] = [];
  let start = open + 1;
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) {
        parts.push(pattern.slice(start, i));
        const pre = pattern.slice(0, open);
        const post = pattern.slice(i + 1);
        return parts.flatMap((part) => expandBraces(pre + part + post));
      }
    } else if (c === ',' && depth === 1) {
      parts.push(pattern.slice(start, i));
      start = i + 1;
    }
  }
  return [pattern];
}

const WILD = /[*?[]/;

async function globOne(pattern: string): Promise<string[]> {
  const abs = isAbsolute(pattern) ? pattern : resolve(pattern);
  const segments = abs.split(sep).filter((s) => s.length > 0);
  let current: string[] = [sep];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string;
    const next: string[] = [];
    for (const dir of current) {
      if (!WILD.test(seg)) {
        next.push(join(dir, seg));
        continue;
      }
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      const re = segmentRegex(seg);
      for (const n of names) {
        // As in glob(3), a leading dot must be matched explicitly.
        if (n.startsWith('.') && !seg.startsWith('.')) continue;
        if (re.test(n)) next.push(join(dir, n));
      }
    }
    current = next;
  }
  const out: string[] = [];
  for (const p of current) {
    try {
      if ((await stat(p)).isFile()) out.push(p);
    } catch {
      // A literal path that does not exist is simply not a match.
    }
  }
  return out;
}

function segmentRegex(seg: string): RegExp {
  let re = '^';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i] as string;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = seg.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = seg.slice(i + 1, close);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += '[' + body.replace(/\\/g, '\\\\') + ']';
      i = close;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(re + '$');
}
