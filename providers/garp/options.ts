/** The garp provider's own options (the `providers: - type: garp` entry of an instance). */

export interface GarpOptions {
  /** Send gratuitous ARP / unsolicited NA on acquire. Off where L2 announcements are pointless (clouds). */
  announce: boolean;
  /** Add the VIPs to the interface on acquire and remove them on release. */
  manageAddresses: boolean;
}

const KNOWN = ['announce', 'manage_addresses'] as const;

/** Throws an error naming the instance and the offending option. */
export function parseGarpOptions(raw: Record<string, unknown>, instance: string): GarpOptions {
  for (const key of Object.keys(raw)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      throw new Error(
        `instance ${instance}: garp provider: unknown option "${key}"; the options are ${KNOWN.join(', ')}`,
      );
    }
  }
  const bool = (key: (typeof KNOWN)[number]): boolean => {
    const v = raw[key];
    if (v === undefined) return true;
    if (typeof v !== 'boolean') {
      throw new Error(
        `instance ${instance}: garp provider: option ${key} must be true or false, not ${JSON.stringify(v)}`,
      );
    }
    return v;
  };
  const opts = { announce: bool('announce'), manageAddresses: bool('manage_addresses') };
  return opts;
}
