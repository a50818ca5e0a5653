import type { Logger } from 'pino';
import { armDeadline, type Clock, type Deadline } from '../daemon/clock.js';
import type { VrrpState } from '../vrrp/instance.js';
import {
  createHolderPolicy,
  stepHolderPolicy,
  type HolderPolicyState,
  type PolicyAction,
  type PolicyEvent,
} from './holder-policy.js';
import { ProviderError, type NotifyState, type Provider, type TransitionNotice } from './provider.js';

export interface NotifyStageOptions {
  instance: string;
  /** In the configured order: acquire runs in this order on MASTER, release on leaving it. */
  providers: Provider[];
  /** Deadline of one provider call, retries included. */
  callTimeoutMs: number;
  reconcileIntervalMs: number;
  holdOffMs: number;
  clock: Clock;
  log: Logger;
  /** Sync group name when the instance belongs to one (notify gets GROUP lines too, later). */
  group?: string;
}

export interface ProviderStatus {
  provider: string;
  phase: HolderPolicyState['phase'];
  holder: string | null;
  fencedBy: string | null;
  calls: number;
  failures: number;
  lastError: string | null;
  lastOkAt: string | null;
}

interface Slot {
  provider: Provider;
  policy: HolderPolicyState;
  tick: Deadline | null;
  status: ProviderStatus;
}

const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 2000;

/**
 * Carries an instance's transitions out to its providers, strictly in order. A newer transition
 * aborts the one still in flight (its AbortSignal fires), so a slow MASTER action can never land
 * after a later BACKUP. While MASTER, each provider with a read-back follows the holder policy
 * (reconcile, drift repair, split-brain fencing). Every call has a deadline, bounded retries with
 * jittered backoff, and a log line with its duration and outcome.
 */
export class NotifyStage {
  private readonly slots: Slot[];
  private queue: Promise<void> = Promise.resolve();
  private current: AbortController | null = null;
  private lastState: VrrpState = 'INIT';
  private closed = false;

  constructor(private readonly o: NotifyStageOptions) {
    const params = { reconcileIntervalUs: o.reconcileIntervalMs * 1000, holdOffUs: o.holdOffMs * 1000 };
    this.slots = o.providers.map((provider) => ({
      provider,
      policy: createHolderPolicy(params),
      tick: null,
      status: {
        provider: provider.name,
        phase: 'idle',
        holder: null,
        fencedBy: null,
        calls: 0,
        failures: 0,
        lastError: null,
        lastOkAt: null,
      },
    }));
  }

  /** Resolve ids and open sockets before the instance starts; the first error stops the start. */
  async prepare(): Promise<void> {
    for (const s of this.slots) {
      try {
        await s.provider.prepare();
      } catch (err) {
        throw new Error(
          `instance ${this.o.instance}: provider ${s.provider.name} cannot start: ${errText(err)}`,
          {
            cause: err,
          },
        );
      }
    }
  }

  status(): ProviderStatus[] {
    return this.slots.map((s) => ({ ...s.status }));
  }

  /** Queue a transition; the one in flight, if any, is aborted first. */
  transition(from: VrrpState, to: VrrpState, priority: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.current?.abort(new Error(`superseded by ${to}`));
    const ctl = new AbortController();
    this.current = ctl;
    const wasMaster = this.lastState === 'MASTER' || from === 'MASTER';
    const fresh = from === 'INIT';
    this.lastState = to;
    const notice: TransitionNotice = {
      kind: 'INSTANCE',
      name: this.o.instance,
      state: notifyState(to),
      priority,
    };
    const job = async (): Promise<void> => {
      if (ctl.signal.aborted) return;
      const started = this.o.clock.nowUs();
      if (to === 'MASTER') await this.becomeMaster(notice, ctl.signal);
      else await this.leaveMaster(notice, ctl.signal, wasMaster || fresh);
      this.o.log.info(
        {
          event: 'notify-done',
          instance: this.o.instance,
          state: notice.state,
          aborted: ctl.signal.aborted,
          durationMs: (this.o.clock.nowUs() - started) / 1000,
        },
        `${this.o.instance}: ${notice.state} actions ${ctl.signal.aborted ? 'aborted by a newer transition' : 'done'}`,
      );
    };
    this.queue = this.queue.then(job, job);
    return this.queue;
  }

