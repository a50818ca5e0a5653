/**
 * keepalived.conf syntax: lexing, `include` expansion and block structure, producing a
 * position-carrying statement tree. Meaning (which keyword does what) lives in keepalived-map.ts.
 *
 * Lexing follows keepalived 2.2.7's lib/parser.c: `#` and `!` start a comment anywhere outside
 * double quotes (`\#` and `\!` are literal), `"..."` is one word with the quotes removed, `{` and
 * `}` stand alone even without surrounding blanks, and `include GLOB` may appear on any line.
 * keepalived only honours a trailing `\` inside `$NAME=` definitions; floatip joins any line
 * ending in `\` with the next one, which accepts a superset of what keepalived accepts.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ConfigDiagnostic, SourcePos } from './model.js';

export interface KaWord {
  text: string;
  pos: SourcePos;
  quoted: boolean;
}

export interface KaStatement {
  keyword: KaWord;
  args: KaWord[];
  /**
   * The arguments as written (comments removed, quotes kept), for keywords that keepalived
   * re-splits with its quote-and-escape rules (script, notify*).
   */
  rawArgs: string;
  /** Present when the statement opens a `{ ... }` block. */
  block?: KaStatement[];
}

/** File access for includes; load.ts provides the real one, tests may provide a map. */
export interface KaFileAccess {
  readFile(path: string): Promise<string>;
  /** Absolute paths matching the pattern, sorted; an empty list when nothing matches. */
  expandGlob(pattern: string): Promise<string[]>;
  /** Canonical identity of a file, for include-loop detection (e.g. fs.realpath). */
  realpath(path: string): Promise<string>;
}

export interface KaParseResult {
  statements: KaStatement[];
  diagnostics: ConfigDiagnostic[];
  /** Every file read, in reading order (the top-level file first). */
  files: string[];
}

type Token =
  | { kind: 'word'; word: KaWord; rawStart: number; rawEnd: number; line: LogicalLine }
  | { kind: '{' | '}' | 'nl'; pos: SourcePos };

interface LogicalLine {
  raw: string;
}

const MAX_INCLUDE_DEPTH = 32;
const GLOB_CHARS = /[*?[{]/;

/**
 * Parses keepalived configuration text. `file` names the text in diagnostics and anchors
 * relative includes; `io` is needed only when the text contains `include`.
 */
export async function parseKeepalived(text: string, file: string, io?: KaFileAccess): Promise<KaParseResult> {
  const diagnostics: ConfigDiagnostic[] = [];
  const files: string[] = [file];
  const tokens: Token[] = [];
  const rootId = io ? await io.realpath(file).catch(() => resolve(file)) : resolve(file);
  await lexWithIncludes(text, file, [rootId], io, tokens, diagnostics, files);
  const parser = new BlockParser(tokens, diagnostics);
  const statements = parser.parseTop();
  return { statements, diagnostics, files };
}

async function lexWithIncludes(
  text: string,
  file: string,
  stack: string[],
  io: KaFileAccess | undefined,
  out: Token[],
  diagnostics: ConfigDiagnostic[],
  files: string[],
): Promise<void> {
  const lineTokens = lexFile(text, file, diagnostics);
  for (const line of lineTokens) {
    const first = line[0];
    if (first?.kind === 'word' && !first.word.quoted && first.word.text === 'include') {
      await expandInclude(line, file, stack, io, out, diagnostics, files);
      continue;
    }
    out.push(...line);
  }
}

async function expandInclude(
  line: Token[],
  file: string,
  stack: string[],
  io: KaFileAccess | undefined,
  out: Token[],
  diagnostics: ConfigDiagnostic[],
  files: string[],
): Promise<void> {
  const kw = line[0];
  if (kw?.kind !== 'word') return;
  const words = line.filter((t): t is Extract<Token, { kind: 'word' }> => t.kind === 'word');
  const patternText = words
    .slice(1)
    .map((w) => w.word.text)
    .join(' ');
  const pos = kw.word.pos;
  if (!patternText) {
    diagnostics.push({ severity: 'error', message: 'include needs a file name or glob pattern', pos });
    return;
  }
  if (!io) {
    diagnostics.push({
      severity: 'error',
      message: `include ${patternText}: includes are not available when parsing text without file access`,
      pos,
    });
    return;
  }
  if (stack.length > MAX_INCLUDE_DEPTH) {
    diagnostics.push({
      severity: 'error',
      message: `include ${patternText}: includes nested deeper than ${MAX_INCLUDE_DEPTH}; flatten the configuration`,
      pos,
    });
    return;
  }
  const pattern = isAbsolute(patternText) ? patternText : resolve(dirname(file), patternText);
  let matches: string[];
  try {
    matches = await io.expandGlob(pattern);
  } catch (err) {
    diagnostics.push({ severity: 'error', message: `include ${patternText}: ${errorText(err)}`, pos });
    return;
  }
  if (matches.length === 0) {
    // keepalived is silent about an empty wildcard match but fails a missing literal file.
    if (GLOB_CHARS.test(patternText)) {
      diagnostics.push({
        severity: 'warning',
        message: `include ${patternText} matched no files (looked for ${pattern})`,
        pos,
      });
    } else {
      diagnostics.push({
        severity: 'error',
        message: `include ${patternText}: file ${pattern} does not exist; fix the path or remove the include`,
        pos,
      });
    }
    return;
  }
  for (const path of matches) {
    let id: string;
    let text: string;
    try {
      id = await io.realpath(path);
      if (stack.includes(id)) {
        const chain = [...stack.slice(stack.indexOf(id)), id].join(' -> ');
        diagnostics.push({
          severity: 'error',
          message: `include loop: ${chain}; remove the include that leads back to an including file`,
          pos,
        });
        continue;
      }
      text = await io.readFile(path);
    } catch (err) {
      diagnostics.push({ severity: 'error', message: `include ${path}: ${errorText(err)}`, pos });
      continue;
    }
    files.push(path);
    // An included file always ends its last statement, even without a trailing newline.
    await lexWithIncludes(text, path, [...stack, id], io, out, diagnostics, files);
    out.push({ kind: 'nl', pos });
  }
}

function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && err.code === 'ENOENT') return 'no such file';
  if (err && typeof err === 'object' && 'code' in err && err.code === 'EACCES') return 'permission denied';
  return err instanceof Error ? err.message : String(err);
}

