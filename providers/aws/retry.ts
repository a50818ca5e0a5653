/**
 * The retry loop, done here rather than by the SDK (whose client runs with maxAttempts 1): the SDK's
 * standard retry strategy counts attempts, not time, and would keep backing off after the notify
 * stage's deadline has passed. Here every wait is cut short by the deadline signal, and the call in
 * flight is aborted with it, so a failing call ends at the deadline, not before, not much after.
 */
import { AwsProviderError, classify, errorCode, explain, isRetryable, type FailureKind } from './errors.js';

export interface Backoff {
  /** First wait's upper bound, ms. */
  baseMs: number;
  /** No wait is longer than this, ms. */
  capMs: number;
}

/** AWS's advice for throttling is to back off harder than for a lost connection. */
export const THROTTLE_BACKOFF: Backoff = { baseMs: 100, capMs: 2000 };
export const ERROR_BACKOFF: Backoff = { baseMs: 50, capMs: 1000 };
export const READBACK_BACKOFF: Backoff = { baseMs: 50, capMs: 500 };

/** Full jitter: a uniform wait in [0, min(cap, base·2^attempt)], at least 1 ms. */
export function jitteredDelay(b: Backoff, attempt: number, random: () => number): number {
  const ceiling = Math.min(b.capMs, b.baseMs * 2 ** Math.min(attempt, 20));
  return Math.max(1, Math.floor(random() * ceiling));
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new Error(typeof r === 'string' ? r : 'aborted');
}

/** The caller's signal, bounded further by `timeoutMs` (the provider's own `timeout` option). */
export function withDeadline(signal: AbortSignal, timeoutMs: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
}

export interface RetryOptions {
  /** EC2 action name, for messages and the IAM hint. */
  action: string;
  /** What the call is for, e.g. "instance VI_1 eip: associate eipalloc-…". */
  what: string;
  signal: AbortSignal;
  random: () => number;
  /** Called before each wait; for logging. */
  onRetry?: (info: { action: string; attempt: number; code: string; delayMs: number }) => void;
}

/**
 * Runs `attempt` until it succeeds, fails with an error that retrying cannot fix, or the signal
 * aborts. Every failure comes out as an AwsProviderError whose message says what to do.
 */
export async function callWithRetry<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  o: RetryOptions,
): Promise<T> {
  let attempts = 0;
  let last: unknown = null;
  for (;;) {
    if (o.signal.aborted) throw deadlineError(o, attempts, last);
    attempts += 1;
    try {
      return await attempt(o.signal);
    } catch (err) {
      const kind: FailureKind = classify(err);
      if (o.signal.aborted || kind === 'aborted') throw deadlineError(o, attempts, last ?? err);
      if (!isRetryable(kind)) throw explain(err, o.action, attempts, o.what);
      last = err;
      const delayMs = jitteredDelay(
        kind === 'throttle' ? THROTTLE_BACKOFF : ERROR_BACKOFF,
        attempts - 1,
        o.random,
      );
      o.onRetry?.({ action: o.action, attempt: attempts, code: errorCode(err), delayMs });
      try {
        await sleep(delayMs, o.signal);
      } catch {
        throw deadlineError(o, attempts, last);
      }
    }
  }
}

function deadlineError(o: RetryOptions, attempts: number, last: unknown): AwsProviderError {
  const lastText =
    last === null ? '' : `; last answer: ${errorCode(last)} ${(last as Error).message ?? ''}`.trimEnd();
  const why =
    o.signal.reason instanceof Error && o.signal.reason.name !== 'TimeoutError'
      ? `it was cancelled (${o.signal.reason.message})`
      : 'the deadline passed';
  return new AwsProviderError(
    `aws: ${o.what}: ${o.action} did not succeed before ${why} after ${attempts} attempt(s)${lastText}`,
    o.action,
    last === null ? 'Deadline' : errorCode(last),
    'deadline',
    attempts,
    last === null ? undefined : { cause: last },
  );
}

/**
 * Calls `fn` on every item with at most `limit` calls in flight. Every item runs even if one fails;
 * then the first failure is thrown, with the others' messages appended so none is lost.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: PromiseSettledResult<R>[] = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i]!) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length > 0) {
    const first = failed[0]!.reason as Error;
    if (failed.length === 1) throw first;
    const more = failed.slice(1).map((f) => (f.reason as Error).message);
    throw new AwsProviderError(
      `${first.message} (and ${more.length} more: ${more.join(' | ')})`,
      first instanceof AwsProviderError ? first.action : 'unknown',
      first instanceof AwsProviderError ? first.code : 'Error',
      first instanceof AwsProviderError ? first.kind : 'client',
      first instanceof AwsProviderError ? first.attempts : 1,
      { cause: first },
    );
  }
  return results.map((r) => (r as PromiseFulfilledResult<R>).value);
}
