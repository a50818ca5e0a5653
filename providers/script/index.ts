/**
 * The `script` provider: keepalived 2.2.7's notify_master / notify_backup / notify_fault /
 * notify_stop, the generic `notify` (with `INSTANCE|GROUP NAME STATE PRIORITY` appended) and the
 * process-wide notify_fifo, with keepalived's argv, user and script-security rules
 * (keepalived/vrrp/vrrp_notify.c, lib/notify.c). It moves no address: acquire/release do nothing
 * and holder() has no read-back.
 *
 * On a transition the state's own command and the generic one are started together and the FIFO
 * line is written right after, which is keepalived's order (it forks both and never waits); then
 * floatip waits for both, bounded by `timeout` (`stop_timeout` on STOP), so the outcome is logged.
 * A failed command is not retried (keepalived does not either): it surfaces as a ProviderError
 * with retryable:false. Aborting the signal kills the commands' process groups.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { GlobalSpec, NotifyCommands } from '../../src/config/model.js';
import {
  ProviderError,
  type HolderId,
  type NotifyState,
  type Provider,
  type ProviderContext,
  type ProviderFactory,
  type TransitionNotice,
} from '../../src/notify/provider.js';
import { lookupGroup, lookupUser } from '../../src/track/users.js';
import { fifoLine, openNotifyFifo, type NotifyFifo } from './fifo.js';
import { resolveScriptIdentity, type IdentityDeps, type ScriptIdentity } from './identity.js';
import { parseScriptOptions, type ScriptOptions } from './options.js';
import { runNotifyCommand, type RunResult } from './run-script.js';
import { prepareCommand, type PreparedCommand } from './security.js';

export type { ScriptOptions } from './options.js';
export { fifoLine } from './fifo.js';

/** Seams for tests; the daemon uses the defaults. */
export interface ScriptTestHooks {
  identity?: Partial<IdentityDeps>;
  /** PATH used to resolve bare command names (default: floatip's own). */
  path?: string;
}

type Slot = 'master' | 'backup' | 'fault' | 'stop';
const SLOT: Record<NotifyState, Slot> = { MASTER: 'master', BACKUP: 'backup', FAULT: 'fault', STOP: 'stop' };
const KEYWORD: Record<Slot | 'generic', string> = {
  master: 'notify_master',
  backup: 'notify_backup',
  fault: 'notify_fault',
  stop: 'notify_stop',
  generic: 'notify',
};

type CommandSet = Partial<Record<Slot | 'generic', PreparedCommand>>;

interface Prepared {
  identity: ScriptIdentity;
  instance: CommandSet;
  /** The sync groups this instance belongs to, by name. */
  groups: Map<string, CommandSet>;
  fifo: NotifyFifo | null;
}

const NO_GLOBAL: Pick<GlobalSpec, 'enableScriptSecurity'> = { enableScriptSecurity: false };

export class ScriptProvider implements Provider {
  readonly name = 'script';
  readonly selfId: HolderId;
  readonly permissions: readonly string[] = [];
  /** Scripts have no holder to read back: no reconcile loop, no fencing. */
  readonly readBack = false;
  readonly options: ScriptOptions;
  private readonly log: Logger;
  private readonly notify: NotifyCommands;
  private readonly groupNotify: Map<string, NotifyCommands>;
  private readonly global: Pick<
    GlobalSpec,
    'scriptUser' | 'scriptGroup' | 'enableScriptSecurity' | 'notifyFifo' | 'notifyFifoScript'
  >;
  private prepared: Prepared | null = null;
  private closed = false;

  constructor(
    private readonly ctx: ProviderContext,
    private readonly hooks: ScriptTestHooks = {},
  ) {
    this.options = parseScriptOptions(ctx.options, ctx.instance);
    this.log = ctx.log.child({ provider: 'script', instance: ctx.instance });
    this.selfId = hostname();
    const spec = ctx.spec ?? ctx.config?.instances.find((i) => i.name === ctx.instance);
    if (!spec) {
      throw new Error(
        `instance ${ctx.instance}: script provider: the instance's notify commands were not given (ProviderContext.spec/config); this is a floatip bug`,
      );
    }
    this.notify = spec.notify;
    this.global = ctx.config?.global ?? NO_GLOBAL;
    this.groupNotify = new Map(
      (ctx.config?.syncGroups ?? [])
        .filter((g) => g.members.includes(ctx.instance))
        .map((g) => [g.name, g.notify]),
    );
  }

