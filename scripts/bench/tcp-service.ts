/**
 * The "application" behind a VIP: accepts TCP connections on VIP:PORT and closes them at once.
 * It binds before the VIP is on the node (net.ipv4.ip_nonlocal_bind=1), so it runs on master
 * and backup alike and answers wherever the VIP lands, with no restart on failover.
 *   node --import tsx scripts/bench/tcp-service.ts VIP PORT
 */
import { createServer } from 'node:net';

const [vip, portText] = process.argv.slice(2);
const port = Number(portText);
if (!vip || !Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write('usage: tcp-service.ts VIP PORT (a local or non-locally bindable address)\n');
  process.exit(2);
}
const server = createServer((sock) => {
  // The server closes first, so TIME_WAIT sockets pile up here and not in the client's port range.
  sock.on('error', () => undefined);
  sock.destroy();
});
server.on('error', (err) => {
  process.stderr.write(`tcp-service: ${vip}:${port}: ${err.message} (is net.ipv4.ip_nonlocal_bind=1 set?)\n`);
  process.exit(1);
});
server.listen({ host: vip, port, backlog: 1024 }, () =>
  process.stdout.write(`listening on ${vip}:${port}\n`),
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
