/**
 * The ec2Query wire format: form-encoded requests with flattened, 1-based list members
 * (`Filter.1.Value.2`), and XML responses in the 2016-11-15 namespace with `xxxSet/item` lists.
 */
import { Ec2Error, invalidValue } from './errors.js';

export const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
export const EC2_API_VERSION = '2016-11-15';

export interface Filter {
  name: string;
  values: string[];
}

export class QueryParams {
  constructor(readonly raw: ReadonlyMap<string, string>) {}

  static parse(body: string): QueryParams {
    const map = new Map<string, string>();
    for (const [k, v] of new URLSearchParams(body)) map.set(k, v);
    return new QueryParams(map);
  }

  str(name: string): string | undefined {
    return this.raw.get(name);
  }

  bool(name: string): boolean | undefined {
    const v = this.raw.get(name);
    if (v === undefined) return undefined;
    const lower = v.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    throw invalidValue(name, v, 'Expected true or false.');
  }

  /** `Prefix.1`, `Prefix.2`, … in index order (gaps allowed, as EC2 tolerates them). */
  list(prefix: string): string[] {
    return this.indexed(prefix)
      .map(([, rest, value]) => (rest === '' ? value : undefined))
      .filter((v): v is string => v !== undefined);
  }

  filters(): Filter[] {
    const byIndex = new Map<number, { name?: string; values: Array<[number, string]> }>();
    for (const [index, rest, value] of this.indexed('Filter')) {
      const entry = byIndex.get(index) ?? { values: [] };
      byIndex.set(index, entry);
      if (rest === '.Name') entry.name = value;
      const m = /^\.Value\.([0-9]+)$/.exec(rest);
      if (m) entry.values.push([Number(m[1]), value]);
    }
    return [...byIndex.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, e]) => {
        if (e.name === undefined) {
          throw new Ec2Error('InvalidParameterValue', `The filter Filter.${index} has no Name`);
        }
        return { name: e.name, values: e.values.sort(([a], [b]) => a - b).map(([, v]) => v) };
      });
  }

  /** Everything as a plain object, for the call log. */
  toObject(): Record<string, string> {
    return Object.fromEntries(this.raw);
  }

  private indexed(prefix: string): Array<[number, string, string]> {
    const out: Array<[number, string, string]> = [];
    const re = new RegExp(`^${prefix.replaceAll('.', '\\.')}\\.([0-9]+)(.*)$`);
    for (const [k, v] of this.raw) {
      const m = re.exec(k);
      if (m) out.push([Number(m[1]), m[2]!, v]);
    }
    return out.sort(([a], [b]) => a - b);
  }
}

// ---- XML ----

export type XmlContent = string | number | boolean | XmlNode[] | undefined | null;
export interface XmlNode {
  name: string;
  content: string | XmlNode[];
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) =>
    c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : c === "'" ? '&apos;' : '&quot;',
  );
}

/** An element, or nothing when the value is absent, as EC2 omits unset members. */
export function el(name: string, content: XmlContent): XmlNode[] {
  if (content === undefined || content === null) return [];
  return [{ name, content: Array.isArray(content) ? content : String(content) }];
}

/** `<name><item>…</item>…</name>`: EC2's list encoding. Empty lists are still emitted. */
export function set<T>(name: string, items: readonly T[], render: (item: T) => XmlNode[]): XmlNode[] {
  return [{ name, content: items.map((i) => ({ name: 'item', content: render(i) })) }];
}

export function tagSet(tags: ReadonlyArray<{ key: string; value: string }>): XmlNode[] {
  if (tags.length === 0) return [];
  return set('tagSet', tags, (t) => [...el('key', t.key), ...el('value', t.value)]);
}

function write(node: XmlNode, out: string[]): void {
  if (typeof node.content === 'string') {
    out.push(`<${node.name}>${escapeXml(node.content)}</${node.name}>`);
  } else if (node.content.length === 0) {
    out.push(`<${node.name}/>`);
  } else {
    out.push(`<${node.name}>`);
    for (const c of node.content) write(c, out);
    out.push(`</${node.name}>`);
  }
}

export function successXml(action: string, requestId: string, body: XmlNode[]): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>\n', `<${action}Response xmlns="${EC2_XMLNS}">`];
  write({ name: 'requestId', content: requestId }, out);
  for (const n of body) write(n, out);
  out.push(`</${action}Response>`);
  return out.join('');
}

export function errorXml(code: string, message: string, requestId: string): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  write(
    {
      name: 'Response',
      content: [
        {
          name: 'Errors',
          content: [{ name: 'Error', content: [...el('Code', code), ...el('Message', message)] }],
        },
        ...el('RequestID', requestId),
      ],
    },
    out,
  );
  return out.join('');
}
