/**
 * keepalived's check_script_secure rules on real files: refusals under enable_script_security,
 * warnings without it, the cases where no check applies, path search and realpath, and the
 * default script user. Ownership changes need root; without it those tests skip with one line.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveScriptIdentity, type IdentityDeps } from '../../providers/script/identity.js';
import { checkPathSecurity, isExecutable, prepareCommand } from '../../providers/script/security.js';

const isRoot = process.geteuid?.() === 0;
const needRoot = isRoot ? {} : { skip: 'needs root to chown test files' };
const ROOT = { uid: 0, gid: 0 };
const NOBODY = { uid: 65534, gid: 65534 };
const secure = { scriptSecurity: true };
const lax = { scriptSecurity: false };

// mkdtemp under the system temp dir: root-owned (when root) and 0700, under a sticky /tmp.
const dir = mkdtempSync(join(tmpdir(), 'floatip-script-sec-'));
chmodSync(dir, 0o755);
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function script(mode = 0o755, body = 'exit 0', sub?: string): string {
  const d = sub ? join(dir, sub) : dir;
  mkdirSync(d, { recursive: true });
  const p = join(d, `s${n++}.sh`);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, mode);
  return p;
}

test("a root-owned script in root-owned directories is accepted and exec'd directly", { ...needRoot }, () => {
  const s = script();
  const p = prepareCommand('notify_master of vrrp_instance VI_1', `${s} a "b c"`, ROOT, secure);
  assert.deepEqual(p.argv, [s, 'a', 'b c']);
  assert.equal(p.shell, false);
  assert.equal(p.insecure, false);
  assert.deepEqual(p.warnings, []);
});

test(
  'world-writable script: refused with enable_script_security, naming file and reason',
  { ...needRoot },
  () => {
    const s = script(0o757);
    assert.throws(
      () => prepareCommand('notify_master of vrrp_instance VI_1', s, ROOT, secure),
      (e: Error) => {
        assert.match(e.message, /^notify_master of vrrp_instance VI_1: unsafe permissions for script /);
        assert.ok(e.message.includes(`${s}: it is world-writable`), e.message);
        assert.match(e.message, /enable_script_security refuses it/);
        return true;
      },
    );
  },
);

test(
  'without enable_script_security an insecure script only warns, as keepalived does',
  { ...needRoot },
  () => {
    const s = script(0o757);
    const p = prepareCommand('notify_backup of vrrp_instance VI_1', s, ROOT, lax);
    assert.equal(p.insecure, true);
    assert.equal(p.warnings.length, 1);
    assert.match(p.warnings[0] as string, /^Unsafe permissions found for script '.*': .*world-writable/);
  },
);

test('a parent directory writable by others (no sticky bit) is refused', { ...needRoot }, () => {
  const s = script(0o755, 'exit 0', 'opendir');
  chmodSync(join(dir, 'opendir'), 0o777);
  assert.throws(
    () => prepareCommand('notify', s, ROOT, secure),
    (e: Error) =>
      e.message.includes(`${join(dir, 'opendir')}: it is a world-writable directory without the sticky bit`),
  );
});

test('a world-writable directory with the sticky bit (like /tmp) is accepted', { ...needRoot }, () => {
  const s = script(0o755, 'exit 0', 'stickydir');
  chmodSync(join(dir, 'stickydir'), 0o1777);
  assert.equal(prepareCommand('notify', s, ROOT, secure).insecure, false);
});

test('a script owned by a non-root user is refused, whatever its mode', { ...needRoot }, () => {
  const s = script(0o755);
  chownSync(s, NOBODY.uid, 0);
  assert.throws(
    () => prepareCommand('notify_fault of vrrp_instance VI_1', s, ROOT, secure),
    (e: Error) => e.message.includes(`${s}: it is owned by uid 65534, not root`),
  );
});

test('a directory owned by a non-root user is refused', { ...needRoot }, () => {
  const s = script(0o755, 'exit 0', 'nobodys');
  chownSync(join(dir, 'nobodys'), NOBODY.uid, NOBODY.gid);
  assert.throws(
    () => prepareCommand('notify', s, ROOT, secure),
    (e: Error) => e.message.includes(`${join(dir, 'nobodys')}: it is owned by uid 65534`),
  );
});

test("group-writable: fine for root's group, refused for another group", { ...needRoot }, () => {
  const rootGroup = script(0o775);
  assert.equal(prepareCommand('notify', rootGroup, ROOT, secure).insecure, false);
  const otherGroup = script(0o775);
  chownSync(otherGroup, 0, NOBODY.gid);
  assert.throws(
    () => prepareCommand('notify', otherGroup, ROOT, secure),
    /it is writable by group 65534, not root's group/,
  );
});

test(
  'a script run as a non-root user is not path-checked (keepalived only guards root)',
  { ...needRoot },
  () => {
    const s = script(0o757);
    const p = prepareCommand('notify', s, NOBODY, secure);
    assert.equal(p.insecure, false);
  },
);

test('...unless it is setuid root: then it is checked even for a non-root user', { ...needRoot }, () => {
  const s = script(0o4757);
  assert.throws(() => prepareCommand('notify', s, NOBODY, secure), /world-writable/);
});

test("the real file behind a symlink is what gets exec'd and checked", { ...needRoot }, () => {
  const real = script(0o757, 'exit 0', 'realdir');
  const link = join(dir, `link${n++}`);
  symlinkSync(real, link);
  const p = prepareCommand('notify', `${link} x`, ROOT, lax);
  assert.deepEqual(p.argv, [real, 'x']);
  assert.equal(p.insecure, true);
  assert.ok(p.warnings.some((w) => w.includes(real)));
});

test('not executable for the script user: refused even without script security', () => {
  const s = script(0o744);
  assert.throws(
    () => prepareCommand('notify_master of vrrp_instance VI_1', s, NOBODY, lax),
    /is not executable for uid:gid 65534:65534/,
  );
  // Root may run anything with any x bit.
  const groupOnly = script(0o710);
  assert.equal(prepareCommand('notify', groupOnly, ROOT, lax).argv[0], groupOnly);
});

test('missing file, empty command, unbalanced quote and "</file" are refused with the reason', () => {
  assert.throws(() => prepareCommand('notify', join(dir, 'nope.sh'), ROOT, lax), /cannot be accessed/);
  assert.throws(() => prepareCommand('notify', '', ROOT, lax), /it is empty/);
  assert.throws(() => prepareCommand('notify', `${script()} "oops`, ROOT, lax), /missing terminating "/);
  assert.throws(() => prepareCommand('notify', '</etc/passwd', ROOT, lax), /file-existence test/);
});

test('a bare name is found on PATH, with keepalived\'s "specify full path" warning', () => {
  const s = script();
  const name = s.slice(s.lastIndexOf('/') + 1);
  const p = prepareCommand('notify', `${name} arg`, ROOT, {
    scriptSecurity: false,
    path: `/nonexistent:${dir}`,
  });
  assert.deepEqual(p.argv, [s, 'arg']);
  assert.ok(
    p.warnings.some((w) => w.includes('resolved by path search') && w.includes('Please specify full path')),
  );
  assert.throws(
    () => prepareCommand('notify', 'floatip-no-such-cmd', ROOT, { scriptSecurity: false, path: dir }),
    /was not found in PATH/,
  );
});

test('a file without #! is run through /bin/sh, as keepalived (libmagic) does, with a warning', () => {
  const p = join(dir, `plain${n++}`);
  writeFileSync(p, 'exit 0\n');
  chmodSync(p, 0o755);
  const c = prepareCommand('notify', p, ROOT, lax);
  assert.equal(c.shell, true);
  assert.ok(c.warnings.includes(`Please add a #! shebang to script ${p}`));
  assert.equal(prepareCommand('notify', '/bin/true', ROOT, lax).shell, false, "ELF binaries are exec'd");
});

test('checkPathSecurity walks from / and stops at the first unsafe component', () => {
  const modes: Record<string, { dir: boolean; mode: number; uid: number; gid: number }> = {
    '/': { dir: true, mode: 0o755, uid: 0, gid: 0 },
    '/a': { dir: true, mode: 0o777, uid: 0, gid: 0 },
    '/a/b': { dir: true, mode: 0o755, uid: 1000, gid: 0 },
    '/a/b/f': { dir: false, mode: 0o755, uid: 0, gid: 0 },
  };
  const seen: string[] = [];
  const lstat = (p: string) => {
    seen.push(p);
    const m = modes[p];
    if (!m) throw new Error('ENOENT');
    return {
      mode: m.mode,
      uid: m.uid,
      gid: m.gid,
      isDirectory: () => m.dir,
      isFile: () => !m.dir,
      isSymbolicLink: () => false,
    } as unknown as import('node:fs').Stats;
  };
  assert.deepEqual(checkPathSecurity('/a/b/f', lstat), {
    kind: 'unsafe',
    component: '/a',
    reason: 'it is a world-writable directory without the sticky bit',
  });
  assert.deepEqual(seen, ['/', '/a']);
  modes['/a'] = { dir: true, mode: 0o1777, uid: 0, gid: 0 };
  assert.deepEqual(checkPathSecurity('/a/b/f', lstat), {
    kind: 'unsafe',
    component: '/a/b',
    reason: 'it is owned by uid 1000, not root',
  });
  modes['/a/b'] = { dir: true, mode: 0o755, uid: 0, gid: 0 };
  assert.deepEqual(checkPathSecurity('/a/b/f', lstat), { kind: 'ok' });
  modes['/a/b'] = { dir: false, mode: 0o755, uid: 0, gid: 0 };
  assert.deepEqual(checkPathSecurity('/a/b/f', lstat), { kind: 'wrong-type', component: '/a/b' });
});

test('isExecutable follows keepalived: owner bits for the owner, group bits only for a non-owner', () => {
  const st = (mode: number, uid: number, gid: number) => ({ mode, uid, gid });
  assert.equal(isExecutable(st(0o100, 5, 5), { uid: 0, gid: 0 }), true);
  assert.equal(isExecutable(st(0o644, 5, 5), { uid: 0, gid: 0 }), false);
  assert.equal(isExecutable(st(0o011, 5, 5), { uid: 5, gid: 5 }), false, 'owner without u+x');
  assert.equal(isExecutable(st(0o010, 5, 7), { uid: 6, gid: 7 }), true);
  assert.equal(isExecutable(st(0o001, 5, 7), { uid: 6, gid: 7 }), false, 'group member uses group bits');
  assert.equal(isExecutable(st(0o001, 5, 7), { uid: 6, gid: 8 }), true);
});

function deps(
  o: Partial<IdentityDeps> & { users?: Record<string, { uid: number; gid: number }> },
): IdentityDeps {
  const users = o.users ?? {};
  return {
    euid: 0,
    egid: 0,
    lookupUser: (name) => users[name] ?? null,
    lookupGroup: (name) => (name === 'staff' ? 50 : null),
    ...o,
  };
}

test('script user: script_user [group], else keepalived_script, else ourselves', () => {
  const users = { alice: { uid: 1001, gid: 1001 }, keepalived_script: { uid: 998, gid: 997 } };
  const off = { enableScriptSecurity: false };
  assert.deepEqual(resolveScriptIdentity({ ...off, scriptUser: 'alice' }, deps({ users })), {
    ids: { uid: 1001, gid: 1001 },
    source: 'script_user',
  });
  assert.deepEqual(
    resolveScriptIdentity({ ...off, scriptUser: 'alice', scriptGroup: 'staff' }, deps({ users })).ids,
    {
      uid: 1001,
      gid: 50,
    },
  );
  assert.deepEqual(resolveScriptIdentity(off, deps({ users })), {
    ids: { uid: 998, gid: 997 },
    source: 'keepalived_script',
  });
  assert.deepEqual(resolveScriptIdentity(off, deps({})), { ids: { uid: 0, gid: 0 }, source: 'self' });
});

test('script user errors: unknown user or group; security without keepalived_script; no root to switch', () => {
  const off = { enableScriptSecurity: false };
  assert.throws(
    () => resolveScriptIdentity({ ...off, scriptUser: 'ghost' }, deps({})),
    /script_user "ghost" does not exist/,
  );
  assert.throws(
    () =>
      resolveScriptIdentity(
        { ...off, scriptUser: 'alice', scriptGroup: 'nogrp' },
        deps({ users: { alice: NOBODY } }),
      ),
    /group "nogrp" does not exist/,
  );
  assert.throws(
    () => resolveScriptIdentity({ enableScriptSecurity: true }, deps({})),
    /enable_script_security is set but script_user is not, and the default script user keepalived_script does not exist/,
  );
  assert.throws(
    () =>
      resolveScriptIdentity(
        { ...off, scriptUser: 'alice' },
        deps({ euid: 1000, egid: 1000, users: { alice: NOBODY } }),
      ),
    /cannot switch; run floatip as root/,
  );
  // Unprivileged runs fall back to themselves rather than to keepalived_script.
  assert.deepEqual(
    resolveScriptIdentity(off, deps({ euid: 1000, egid: 1000, users: { keepalived_script: NOBODY } })).ids,
    { uid: 1000, gid: 1000 },
  );
});
