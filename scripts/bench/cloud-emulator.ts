/**
 * The EC2 emulator as the cloud benchmark runs it, in its own lab namespace:
 *   cloud-emulator.ts --listen IP:PORT --seed FILE --events FILE [--latency-ms 0,300]
 * Answers with the first latency of the list; each SIGUSR2 moves to the next one (the clients,
 * their connections and the EC2 state stay). Prints {"endpoint": …} once listening and appends
 * JSON lines to the events file:
 *   {"ev":"call", action, key, arrival, durationMs, status, code?}   every answered request
 *   {"ev":"commit", t, action, holders: {target: eni | null}}          after every mutating action
 *   {"ev":"latency", ms}                                                 at start and after each switch
 * `holders` lists only the Elastic IPs (by allocation id) and routes (by "rtb/cidr") whose holder
 * changed with that commit; the first commit line at start-up lists all of them.
 *
 * A commit is timestamped the moment the action's handler returns, which is when the emulator's
 * state changes (its latency knob delays only the answer). Times are epoch ms from
 * performance.timeOrigin + performance.now(): the wall clock the capture also uses, with µs.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ACTIONS } from '../../test/emulators/ec2/actions/index.js';
import { startEc2Emulator, type Ec2Seed, type Ec2State } from '../../test/emulators/ec2/index.js';

const { values } = parseArgs({
  options: {
    listen: { type: 'string' },
    seed: { type: 'string' },
    events: { type: 'string' },
    'latency-ms': { type: 'string', default: '0' },
  },
  strict: true,
});
const fail = (m: string): never => {
  process.stderr.write(`cloud-emulator: ${m}\n`);
  process.exit(2);
};
const m = /^([\d.]+):(\d+)$/.exec(values.listen ?? '') ?? fail('--listen IP:PORT is required');
const eventsFile = values.events ?? fail('--events FILE is required');
const seed = JSON.parse(readFileSync(values.seed ?? fail('--seed FILE is required'), 'utf8')) as Ec2Seed;
const latencies = (values['latency-ms'] ?? '0').split(',').map(Number);
if (!latencies.every((l) => l >= 0))
  fail(`--latency-ms must be numbers ≥ 0 separated by commas, got ${values['latency-ms']}`);

const now = (): number => performance.timeOrigin + performance.now();
const emit = (o: Record<string, unknown>): void => appendFileSync(eventsFile, `${JSON.stringify(o)}\n`);

function holders(state: Ec2State): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const a of state.addresses.values())
    out.set(a.allocationId, a.association?.networkInterfaceId ?? null);
  for (const t of state.routeTables.values()) {
    for (const r of t.routes) {
      if (r.target.kind === 'gateway') continue;
      const eni = r.target.kind === 'networkInterface' ? r.target.networkInterfaceId : null;
      out.set(`${t.routeTableId}/${r.destinationCidrBlock}`, eni);
    }
  }
  return out;
}

let last = new Map<string, string | null>();
function commit(state: Ec2State, action: string): void {
  const t = now();
  const cur = holders(state);
  const changed: Record<string, string | null> = {};
  for (const [k, v] of cur) if (last.get(k) !== v || !last.has(k)) changed[k] = v;
  last = cur;
  emit({ ev: 'commit', t, action, holders: changed });
}

// The emulator has no commit hook; wrapping each mutating handler observes the state change at
// the instant it happens without changing what the emulator does.
for (const [action, spec] of Object.entries(ACTIONS)) {
  if (!spec.mutating) continue;
  const run = spec.run.bind(spec);
  spec.run = (ctx) => {
    try {
      return run(ctx);
    } finally {
      commit(ctx.state, action);
    }
  };
}

const [, host, port] = m;
const emu = await startEc2Emulator({
  seed,
  host: host!,
  port: Number(port),
  knobs: { latencyMs: latencies[0]! },
});
commit(emu.state, 'seed');
emit({ ev: 'latency', ms: latencies[0] });
let current = 0;
process.on('SIGUSR2', () => {
  current = Math.min(current + 1, latencies.length - 1);
  emu.setKnobs({ latencyMs: latencies[current]! });
  emit({ ev: 'latency', ms: latencies[current] });
});
// Same idea for the call log: report each answered request as the emulator records it.
const add = emu.calls.add.bind(emu.calls);
emu.calls.add = (r) => {
  add(r);
  emit({
    ev: 'call',
    action: r.action,
    key: r.accessKeyId ?? null,
    arrival: r.time,
    durationMs: r.durationMs,
    status: r.status,
    ...(r.errorCode ? { code: r.errorCode } : {}),
  });
};
process.stdout.write(`${JSON.stringify({ endpoint: emu.endpoint })}\n`);
const stop = (): void => {
  emu.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