/**
 * Splits one file into logical lines of tokens. Each returned line ends with an 'nl' token;
 * braces are tokens of their own, as keepalived's read_line splits at them.
 */
function lexFile(text: string, file: string, diagnostics: ConfigDiagnostic[]): Token[][] {
  const physical = text.split(/\r?\n/);
  const lines: Token[][] = [];
  let buf = '';
  let map: SourcePos[] = [];
  let joins: number[] = [];
  for (let ln = 0; ln < physical.length; ln++) {
    const src = physical[ln] ?? '';
    const trimmed = src.replace(/[ \t\r]+$/, '');
    // A trailing backslash continues the line, unless it is itself escaped (`\\`).
    const cont = /(^|[^\\])(\\\\)*\\$/.test(trimmed);
    // The join is exactly one blank, so a continued quoted string reads as written on one line.
    const body = cont ? trimmed.slice(0, -1).replace(/[ \t]+$/, '') : src;
    const first = joins.length > 0 ? body.length - body.replace(/^[ \t]+/, '').length : 0;
    for (let i = first; i < body.length; i++) {
      buf += body[i];
      map.push({ file, line: ln + 1, col: i + 1 });
    }
    if (cont) {
      joins.push(buf.length);
      buf += ' ';
      map.push({ file, line: ln + 1, col: trimmed.length });
      continue;
    }
    lines.push(lexLogical(buf, map, joins, { file, line: ln + 1, col: src.length + 1 }, diagnostics));
    buf = '';
    map = [];
    joins = [];
  }
  if (map.length > 0) {
    lines.push(lexLogical(buf, map, joins, { file, line: physical.length, col: 1 }, diagnostics));
  }
  return lines;
}

/** Tokenizes one logical line (physical lines joined at continuations); `map` gives each char's source. */
function lexLogical(
  buf: string,
  map: SourcePos[],
  joins: number[],
  end: SourcePos,
  diagnostics: ConfigDiagnostic[],
): Token[] {
  const out: Token[] = [];
  const line: LogicalLine = { raw: buf };
  let word = '';
  let start = -1;
  const flush = (quoted: boolean, rawEnd: number): void => {
    if (start < 0) return;
    out.push({
      kind: 'word',
      word: { text: word, quoted, pos: map[start] ?? end },
      rawStart: start,
      rawEnd,
      line,
    });
    word = '';
    start = -1;
  };
  let i = 0;
  while (i < buf.length) {
    const c = buf[i] as string;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      flush(false, i);
      i++;
      continue;
    }
    if (c === '#' || c === '!') {
      // A comment runs to the end of its physical line; a continued line after it still counts.
      flush(false, i);
      i = joins.find((j) => j > i) ?? buf.length;
      continue;
    }
    if (c === '\\' && i + 1 < buf.length) {
      if (start < 0) start = i;
      const next = buf[i + 1] as string;
      // `\#` and `\!` are literal; other escapes stay as written for script/notify to interpret.
      word += next === '#' || next === '!' ? next : c + next;
      i += 2;
      continue;
    }
    if (c === '{' || c === '}') {
      flush(false, i);
      out.push({ kind: c, pos: map[i] ?? end });
      i++;
      continue;
    }
    if (c === '"') {
      flush(false, i);
      const close = buf.indexOf('"', i + 1);
      if (close < 0) {
        diagnostics.push({
          severity: 'error',
          message: 'unterminated quoted string; add the closing "',
          pos: map[i] ?? end,
        });
        break;
      }
      start = i;
      word = buf.slice(i + 1, close);
      flush(true, close + 1);
      i = close + 1;
      continue;
    }
    if (start < 0) start = i;
    word += c;
    i++;
  }
  flush(false, buf.length);
  out.push({ kind: 'nl', pos: end });
  return out;
}