  async prepare(): Promise<void> {
    if (this.prepared) return;
    if (this.closed)
      throw new ProviderError(`instance ${this.ctx.instance}: script provider is closed`, false);
    const deps: IdentityDeps = {
      euid: process.geteuid?.() ?? 0,
      egid: process.getegid?.() ?? 0,
      lookupUser,
      lookupGroup,
      ...this.hooks.identity,
    };
    const where = `vrrp_instance ${this.ctx.instance}`;
    let identity: ScriptIdentity;
    try {
      identity = resolveScriptIdentity(this.global, deps);
    } catch (e) {
      throw new ProviderError(`${where}: script provider: ${(e as Error).message}`, false);
    }
    const opts = {
      scriptSecurity: this.global.enableScriptSecurity,
      ...(this.hooks.path !== undefined ? { path: this.hooks.path } : {}),
    };
    const all: PreparedCommand[] = [];
    const prepareSet = (n: NotifyCommands, owner: string): CommandSet => {
      const set: CommandSet = {};
      for (const slot of ['master', 'backup', 'fault', 'stop', 'generic'] as const) {
        const cmd = n[slot];
        if (cmd === undefined) continue;
        const p = prepareCommand(`${KEYWORD[slot]} of ${owner}`, cmd, identity.ids, opts);
        set[slot] = p;
        all.push(p);
      }
      return set;
    };
    let fifo: NotifyFifo | null = null;
    try {
      const instance = prepareSet(this.notify, where);
      const groups = new Map<string, CommandSet>();
      for (const [name, n] of this.groupNotify) groups.set(name, prepareSet(n, `vrrp_sync_group ${name}`));
      if (this.global.notifyFifo !== undefined) {
        const script =
          this.global.notifyFifoScript !== undefined
            ? prepareCommand('notify_fifo_script', this.global.notifyFifoScript, identity.ids, opts)
            : undefined;
        if (script) all.push(script);
        fifo = openNotifyFifo({
          path: this.global.notifyFifo,
          owner: identity.ids,
          ...(script ? { script } : {}),
          log: this.ctx.log.child({ provider: 'script' }),
        });
      }
      this.prepared = { identity, instance, groups, fifo };
    } catch (e) {
      fifo?.release();
      throw new ProviderError((e as Error).message, false, { cause: e });
    }
    for (const c of all)
      for (const w of c.warnings) this.log.warn({ event: 'notify-script-check', script: c.what }, w);
    if (all.length > 0 && !this.global.enableScriptSecurity) {
      // keepalived's own wording, so operators' existing log alerts still match.
      this.log.warn(
        { event: 'notify-script-check' },
        'SECURITY VIOLATION - scripts are being executed but script_security not enabled.' +
          (all.some((c) => c.insecure) ? ' There are insecure scripts.' : ''),
      );
    }
    this.log.debug(
      { uid: identity.ids.uid, gid: identity.ids.gid, source: identity.source, commands: all.length },
      'notify scripts ready',
    );
  }

  async acquire(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
  }

  async release(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
  }

  /** Scripts report nothing back: there is no holder to read. */
  async holder(_signal: AbortSignal): Promise<HolderId | null> {
    return null;
  }