  /**
   * A VRRP advert from a peer was accepted while this node is MASTER: evidence for a fenced node,
   * and when it came from a lower-priority master, providers that announce do so again.
   */
  peerAdvert(fromLowerMaster: boolean): void {
    const signal = this.current?.signal;
    for (const s of this.slots) {
      void this.dispatch(s, { type: 'peer-advert' }, signal);
      if (fromLowerMaster && signal && s.provider.reannounce) {
        void this.call(s, 'reannounce', (sig) => s.provider.reannounce!(sig), signal, false).catch(
          () => undefined,
        );
      }
    }
  }

  /** Stop reconciling and wait (bounded by the caller) for the queued actions. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.slots) s.tick?.cancel();
    await this.queue;
    for (const s of this.slots) s.provider.close?.();
  }

  private async becomeMaster(notice: TransitionNotice, signal: AbortSignal): Promise<void> {
    for (const s of this.slots) {
      if (signal.aborted) return;
      if (s.provider.readBack === false) {
        await this.call(s, 'acquire', (sig) => s.provider.acquire(sig), signal, true).catch(() => undefined);
      } else {
        await this.dispatch(s, { type: 'became-master' }, signal);
      }
      if (s.provider.onTransition) {
        await this.call(s, 'notify', (sig) => s.provider.onTransition!(notice, sig), signal, false).catch(
          () => undefined,
        );
      }
    }
  }

  private async leaveMaster(notice: TransitionNotice, signal: AbortSignal, release: boolean): Promise<void> {
    for (const s of this.slots) {
      await this.dispatch(s, { type: 'left-master' }, signal);
      if (signal.aborted) return;
      if (release && s.provider.release) {
        await this.call(s, 'release', (sig) => s.provider.release!(sig), signal, true).catch(() => undefined);
      }
      if (s.provider.onTransition) {
        await this.call(s, 'notify', (sig) => s.provider.onTransition!(notice, sig), signal, false).catch(
          () => undefined,
        );
      }
    }
  }

  /** Step the slot's holder policy and carry out its actions; resolves when they are done. */
  private async dispatch(s: Slot, e: PolicyEvent, signal: AbortSignal | undefined): Promise<void> {
    const r = stepHolderPolicy(s.policy, e, this.o.clock.nowUs());
    s.policy = r.state;
    s.status.phase = r.state.phase;
    s.status.fencedBy = r.state.fencedBy;
    if (r.state.phase === 'idle' && s.tick) {
      s.tick.cancel();
      s.tick = null;
    }
    for (const a of r.actions) {
      // A read-back never holds up the transition (the next provider's acquire waits for this
      // one's acquire only): its outcome comes back through dispatch on its own.
      if (a.type === 'read-holder') void this.act(s, a, signal);
      else await this.act(s, a, signal);
    }
  }

  private async act(s: Slot, a: PolicyAction, signal: AbortSignal | undefined): Promise<void> {
    const tenure = signal ?? new AbortController().signal;
    switch (a.type) {
      case 'acquire': {
        if (a.reason !== 'became-master') {
          this.o.log.warn(
            {
              event: 'holder-move',
              instance: this.o.instance,
              provider: s.provider.name,
              reason: a.reason,
              from: a.previousHolder,
            },
            `${this.o.instance}/${s.provider.name}: taking the address (${a.reason}${a.previousHolder ? `, held by ${a.previousHolder}` : ''})`,
          );
        }
        const ok = await this.call(s, 'acquire', (sig) => s.provider.acquire(sig), tenure, true).then(
          () => true,
          () => false,
        );
        if (tenure.aborted) return;
        await this.dispatch(s, { type: 'acquire-done', ok }, signal);
        return;
      }
      case 'read-holder': {
        let holder: string | null;
        let alive: boolean | null = null;
        try {
          holder = await this.call(s, 'holder', (sig) => s.provider.holder(sig), tenure, true);
          if (holder !== null && holder !== s.provider.selfId && s.provider.holderAlive) {
            const h = holder;
            // A failed liveness check (e.g. a policy without the permission it needs) is
            // "cannot tell": the holder read still counts, and drift repair and fencing go on.
            alive = await this.call(
              s,
              'holderAlive',
              (sig) => s.provider.holderAlive!(h, sig),
              tenure,
              true,
            ).catch(() => null);
          }
        } catch {
          if (tenure.aborted) return;
          await this.dispatch(s, { type: 'holder-read-failed' }, signal);
          return;
        }
        if (tenure.aborted) return;
        s.status.holder = holder;
        await this.dispatch(s, { type: 'holder-read', holder, self: s.provider.selfId, alive }, signal);
        return;
      }
      case 'schedule': {
        s.tick?.cancel();
        s.tick = armDeadline(
          this.o.clock,
          a.at,
          () => {
            s.tick = null;
            if (!tenure.aborted && !this.closed) void this.dispatch(s, { type: 'tick' }, signal);
          },
          { unref: true },
        );
        return;
      }
      case 'fenced':
        this.o.log.warn(
          {
            event: 'split-brain-suspected',
            instance: this.o.instance,
            provider: s.provider.name,
            holder: a.holder,
            sinceOwnMoveMs: a.sinceOwnMoveUs / 1000,
            backstopWaitMs: a.backstopWaitUs / 1000,
          },
          `${this.o.instance}/${s.provider.name}: ${a.holder} took the address ${Math.round(a.sinceOwnMoveUs / 1000)} ms after this node did; another master is active (protocol 112 cut?). Yielding and fenced until the holder is gone or dead, a VRRP peer is heard again, or ${Math.round(a.backstopWaitUs / 1000)} ms pass`,
        );
        return;
      case 'unfenced':
        this.o.log.info(
          { event: 'unfenced', instance: this.o.instance, provider: s.provider.name, reason: a.reason },
          `${this.o.instance}/${s.provider.name}: no longer fenced (${a.reason})`,
        );
        return;
    }
  }

