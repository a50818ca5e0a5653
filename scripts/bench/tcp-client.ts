/**
 * A client of the VIP services: opens a TCP connection to each target every few milliseconds and
 * drops it (RST) once established. Connection outcomes are read off the wire by the observer, so
 * this process prints nothing per attempt and needs no clock of its own.
 * SIGUSR1 switches to the fast rate (a trial is running), SIGUSR2 back to the idle rate, which only
 * keeps the client's ARP entries warm, as a real client's traffic would.
 *   node --import tsx scripts/bench/tcp-client.ts VIP:PORT...
 */
import { connect, type Socket } from 'node:net';

const FAST = { everyMs: 5, timeoutMs: 250 };
const IDLE = { everyMs: 200, timeoutMs: 1000 };
/** Bounds the sockets in flight towards an unreachable VIP (each waits for its timeout). */
const MAX_IN_FLIGHT = 100;

const targets = process.argv.slice(2).map((t) => {
  const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(t);
  if (!m) {
    process.stderr.write(`tcp-client: "${t}" is not IPV4:PORT\n`);
    process.exit(2);
  }
  return { host: m[1]!, port: Number(m[2]), inFlight: 0 };
});
if (targets.length === 0) {
  process.stderr.write('usage: tcp-client.ts VIP:PORT...\n');
  process.exit(2);
}

let mode = IDLE;
let timer: NodeJS.Timeout | undefined;

function attempt(t: (typeof targets)[number]): void {
  if (t.inFlight >= MAX_IN_FLIGHT) return;
  t.inFlight++;
  const s: Socket = connect({ host: t.host, port: t.port });
  const to = setTimeout(() => s.destroy(), mode.timeoutMs);
  let finished = false;
  const done = (): void => {
    if (finished) return;
    finished = true;
    clearTimeout(to);
    t.inFlight--;
  };
  s.once('connect', () => {
    done();
    s.resetAndDestroy();
  });
  s.on('error', done);
  s.once('close', done);
}

function schedule(): void {
  if (timer) clearInterval(timer);
  timer = setInterval(() => {
    for (const t of targets) attempt(t);
  }, mode.everyMs);
}

process.on('SIGUSR1', () => {
  mode = FAST;
  schedule();
});
process.on('SIGUSR2', () => {
  mode = IDLE;
  schedule();
});
process.on('SIGTERM', () => process.exit(0));
schedule();
process.stdout.write(`client ready: ${targets.map((t) => `${t.host}:${t.port}`).join(' ')}\n`);
