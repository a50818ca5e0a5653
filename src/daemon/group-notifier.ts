import type { Logger } from 'pino';
import type { FloatipConfig, InstanceSpec, SyncGroupSpec } from '../config/model.js';
import type { NotifyState, Provider } from '../notify/provider.js';
import { buildProviders } from '../notify/registry.js';

/**
 * Runs a sync group's own notify commands (notify_master/backup/fault/stop and the generic
 * `notify ... GROUP name STATE 0`) and writes its notify_fifo line, once per group state change.
 * It uses the script provider (through the registry) with kind GROUP, which already knows the
 * group's commands and keepalived's conventions; the per-instance notify stages are untouched.
 * As in the notify stage, a newer group transition cancels the scripts of an older one.
 */
export class GroupNotifier {
  private chain: Promise<void> = Promise.resolve();
  private current: AbortController | null = null;

  private constructor(
    private readonly group: string,
    private readonly provider: Provider,
    private readonly log: Logger,
  ) {}

  /** null when the group has nothing to run or write. */
  static async create(
    spec: SyncGroupSpec,
    member: InstanceSpec,
    config: FloatipConfig,
    log: Logger,
  ): Promise<GroupNotifier | null> {
    const hasNotify =
      Object.values(spec.notify).some((c) => c !== undefined) || config.global.notifyFifo !== undefined;
    if (!hasNotify) return null;
    // The member's own script options (timeouts) apply to its group's scripts too; its own
    // notify commands are left out, the notify stage runs those.
    const options = member.providers.find((p) => p.type === 'script')?.options ?? {};
    const glog = log.child({ group: spec.name });
    const [provider] = await buildProviders(
      { ...member, notify: {}, providers: [{ type: 'script', options }] },
      config,
      glog,
    );
    if (!provider?.onTransition) {
      throw new Error(`sync group ${spec.name}: the script provider did not load; this is a floatip bug`);
    }
    try {
      await provider.prepare();
    } catch (err) {
      provider.close?.();
      throw new Error(`sync group ${spec.name}: notify scripts cannot start: ${errMsg(err)}`, { cause: err });
    }
    return new GroupNotifier(spec.name, provider, glog);
  }

  notify(state: NotifyState): void {
    this.current?.abort(new Error(`superseded by ${state}`));
    const ctl = new AbortController();
    this.current = ctl;
    const run = async (): Promise<void> => {
      if (ctl.signal.aborted) return;
      try {
        await this.provider.onTransition!(
          { kind: 'GROUP', name: this.group, state, priority: 0 },
          ctl.signal,
        );
      } catch (err) {
        // The script provider has logged each command's outcome already.
        this.log.debug(
          { event: 'group-notify', group: this.group, state, err: errMsg(err) },
          'group notify failed',
        );
      }
    };
    this.chain = this.chain.then(run);
  }

  async close(): Promise<void> {
    await this.chain;
    this.provider.close?.();
  }
}

function errMsg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