class BlockParser {
  private i = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly diagnostics: ConfigDiagnostic[],
  ) {}

  parseTop(): KaStatement[] {
    const out: KaStatement[] = [];
    while (this.i < this.tokens.length) {
      out.push(...this.parseBlockBody(null));
      const t = this.tokens[this.i];
      if (t && t.kind === '}') {
        this.diagnostics.push({
          severity: 'error',
          message: "extra '}' with no block open; remove it or add the missing '{'",
          pos: t.pos,
        });
        this.i++;
      }
    }
    return out;
  }

  /** Parses statements until the matching '}' (consumed) or, at top level, until a stray '}' or the end. */
  private parseBlockBody(opener: KaWord | null): KaStatement[] {
    const out: KaStatement[] = [];
    while (true) {
      const t = this.tokens[this.i];
      if (!t) {
        if (opener) {
          this.diagnostics.push({
            severity: 'error',
            message: `block '${opener.text}' is never closed; add the missing '}'`,
            pos: opener.pos,
          });
        }
        return out;
      }
      if (t.kind === 'nl') {
        this.i++;
        continue;
      }
      if (t.kind === '}') {
        if (opener) this.i++;
        return out;
      }
      if (t.kind === '{') {
        this.diagnostics.push({
          severity: 'warning',
          message: "unexpected '{' without a keyword; the block is ignored",
          pos: t.pos,
        });
        this.i++;
        this.parseBlockBody({ text: '{', pos: t.pos, quoted: false });
        continue;
      }
      out.push(this.parseStatement());
    }
  }

  private parseStatement(): KaStatement {
    const first = this.tokens[this.i] as Extract<Token, { kind: 'word' }>;
    this.i++;
    const args: KaWord[] = [];
    let rawStart = first.rawEnd;
    let rawEnd = first.rawEnd;
    let started = false;
    while (true) {
      const t = this.tokens[this.i];
      if (!t || t.kind !== 'word') break;
      if (!started) {
        rawStart = t.rawStart;
        started = true;
      }
      rawEnd = t.rawEnd;
      args.push(t.word);
      this.i++;
    }
    const stmt: KaStatement = {
      keyword: first.word,
      args,
      rawArgs: started ? first.line.raw.slice(rawStart, rawEnd) : '',
    };
    // keepalived accepts the '{' on the keyword's line or on the next non-blank line.
    let j = this.i;
    while (this.tokens[j]?.kind === 'nl') j++;
    if (this.tokens[j]?.kind === '{') {
      this.i = j + 1;
      stmt.block = this.parseBlockBody(first.word);
    }
    return stmt;
  }
}

/**
 * Splits text the way keepalived's alloc_strvec_quoted_escaped does for script and notify
 * lines: blanks separate words, '...' and "..." group, and backslash escapes (\n, \t, \xHH,
 * octal, \cX, and \<any> for a literal character) are decoded.
 */
export function splitQuotedEscaped(src: string): { words: string[]; error?: string } {
  const words: string[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    while (i < n && /\s/.test(src[i] as string)) i++;
    if (i >= n) break;
    let out = '';
    let quote: string | null = null;
    while (i < n) {
      const c = src[i] as string;
      if (c === '\\') {
        i++;
        if (i >= n) return { words, error: 'backslash at the end of the text' };
        const e = src[i] as string;
        if (e === 'x' && /[0-9a-fA-F]/.test(src[i + 1] ?? '')) {
          i++;
          let v = 0;
          while (i < n && /[0-9a-fA-F]/.test(src[i] as string))
            v = ((v << 4) | parseInt(src[i++] as string, 16)) & 0xff;
          out += String.fromCharCode(v);
        } else if (e === 'c' && i + 1 < n) {
          out += String.fromCharCode((src[i + 1] as string).charCodeAt(0) & 0x1f);
          i += 2;
        } else if (e >= '0' && e <= '7') {
          let v = 0;
          let k = 0;
          while (k < 3 && i < n && (src[i] as string) >= '0' && (src[i] as string) <= '7') {
            v = (v << 3) + Number(src[i++]);
            k++;
          }
          out += String.fromCharCode(v & 0xff);
        } else {
          const map: Record<string, string> = {
            a: '\x07',
            b: '\b',
            E: '\x1b',
            f: '\f',
            n: '\n',
            r: '\r',
            t: '\t',
            v: '\v',
          };
          out += map[e] ?? e;
          i++;
        }
        continue;
      }
      if (quote) {
        if (c === quote) {
          quote = null;
          i++;
          continue;
        }
        out += c;
        i++;
        continue;
      }
      if (c === '"' || c === "'") {
        quote = c;
        i++;
        continue;
      }
      if (/\s/.test(c)) break;
      out += c;
      i++;
    }
    if (quote) return { words, error: `missing terminating ${quote}` };
    words.push(out);
  }
  return { words };
}
