/**
 * Test-only inspection and control of a running emulator, for a test or demo in another process or
 * network namespace (in-process users read `emu.state` and `emu.calls` directly). This is NOT part
 * of the EC2 API and real EC2 has nothing like it: it lives under `/_emulator/`, answers JSON, and
 * main.ts serves it only on a separate Unix socket (`--control PATH`), never on the EC2 endpoint, so
 * a provider under test cannot reach it by accident. A Unix socket also crosses network namespaces.
 *
 *   GET  /_emulator/state                 committed state (what Describe* shows once settled)
 *   GET  /_emulator/calls?since=SEQ       the call log, records with seq > SEQ (default all)
 *   POST /_emulator/instances/ID/state    body {"state":"stopped"}: what a console stop would leave
 *   POST /_emulator/knobs                 body {"latencyMs":300, …}: numeric/boolean knobs only
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Ec2Knobs } from './knobs.js';
import type { InstanceStateName } from './model.js';
import type { Ec2Emulator } from './server.js';

const INSTANCE_STATES: readonly InstanceStateName[] = [
  'pending',
  'running',
  'shutting-down',
  'terminated',
  'stopping',
  'stopped',
];
/** Knobs a JSON body can carry; function-valued ones (latency per action) stay in-process only. */
const JSON_KNOBS = ['latencyMs', 'throttleRate', 'serverErrorRate', 'consistencyDelayMs'] as const;

export interface StateDump {
  region: string;
  accountId: string;
  instances: unknown[];
  networkInterfaces: unknown[];
  addresses: unknown[];
  routeTables: unknown[];
}

export function dumpState(emu: Ec2Emulator): StateDump {
  const s = emu.state;
  return {
    region: s.region,
    accountId: s.accountId,
    instances: [...s.instances.values()],
    networkInterfaces: [...s.networkInterfaces.values()],
    addresses: [...s.addresses.values()],
    routeTables: [...s.routeTables.values()],
  };
}

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
      if (text.length > 65536) req.destroy(new Error('control request body over 64 KiB'));
    });
    req.on('end', () => {
      try {
        const v: unknown = JSON.parse(text || '{}');
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
        resolve(v as Record<string, unknown>);
      } catch (e) {
        reject(new ControlError(400, `body must be a JSON object: ${(e as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}

async function route(emu: Ec2Emulator, req: IncomingMessage): Promise<unknown> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const path = url.pathname;
  if (req.method === 'GET' && path === '/_emulator/state') return dumpState(emu);
  if (req.method === 'GET' && path === '/_emulator/calls') {
    const since = Number(url.searchParams.get('since') ?? '0');
    if (!Number.isInteger(since))
      throw new ControlError(400, `since must be a call seq number, got ${since}`);
    return emu.calls.all.filter((c) => c.seq > since);
  }
  const instance = /^\/_emulator\/instances\/([^/]+)\/state$/.exec(path);
  if (req.method === 'POST' && instance) {
    const id = decodeURIComponent(instance[1]!);
    const record = emu.state.instances.get(id);
    if (!record) throw new ControlError(404, `no instance ${id} in the emulator state`);
    const body = await readJson(req);
    const state = body.state as InstanceStateName;
    if (!INSTANCE_STATES.includes(state)) {
      throw new ControlError(
        400,
        `state must be one of ${INSTANCE_STATES.join(', ')}, got ${String(body.state)}`,
      );
    }
    record.state = state;
    return { instanceId: id, state };
  }
  if (req.method === 'POST' && path === '/_emulator/knobs') {
    const body = await readJson(req);
    const patch: Partial<Ec2Knobs> = {};
    for (const [k, v] of Object.entries(body)) {
      if (!(JSON_KNOBS as readonly string[]).includes(k) || typeof v !== 'number') {
        throw new ControlError(
          400,
          `knob ${k} is not settable here; numeric knobs: ${JSON_KNOBS.join(', ')}`,
        );
      }
      (patch as Record<string, number>)[k] = v;
    }
    try {
      emu.setKnobs(patch);
    } catch (e) {
      throw new ControlError(400, (e as Error).message);
    }
    return { ok: true };
  }
  throw new ControlError(
    404,
    `no control route ${req.method ?? '?'} ${path}; see test/emulators/ec2/control.ts`,
  );
}

/** The request listener of the control socket. */
export function controlListener(emu: Ec2Emulator): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(emu, req).then(
      (body) => send(res, 200, body),
      (e: unknown) =>
        send(res, e instanceof ControlError ? e.status : 500, {
          error: e instanceof Error ? e.message : String(e),
        }),
    );
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
