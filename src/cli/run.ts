import type { LevelWithSilent, Logger } from 'pino';
import { loadConfig } from '../config/load.js';
import { formatDiagnostic, type ConfigDiagnostic } from '../config/model.js';
import { monotonicClock } from '../daemon/clock.js';
import { Daemon } from '../daemon/daemon.js';
import { createLogger } from '../log.js';

export interface RunOptions {
  configPath: string;
  statsFile: string;
  logLevel: LevelWithSilent;
  pretty?: boolean;
}

/** SIGTERM must end in a priority-0 advert and an exit within 1 s, even if a socket hangs. */
const SHUTDOWN_DEADLINE_MS = 900;

/**
 * `floatip run`: load, start, then live by signals until told to stop.
 * SIGTERM/SIGINT stop (priority 0 first), SIGHUP reloads (a broken file keeps the old config),
 * SIGUSR2 writes the stats file, as keepalived does.
 */
export async function runDaemon(opts: RunOptions): Promise<number> {
  const log = createLogger({
    level: opts.logLevel,
    ...(opts.pretty === undefined ? {} : { pretty: opts.pretty }),
  });
  const first = await loadConfig(opts.configPath);
  logDiagnostics(log, first.diagnostics);
  if (!first.config) {
    log.fatal(
      { event: 'config-invalid', file: opts.configPath },
      `${opts.configPath}: not starting, fix the errors above`,
    );
    return first.diagnostics.some((d) => d.pos === undefined) ? 4 : 5;
  }

  const daemon = new Daemon({ log, clock: monotonicClock });
  try {
    const r = await daemon.apply(first.config);
    log.info(
      { event: 'ready', file: opts.configPath, instances: r.started },
      `floatip running ${r.started.length} instance(s) from ${opts.configPath}`,
    );
  } catch (err) {
    log.fatal({ event: 'start-failed', err }, errMsg(err));
    await daemon.stop().catch(() => undefined);
    return 1;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    let reloading: Promise<void> = Promise.resolve();

    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ event: 'stopping', signal }, `${signal}: sending priority 0 and stopping`);
      const force = setTimeout(() => {
        log.warn({ event: 'stop-deadline' }, 'shutdown took too long; exiting anyway');
        finish(0);
      }, SHUTDOWN_DEADLINE_MS);
      daemon.stop().then(
        () => {
          clearTimeout(force);
          log.info({ event: 'stopped' }, 'stopped');
          finish(0);
        },
        (err: unknown) => {
          clearTimeout(force);
          log.error({ event: 'stop-failed', err }, errMsg(err));
          finish(1);
        },
      );
    };

    const reload = async (): Promise<void> => {
      log.info({ event: 'reloading', file: opts.configPath }, `SIGHUP: reloading ${opts.configPath}`);
      const next = await loadConfig(opts.configPath);
      logDiagnostics(log, next.diagnostics);
      if (!next.config) {
        log.error(
          { event: 'reload-rejected', file: opts.configPath },
          `${opts.configPath} has errors; keeping the running configuration`,
        );
        return;
      }
      try {
        const r = await daemon.apply(next.config);
        log.info(
          { event: 'reloaded', ...r },
          `reloaded: started [${r.started.join(', ')}] stopped [${r.stopped.join(', ')}] kept [${r.kept.join(', ')}]`,
        );
      } catch (err) {
        log.error({ event: 'reload-failed', err }, `reload failed: ${errMsg(err)}`);
      }
    };

    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    // Reloads queue behind each other: two quick SIGHUPs must not interleave their apply steps.
    const onHup = (): void => {
      reloading = reloading.then(reload, reload);
    };
    const onUsr2 = (): void => {
      try {
        daemon.writeStats(opts.statsFile);
        log.info({ event: 'stats-written', file: opts.statsFile }, `stats written to ${opts.statsFile}`);
      } catch (err) {
        log.error({ event: 'stats-failed', err }, `cannot write ${opts.statsFile}: ${errMsg(err)}`);
      }
    };
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    process.on('SIGHUP', onHup);
    process.on('SIGUSR2', onUsr2);

    function finish(code: number): void {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      process.off('SIGHUP', onHup);
      process.off('SIGUSR2', onUsr2);
      resolve(code);
    }
  });
}

function logDiagnostics(log: Logger, ds: ConfigDiagnostic[]): void {
  for (const d of ds) {
    const fields = { event: 'config-diagnostic', ...(d.pos ? { pos: d.pos } : {}) };
    if (d.severity === 'error') log.error(fields, formatDiagnostic(d));
    else log.warn(fields, formatDiagnostic(d));
  }
}

function errMsg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
