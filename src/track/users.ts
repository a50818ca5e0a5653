/**
 * User and group names to ids through the C library (getpwnam/getgrnam), so names served by NSS
 * (LDAP, sssd) resolve the same way they do for keepalived, not only those in /etc/passwd.
 */
import koffi from 'koffi';

const lib = koffi.load(null);
const Passwd = koffi.struct('floatip_track_passwd', {
  pw_name: 'char *',
  pw_passwd: 'char *',
  pw_uid: 'uint32_t',
  pw_gid: 'uint32_t',
  pw_gecos: 'char *',
  pw_dir: 'char *',
  pw_shell: 'char *',
});
const Group = koffi.struct('floatip_track_group', {
  gr_name: 'char *',
  gr_passwd: 'char *',
  gr_gid: 'uint32_t',
  gr_mem: 'void *',
});
const getpwnam_ = lib.func('void *getpwnam(const char *name)') as (name: string) => unknown;
const getgrnam_ = lib.func('void *getgrnam(const char *name)') as (name: string) => unknown;

export interface UserIds {
  uid: number;
  gid: number;
}

/** null when the user does not exist. */
export function lookupUser(name: string): UserIds | null {
  if (/^\d+$/.test(name)) return { uid: Number(name), gid: Number(name) };
  const p = getpwnam_(name);
  if (p === null) return null;
  const pw = koffi.decode(p, Passwd) as { pw_uid: number; pw_gid: number };
  return { uid: pw.pw_uid, gid: pw.pw_gid };
}

/** null when the group does not exist. */
export function lookupGroup(name: string): number | null {
  if (/^\d+$/.test(name)) return Number(name);
  const g = getgrnam_(name);
  if (g === null) return null;
  return (koffi.decode(g, Group) as { gr_gid: number }).gr_gid;
}

/**
 * The uid/gid a script runs as, or undefined to run as floatip itself. keepalived's rules: the
 * script's `user [group]`, else the global script_user, else `keepalived_script` if that user
 * exists; a group not given is the user's primary group.
 */
export function scriptIdentity(
  who: string,
  user: string | undefined,
  group: string | undefined,
  opts: { euid: number },
): UserIds | undefined {
  let name = user;
  if (name === undefined) {
    if (opts.euid !== 0 || lookupUser('keepalived_script') === null) return undefined;
    name = 'keepalived_script';
  }
  const ids = lookupUser(name);
  if (!ids) throw new Error(`${who}: user "${name}" does not exist; create it or change "user"`);
  if (group !== undefined) {
    const gid = lookupGroup(group);
    if (gid === null)
      throw new Error(`${who}: group "${group}" does not exist; create it or change "user ${name} GROUP"`);
    ids.gid = gid;
  }
  if (opts.euid !== 0 && ids.uid !== opts.euid) {
    throw new Error(
      `${who}: must run as user "${name}" (uid ${ids.uid}) but floatip runs as uid ${opts.euid} and cannot switch users; run floatip as root or remove "user"`,
    );
  }
  return ids;
}
