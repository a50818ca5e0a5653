/** IPv4 text helpers: EC2 validates addresses and CIDRs before it looks at state. */

export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value;
}

export function isIpv4(text: string): boolean {
  return parseIpv4(text) !== null;
}

export interface Cidr {
  base: number;
  prefix: number;
}

export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const base = parseIpv4(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (base === null || !/^[0-9]{1,2}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > 32) return null;
  return { base, prefix };
}

export function cidrContains(cidr: Cidr, address: number): boolean {
  const size = 2 ** (32 - cidr.prefix);
  const network = Math.floor(cidr.base / size) * size;
  return address >= network && address < network + size;
}
