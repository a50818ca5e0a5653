/**
 * EC2 filter semantics: values within one filter are ORed, filters are ANDed, values may use the
 * `*` and `?` wildcards, and an unknown filter name is an error (not silently ignored).
 */
import { Ec2Error } from './errors.js';
import type { Tag } from './model.js';
import type { Filter } from './wire.js';

type Field = string | number | boolean | undefined;
export type FilterTable<V> = Record<string, (view: V) => Field | Field[]>;

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function applyFilters<V extends { tags: Tag[] }>(
  views: V[],
  filters: Filter[],
  table: FilterTable<V>,
): V[] {
  const compiled = filters.map((f) => {
    const field = fieldFor(f.name, table);
    return { field, patterns: f.values.map(globToRegExp) };
  });
  return views.filter((v) =>
    compiled.every(({ field, patterns }) => {
      const raw = field(v);
      const values = (Array.isArray(raw) ? raw : [raw]).filter((x) => x !== undefined).map(String);
      return values.some((value) => patterns.some((p) => p.test(value)));
    }),
  );
}

function fieldFor<V extends { tags: Tag[] }>(
  name: string,
  table: FilterTable<V>,
): (view: V) => Field | Field[] {
  const direct = table[name];
  if (direct) return direct;
  if (name.startsWith('tag:')) {
    const tagKey = name.slice(4);
    return (v) => v.tags.filter((t) => t.key === tagKey).map((t) => t.value);
  }
  if (name === 'tag-key') return (v) => v.tags.map((t) => t.key);
  throw new Ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
}
