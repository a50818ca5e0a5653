/** The probes behind PeriodicCheck: a vrrp_script command, an HTTP GET, a TCP connect. */
import { connect } from 'node:net';
import { describeStartError, type ScriptRunner } from './script-exec.js';
import type { Probe } from './periodic.js';

export function scriptProbe(
  argv: string[],
  timeoutMs: number,
  ids: { uid: number; gid: number } | undefined,
  run: ScriptRunner,
): Probe {
  return async (signal) => {
    const o = await run({ argv, timeoutMs, ...(ids ?? {}), signal });
    switch (o.type) {
      case 'exit':
        return { ok: o.code === 0, detail: o.code === 0 ? 'exit status 0' : `exit status ${o.code}` };
      case 'signal':
        return { ok: false, detail: `killed by ${o.signal}` };
      case 'timeout':
        return { ok: false, detail: `timed out after ${timeoutMs} ms (process group killed)` };
      case 'error':
        return { ok: false, detail: describeStartError(argv[0] ?? '', o.code, o.message) };
    }
  };
}

export function httpProbe(url: string, expectStatus: number, timeoutMs: number): Probe {
  return async (signal) => {
    const t = AbortSignal.timeout(timeoutMs);
    try {
      const res = await fetch(url, {
        signal: AbortSignal.any([signal, t]),
        // A redirect is an answer from the service; following it would test another URL.
        redirect: 'manual',
        headers: { 'user-agent': 'floatip-healthcheck' },
      });
      await res.body?.cancel();
      return res.status === expectStatus
        ? { ok: true, detail: `HTTP ${res.status}` }
        : { ok: false, detail: `HTTP ${res.status}, expected ${expectStatus}` };
    } catch (err) {
      if (t.aborted) return { ok: false, detail: `no HTTP answer within ${timeoutMs} ms` };
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      return {
        ok: false,
        detail: `GET ${url} failed: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
      };
    }
  };
}

export function tcpProbe(host: string, port: number, timeoutMs: number): Probe {
  return (signal) =>
    new Promise((resolve) => {
      const sock = connect({ host, port });
      const done = (ok: boolean, detail: string): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        sock.destroy();
        resolve({ ok, detail });
      };
      const timer = setTimeout(
        () => done(false, `no TCP connection to ${host}:${port} within ${timeoutMs} ms`),
        timeoutMs,
      );
      const onAbort = (): void => done(false, 'stopped');
      signal.addEventListener('abort', onAbort, { once: true });
      sock.once('connect', () => done(true, `connected to ${host}:${port}`));
      sock.once('error', (err: NodeJS.ErrnoException) =>
        done(false, `connect ${host}:${port} failed: ${err.code ?? err.message}`),
      );
    });
}