  async onTransition(t: TransitionNotice, signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw this.cancelled(t, signal);
    await this.prepare();
    const p = this.prepared!;
    const set = t.kind === 'INSTANCE' ? p.instance : p.groups.get(t.name);
    // keepalived passes 0 as a sync group's priority (send_group_notifies).
    const priority = t.kind === 'GROUP' ? 0 : t.priority;
    const timeoutMs = t.state === 'STOP' ? this.options.stopTimeoutMs : this.options.timeoutMs;
    const runs: Promise<string | null>[] = [];
    const own = set?.[SLOT[t.state]];
    if (own) runs.push(this.runOne(own, own.argv, t, timeoutMs, signal));
    const generic = set?.generic;
    if (generic) {
      const argv = [...generic.argv, t.kind, t.name, t.state, String(priority)];
      runs.push(this.runOne(generic, argv, t, timeoutMs, signal));
    }
    p.fifo?.write(fifoLine(t.kind, t.name, t.state, priority));
    const failures = (await Promise.all(runs)).filter((f): f is string => f !== null);
    if (signal.aborted) throw this.cancelled(t, signal);
    if (failures.length > 0) throw new ProviderError(failures.join('; '), false);
  }

  close(): void {
    this.closed = true;
    this.prepared?.fifo?.release();
    this.prepared = null;
  }

  private cancelled(t: TransitionNotice, signal: AbortSignal): ProviderError {
    const r: unknown = signal.reason;
    const why = r instanceof Error ? r.message : typeof r === 'string' ? r : 'aborted';
    return new ProviderError(
      `instance ${this.ctx.instance}: notify scripts for ${t.kind} ${t.name} ${t.state} were cancelled (${why}); their process groups were killed`,
      false,
      { cause: r },
    );
  }

  /** Runs one command and logs it; returns a failure description or null. */
  private async runOne(
    cmd: PreparedCommand,
    argv: string[],
    t: TransitionNotice,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<string | null> {
    const self = { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 };
    const r = await runNotifyCommand({
      argv,
      shell: cmd.shell,
      ...(cmd.ids.uid !== self.uid ? { uid: cmd.ids.uid } : {}),
      ...(cmd.ids.gid !== self.gid ? { gid: cmd.ids.gid } : {}),
      timeoutMs,
      signal,
    });
    const failure = describeFailure(cmd, r, t, timeoutMs);
    const o = r.outcome;
    const fields = {
      // `instance` comes from the child logger's bindings.
      event: 'notify-script',
      ...(t.kind === 'GROUP' ? { group: t.name } : {}),
      script: cmd.what,
      state: t.state,
      argv,
      exitCode: o.kind === 'exit' ? o.code : null,
      ...(o.kind === 'signal' ? { signal: o.signal } : {}),
      ...(o.kind !== 'exit' && o.kind !== 'signal' ? { outcome: o.kind } : {}),
      durationMs: r.durationMs,
      ...(r.stdout ? { stdout: r.stdout } : {}),
      ...(r.stderr ? { stderr: r.stderr } : {}),
    };
    if (failure === null) this.log.info(fields, 'notify script done');
    else this.log.warn(fields, failure);
    return o.kind === 'aborted' ? null : failure;
  }
}

function describeFailure(
  cmd: PreparedCommand,
  r: RunResult,
  t: TransitionNotice,
  timeoutMs: number,
): string | null {
  const o = r.outcome;
  const head = `${cmd.what} (${cmd.argv[0]}) for ${t.kind} ${t.name} ${t.state}`;
  const tail = r.stderr.trim() ? `; stderr: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` : '';
  switch (o.kind) {
    case 'exit':
      return o.code === 0 ? null : `${head} exited with status ${o.code}${tail}`;
    case 'signal':
      return `${head} was killed by ${o.signal}${tail}`;
    case 'timeout':
      return `${head} did not finish within ${timeoutMs} ms; its process group was killed (raise the script provider's timeout if it needs longer)${tail}`;
    case 'aborted':
      return `${head} was cancelled; its process group was killed`;
    case 'spawn-error':
      return `${head} could not be started: ${startHint(o.code, o.message)}`;
  }
}

function startHint(code: string, message: string): string {
  switch (code) {
    case 'ENOENT':
      return "the file is gone since start-up (notify scripts are exec'd directly, not through a shell)";
    case 'EACCES':
      return 'it is not executable by the script user; chmod +x it or check script_user';
    case 'ENOEXEC':
      return 'it is not a valid executable; add a #! line';
    case 'EPERM':
      return 'cannot switch to the script user; floatip must run as root to use script_user';
    default:
      return message;
  }
}

export const createScriptProvider: ProviderFactory = (ctx) => new ScriptProvider(ctx);
