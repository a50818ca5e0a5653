/**
 * Which uid/gid notify scripts run as, by keepalived 2.2.7's rules (lib/notify.c
 * get_default_script_user / set_default_script_user): the global `script_user USER [GROUP]`;
 * else the user keepalived_script if it exists; else floatip's own ids, except that with
 * enable_script_security a missing keepalived_script is a configuration error.
 */
import type { ScriptIds } from './security.js';

export interface IdentityDeps {
  euid: number;
  egid: number;
  lookupUser: (name: string) => ScriptIds | null;
  lookupGroup: (name: string) => number | null;
}

export interface ScriptIdentity {
  ids: ScriptIds;
  /** Where the ids came from, for the start-up log line. */
  source: 'script_user' | 'keepalived_script' | 'self';
}

export function resolveScriptIdentity(
  g: { scriptUser?: string; scriptGroup?: string; enableScriptSecurity: boolean },
  deps: IdentityDeps,
): ScriptIdentity {
  const self: ScriptIds = { uid: deps.euid, gid: deps.egid };
  let found: ScriptIdentity;
  if (g.scriptUser !== undefined) {
    const u = deps.lookupUser(g.scriptUser);
    if (!u)
      throw new Error(`script_user "${g.scriptUser}" does not exist; create the user or change script_user`);
    const ids = { ...u };
    if (g.scriptGroup !== undefined) {
      const gid = deps.lookupGroup(g.scriptGroup);
      if (gid === null) {
        throw new Error(
          `script_user ${g.scriptUser} ${g.scriptGroup}: group "${g.scriptGroup}" does not exist; create it or change script_user`,
        );
      }
      ids.gid = gid;
    }
    found = { ids, source: 'script_user' };
  } else {
    const ks = deps.lookupUser('keepalived_script');
    if (ks) {
      // Without root floatip cannot switch to it; keepalived would fail in the child instead.
      // Running as ourselves keeps unprivileged test and development runs working.
      if (deps.euid !== 0) return { ids: self, source: 'self' };
      found = { ids: { ...ks }, source: 'keepalived_script' };
    } else {
      if (g.enableScriptSecurity) {
        throw new Error(
          'enable_script_security is set but script_user is not, and the default script user keepalived_script ' +
            'does not exist; create keepalived_script (useradd -r -s /sbin/nologin keepalived_script) or set script_user',
        );
      }
      return { ids: self, source: 'self' };
    }
  }
  if (deps.euid !== 0 && (found.ids.uid !== deps.euid || found.ids.gid !== deps.egid)) {
    throw new Error(
      `notify scripts must run as uid:gid ${found.ids.uid}:${found.ids.gid} (${found.source}) but floatip runs as ` +
        `${deps.euid}:${deps.egid} and cannot switch; run floatip as root or remove script_user`,
    );
  }
  return found;
}
