/**
 * The HTTP front of the EC2 emulator: authentication, IAM allow-list, fault injection, eventual
 * consistency and latency around the action handlers, and the call log.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ACTIONS, isActionName, type ActionContext } from './actions/index.js';
import { authenticate, isAllowed, unauthorized, type Caller } from './auth.js';
import { CallLog } from './call-log.js';
import { ConsistencyLayer } from './consistency.js';
import { Ec2Error } from './errors.js';
import {
  checkKnobs,
  DEFAULT_KNOBS,
  latencyFor,
  seededRandom,
  type Ec2Knobs,
  type FaultCode,
} from './knobs.js';
import { Ec2State, IdFactory, type Ec2Seed } from './model.js';
import { errorXml, QueryParams, successXml } from './wire.js';

export interface Ec2EmulatorOptions {
  /** Initial resources (JSON-compatible). */
  seed?: Ec2Seed;
  /** Default 127.0.0.1; tests in network namespaces pass a 10.99.x.x address. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Seeds fault injection and generated ids, so runs repeat exactly. Default 1. */
  randomSeed?: number;
  knobs?: Partial<Ec2Knobs>;
  /** Access key ids accepted in the SigV4 credential scope; default: any. */
  accessKeyIds?: readonly string[];
  /** Clock for the call log and eventual consistency (ms). Default Date.now. */
  clock?: () => number;
}

export interface ScriptedFault {
  code: FaultCode;
  /** Only calls of this action consume the fault; default: the next call of any action. */
  action?: string;
  /** How many calls get it. Default 1. */
  times?: number;
}

export interface Ec2Emulator {
  readonly endpoint: string;
  readonly region: string;
  readonly state: Ec2State;
  readonly calls: CallLog;
  readonly knobs: Readonly<Ec2Knobs>;
  setKnobs(knobs: Partial<Ec2Knobs>): void;
  /** Deterministic faults, consumed before the random rates apply. */
  injectFault(fault: ScriptedFault): void;
  /** Makes Describe* catch up with every committed mutation now. */
  settle(): void;
  close(): Promise<void>;
}

const FAULTS: Record<FaultCode, { status: number; message: string }> = {
  RequestLimitExceeded: { status: 503, message: 'Request limit exceeded.' },
  InternalError: { status: 500, message: 'An internal error has occurred.' },
  Unavailable: { status: 503, message: "The server is overloaded and can't handle the request." },
};

