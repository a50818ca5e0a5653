import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import type { LevelWithSilent } from 'pino';
import { loadConfig } from '../config/load.js';
import { formatDiagnostic } from '../config/model.js';
import { runDaemon } from './run.js';

/**
 * Exit codes follow keepalived 2.2.7's so scripts written for `keepalived -t` keep working:
 * 0 valid, 4 the file cannot be read, 5 the config has errors.
 */
export const EXIT = { ok: 0, usage: 2, configUnreadable: 4, configInvalid: 5, runtime: 1 } as const;

/** package.json is two levels up from src/cli, three from the compiled dist/src/cli. */
function packageVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (pkg.name === 'floatip') return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return 'unknown';
}

const logLevels: LevelWithSilent[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('floatip')
    .description('Keep a floating IP on exactly one healthy node (keepalived-compatible VRRP)')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });

  program
    .command('run')
    .description('run the VRRP instances of a config file (YAML or keepalived.conf) until SIGTERM')
    .requiredOption(
      '-f, --config <file>',
      'config file: .yaml/.yml native, anything else keepalived.conf syntax',
    )
    .option('--stats-file <path>', 'where SIGUSR2 writes per-instance counters as JSON', '/tmp/floatip.stats')
    .addOption(new Option('--log-level <level>', 'log level').choices(logLevels).default('info'))
    .option('--pretty', 'human-readable logs (default when stdout is a terminal)')
    .option('--no-pretty', 'JSON logs even on a terminal')
    .action(
      async (opts: { config: string; statsFile: string; logLevel: LevelWithSilent; pretty?: boolean }) => {
        code = await runDaemon({
          configPath: opts.config,
          statsFile: opts.statsFile,
          logLevel: opts.logLevel,
          ...(opts.pretty === undefined ? {} : { pretty: opts.pretty }),
        });
      },
    );

  program
    .command('check')
    .description('validate a config file and print every problem with file:line:column (like keepalived -t)')
    .requiredOption('-f, --config <file>', 'config file to check')
    .option('-q, --quiet', 'print nothing when the config is valid')
    .action(async (opts: { config: string; quiet?: boolean }) => {
      const { config, diagnostics } = await loadConfig(opts.config);
      for (const d of diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      if (!config) {
        const unreadable = diagnostics.some((d) => d.severity === 'error' && d.pos === undefined);
        code = unreadable ? EXIT.configUnreadable : EXIT.configInvalid;
        return;
      }
      if (!opts.quiet) {
        const n = config.instances.length;
        process.stdout.write(
          `${opts.config}: OK (${config.format}, ${n} instance${n === 1 ? '' : 's'}: ${config.instances.map((i) => i.name).join(', ')})\n`,
        );
      }
    });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    throw err;
  }
  return code;
}

// Run directly (`node --import tsx src/cli/main.ts …`, as the tests and the demo do) as well as
// through bin/floatip.js.
const invokedAs = process.argv[1];
if (invokedAs && realpathSync(invokedAs) === fileURLToPath(import.meta.url)) {
  runAsProgram(process.argv);
}

/**
 * Exit explicitly: a stopped daemon may still hold a socket-reader thread or a lingering handle,
 * and "stopped" must mean the process is gone. stdout/stderr writes are synchronous on Linux
 * for files, pipes and TTYs, so nothing printed is lost.
 */
export function runAsProgram(argv: string[]): void {
  main(argv).then(
    (c) => process.exit(c),
    (err: unknown) => {
      process.stderr.write(`floatip: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(EXIT.runtime);
    },
  );
}
