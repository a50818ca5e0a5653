/**
 * Standalone EC2 emulator, for the demo and for tests that run the daemon in another process or
 * network namespace:
 *   node --import tsx test/emulators/ec2/main.ts --listen 127.0.0.1:0 --seed seed.json
 *        [--imds i-0123… …] [--control /path/emu.sock]
 * Prints one JSON line {"endpoint": …, "region": …, "pid": …, "imds": {instanceId: endpoint}}
 * once listening; SIGTERM/SIGINT stop it.
 *
 * --imds INSTANCE_ID (repeatable): an IMDSv2 emulator for that instance on the same host (own
 * port), following the EC2 state live, with instance-role credentials whose access key id is
 * derived from the instance id, so the call log tells the callers apart.
 * --control PATH: the test-only inspection/control routes (control.ts) on a Unix socket.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { parseArgs } from 'node:util';
import { startImdsEmulator, type ImdsEmulator } from '../imds/server.js';
import { imdsInstanceFromEc2, roleAccessKeyId } from '../imds/from-ec2.js';
import { controlListener } from './control.js';
import type { Ec2Knobs } from './knobs.js';
import type { Ec2Seed } from './model.js';
import { startEc2Emulator } from './server.js';

function fail(message: string): never {
  process.stderr.write(`ec2-emulator: ${message}\n`);
  process.exit(2);
}

function parseListen(text: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):([0-9]+)$/.exec(text);
  if (!m) fail(`--listen must be HOST:PORT (e.g. 127.0.0.1:0), got '${text}'`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

function num(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n)) fail(`--${name} must be a number, got '${text}'`);
  return n;
}

const { values } = parseArgs({
  options: {
    listen: { type: 'string', default: '127.0.0.1:0' },
    seed: { type: 'string' },
    'random-seed': { type: 'string' },
    'latency-ms': { type: 'string' },
    'throttle-rate': { type: 'string' },
    'server-error-rate': { type: 'string' },
    'consistency-delay-ms': { type: 'string' },
    allow: { type: 'string' },
    reassociation: { type: 'string' },
    imds: { type: 'string', multiple: true },
    control: { type: 'string' },
  },
  strict: true,
});

let seed: Ec2Seed = {};
if (values.seed !== undefined) {
  try {
    seed = JSON.parse(readFileSync(values.seed, 'utf8')) as Ec2Seed;
  } catch (e) {
    fail(`cannot read seed file ${values.seed}: ${(e as Error).message}`);
  }
}
const knobs: Partial<Ec2Knobs> = {};
const latency = num('latency-ms', values['latency-ms']);
if (latency !== undefined) knobs.latencyMs = latency;
const throttle = num('throttle-rate', values['throttle-rate']);
if (throttle !== undefined) knobs.throttleRate = throttle;
const serverErrors = num('server-error-rate', values['server-error-rate']);
if (serverErrors !== undefined) knobs.serverErrorRate = serverErrors;
const lag = num('consistency-delay-ms', values['consistency-delay-ms']);
if (lag !== undefined) knobs.consistencyDelayMs = lag;
if (values.allow !== undefined) knobs.allowedActions = values.allow.split(',').map((s) => s.trim());
if (values.reassociation !== undefined) {
  if (values.reassociation !== 'automatic' && values.reassociation !== 'explicit') {
    fail(`--reassociation must be automatic or explicit, got '${values.reassociation}'`);
  }
  knobs.reassociation = values.reassociation;
}

const { host, port } = parseListen(values.listen);
const randomSeed = num('random-seed', values['random-seed']);
try {
  const emu = await startEc2Emulator({
    seed,
    host,
    port,
    knobs,
    ...(randomSeed !== undefined ? { randomSeed } : {}),
  });
  const imds: Record<string, string> = {};
  const imdsServers: ImdsEmulator[] = [];
  for (const instanceId of values.imds ?? []) {
    if (!emu.state.instances.has(instanceId)) fail(`--imds ${instanceId}: no such instance in the seed`);
    const server = await startImdsEmulator({
      host,
      port: 0,
      instance: imdsInstanceFromEc2(emu.state, instanceId, {
        name: 'floatip-emulated',
        accessKeyId: roleAccessKeyId(instanceId),
        secretAccessKey: 'emulated-secret-not-checked',
        token: `emulated-session-token-${instanceId}`,
      }),
    });
    imdsServers.push(server);
    imds[instanceId] = server.endpoint;
  }
  let control: Server | null = null;
  if (values.control !== undefined) {
    const path = values.control;
    rmSync(path, { force: true });
    control = createServer(controlListener(emu));
    await new Promise<void>((resolve, reject) => {
      control!.once('error', reject);
      control!.listen(path, resolve);
    });
  }
  process.stdout.write(
    `${JSON.stringify({ endpoint: emu.endpoint, region: emu.region, pid: process.pid, imds })}\n`,
  );
  const stop = (): void => {
    control?.close();
    control?.closeAllConnections();
    Promise.all([emu.close(), ...imdsServers.map((s) => s.close())]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (e) {
  fail((e as Error).message);
}