  /**
   * One provider operation under a deadline, with jittered exponential backoff between attempts.
   * The signal handed to the provider fires on the deadline or when a newer transition supersedes
   * this one; once the call has returned it never fires (the GARP provider keeps its refresh
   * timers tied to it, and release() is what ends them).
   */
  private async call<T>(
    s: Slot,
    op: string,
    fn: (signal: AbortSignal) => Promise<T>,
    outer: AbortSignal,
    retry: boolean,
  ): Promise<T> {
    const clock = this.o.clock;
    const deadlineUs = clock.nowUs() + this.o.callTimeoutMs * 1000;
    for (let attempt = 1; ; attempt++) {
      const ctl = new AbortController();
      const onOuter = (): void => ctl.abort(outer.reason);
      if (outer.aborted) throw outer.reason instanceof Error ? outer.reason : new Error('aborted');
      outer.addEventListener('abort', onOuter, { once: true });
      const remainingMs = Math.max(1, (deadlineUs - clock.nowUs()) / 1000);
      const timer = setTimeout(
        () => ctl.abort(new Error(`${op} exceeded its ${this.o.callTimeoutMs} ms deadline`)),
        remainingMs,
      );
      const t0 = clock.nowUs();
      s.status.calls++;
      try {
        const result = await raceAbort(fn(ctl.signal), ctl.signal);
        s.status.lastOkAt = new Date().toISOString();
        // Routine read-backs every reconcile interval would drown the log; moves stay at info.
        const level = op === 'holder' || op === 'holderAlive' ? 'debug' : 'info';
        this.o.log[level](
          {
            event: 'provider-call',
            instance: this.o.instance,
            provider: s.provider.name,
            op,
            attempt,
            outcome: 'ok',
            durationMs: (clock.nowUs() - t0) / 1000,
            ...(op === 'holder' ? { holder: result } : {}),
          },
          `${this.o.instance}/${s.provider.name}: ${op} ok in ${((clock.nowUs() - t0) / 1000).toFixed(1)} ms`,
        );
        return result;
      } catch (err) {
        s.status.failures++;
        s.status.lastError = errText(err);
        const superseded = outer.aborted;
        const final =
          superseded ||
          !retry ||
          (err instanceof ProviderError && !err.retryable) ||
          clock.nowUs() >= deadlineUs;
        const backoffMs =
          Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
        const giveUp = final || clock.nowUs() + backoffMs * 1000 >= deadlineUs;
        this.o.log[superseded ? 'info' : 'warn'](
          {
            event: 'provider-call',
            instance: this.o.instance,
            provider: s.provider.name,
            op,
            attempt,
            outcome: superseded ? 'superseded' : giveUp ? 'failed' : 'retrying',
            durationMs: (clock.nowUs() - t0) / 1000,
            err: errText(err),
          },
          `${this.o.instance}/${s.provider.name}: ${op} ${superseded ? 'aborted by a newer transition' : `failed (attempt ${attempt}): ${errText(err)}`}`,
        );
        if (giveUp) throw err;
        await sleep(backoffMs, outer);
      } finally {
        clearTimeout(timer);
        outer.removeEventListener('abort', onOuter);
      }
    }
  }
}

function notifyState(s: VrrpState): NotifyState {
  return s === 'INIT' ? 'STOP' : s;
}

/** A provider that ignores its signal must still not hold the queue past the deadline. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(toError(signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(toError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(toError(e));
      },
    );
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
