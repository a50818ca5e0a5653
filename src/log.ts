import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * JSON lines on stdout for machines (journald, log shippers, the netns tests), pretty only when a
 * person is watching a terminal. Pretty printing is synchronous in-process: a daemon that forks a
 * transport worker just to format logs is one more thing to fail during a failover.
 */
export function createLogger(opts: { level?: LevelWithSilent; pretty?: boolean } = {}): Logger {
  const level = opts.level ?? 'info';
  const wantPretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  const base = { level, base: { pid: process.pid } };
  if (wantPretty) {
    return pino(base, pretty({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  return pino(base, pino.destination({ dest: 1, sync: true }));
}