const MAX_BODY = 1 << 20;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Ec2Error('InvalidParameterValue', 'Request body exceeds 1 MiB'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startEc2Emulator(opts: Ec2EmulatorOptions = {}): Promise<Ec2Emulator> {
  const randomSeed = opts.randomSeed ?? 1;
  const faultRandom = seededRandom(randomSeed);
  const state = new Ec2State(opts.seed ?? {}, new IdFactory(seededRandom(randomSeed ^ 0x5bd1e995)));
  const consistency = new ConsistencyLayer(state);
  const calls = new CallLog();
  const clock = opts.clock ?? Date.now;
  const accessKeyIds = opts.accessKeyIds ?? null;
  let knobs: Ec2Knobs = { ...DEFAULT_KNOBS, ...opts.knobs };
  checkKnobs(knobs);
  const scripted: Array<Required<Omit<ScriptedFault, 'action'>> & { action?: string }> = [];

  function takeScriptedFault(action: string): FaultCode | undefined {
    const i = scripted.findIndex((f) => f.action === undefined || f.action === action);
    if (i < 0) return undefined;
    const f = scripted[i]!;
    f.times -= 1;
    if (f.times <= 0) scripted.splice(i, 1);
    return f.code;
  }

  function randomFault(action: string): FaultCode | undefined {
    // Draw all three numbers on every call so the sequence does not depend on which knobs are set.
    const throttleDraw = faultRandom();
    const errorDraw = faultRandom();
    const kindDraw = faultRandom();
    if (knobs.faultActions.length > 0 && !knobs.faultActions.includes(action)) return undefined;
    if (throttleDraw < knobs.throttleRate) return 'RequestLimitExceeded';
    if (errorDraw < knobs.serverErrorRate) {
      if (knobs.serverErrorCode === 'mixed') return kindDraw < 0.5 ? 'InternalError' : 'Unavailable';
      return knobs.serverErrorCode;
    }
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const started = clock();
    let action = '';
    let params: Record<string, string> = {};
    let caller: Caller | undefined;
    let status = 200;
    let body: string;
    let errorCode: string | undefined;
    let delay = 0;
    try {
      let raw: string;
      if (req.method === 'POST') raw = await readBody(req);
      else if (req.method === 'GET') raw = (req.url ?? '').split('?')[1] ?? '';
      else throw new Ec2Error('InvalidHttpRequest', `EC2 accepts GET and POST, not ${req.method}`, 400);
      const query = QueryParams.parse(raw);
      params = query.toObject();
      action = query.str('Action') ?? '';
      caller = authenticate(req.headers, state.region, accessKeyIds);
      if (action === '') throw new Ec2Error('MissingAction', 'The request must contain the parameter Action');
      if (!isActionName(action)) {
        throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);
      }
      delay = latencyFor(knobs.latencyMs, action, params);
      if (!isAllowed(knobs.allowedActions, action)) throw unauthorized(state.accountId, caller, action);
      const fault = takeScriptedFault(action) ?? randomFault(action);
      if (fault) throw new Ec2Error(fault, FAULTS[fault].message, FAULTS[fault].status);
      if (query.bool('DryRun') === true) {
        throw new Ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
      }
      const spec = ACTIONS[action];
      const ctx: ActionContext = {
        params: query,
        state,
        visible: (kind) => consistency.visible(kind, clock()),
        reassociation: knobs.reassociation,
      };
      const lagging = spec.mutating && knobs.consistencyDelayMs !== 0;
      const before = lagging ? consistency.snapshot() : undefined;
      try {
        body = successXml(action, requestId, spec.run(ctx));
      } finally {
        // A handler that failed half-way must not leave Describe* seeing its partial effects early.
        if (before) consistency.record(before, clock(), knobs.consistencyDelayMs, action);
      }
    } catch (e) {
      const err =
        e instanceof Ec2Error
          ? e
          : new Ec2Error('InternalError', `EC2 emulator bug: ${(e as Error).message}`, 500);
      status = err.status;
      errorCode = err.code;
      body = errorXml(err.code, err.message, requestId);
    }
    if (delay > 0) await sleep(delay);
    const payload = Buffer.from(body, 'utf8');
    calls.add({
      action,
      params,
      time: started,
      durationMs: clock() - started,
      status,
      ...(errorCode ? { errorCode } : {}),
      requestId,
      ...(caller ? { accessKeyId: caller.accessKeyId } : {}),
    });
    if (res.destroyed) return;
    res.writeHead(status, {
      'content-type': 'text/xml;charset=UTF-8',
      'content-length': payload.length,
      'x-amzn-requestid': requestId,
      date: new Date().toUTCString(),
      server: 'AmazonEC2',
    });
    res.end(payload);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      // handle() answers every EC2 error itself; reaching here means the socket broke mid-reply.
      res.destroy(e instanceof Error ? e : new Error(String(e)));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  return {
    endpoint: `http://${host}:${addr.port}`,
    region: state.region,
    state,
    calls,
    get knobs() {
      return knobs;
    },
    setKnobs(next) {
      const merged = { ...knobs, ...next };
      checkKnobs(merged);
      knobs = merged;
    },
    injectFault(fault) {
      const times = fault.times ?? 1;
      if (!(times >= 1)) throw new Error(`EC2 emulator injectFault: times must be >= 1, got ${times}`);
      scripted.push({ code: fault.code, times, ...(fault.action ? { action: fault.action } : {}) });
    },
    settle() {
      consistency.settle();
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
