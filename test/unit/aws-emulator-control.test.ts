/**
 * The EC2 emulator's test-only control socket (test/emulators/ec2/control.ts), as the netns test
 * and the demo use it from outside the emulator's namespace: state, call log, instance state, knobs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { controlListener } from '../emulators/ec2/control.js';
import { startEc2Emulator } from '../emulators/ec2/index.js';
import { I_B, seed } from './aws-fixtures.js';

function call(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

void test('control socket: state and calls read, instance state and latency set; bad requests name the problem', async () => {
  const emu = await startEc2Emulator({ seed: seed() });
  const dir = mkdtempSync(join(tmpdir(), 'ec2ctl-'));
  const socket = join(dir, 'c.sock');
  const server = createServer(controlListener(emu));
  await new Promise<void>((r) => server.listen(socket, r));
  const ec2 = new EC2Client({ endpoint: emu.endpoint, region: 'us-east-1', maxAttempts: 1 });
  try {
    const state = (await call(socket, 'GET', '/_emulator/state')).json as {
      instances: Array<{ instanceId: string; state: string }>;
      addresses: Array<{ allocationId: string }>;
    };
    assert.equal(state.instances.find((i) => i.instanceId === I_B)?.state, 'running');
    assert.equal(state.addresses.length, 2);

    assert.deepEqual(await call(socket, 'POST', `/_emulator/instances/${I_B}/state`, { state: 'stopped' }), {
      status: 200,
      json: { instanceId: I_B, state: 'stopped' },
    });
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [I_B] }));
    assert.equal(
      out.Reservations?.[0]?.Instances?.[0]?.State?.Name,
      'stopped',
      'visible through the EC2 API',
    );

    const calls = (await call(socket, 'GET', '/_emulator/calls')).json as Array<{
      seq: number;
      action: string;
    }>;
    assert.deepEqual(
      calls.map((c) => c.action),
      ['DescribeInstances'],
    );
    assert.deepEqual((await call(socket, 'GET', `/_emulator/calls?since=${calls[0]!.seq}`)).json, []);

    assert.equal((await call(socket, 'POST', '/_emulator/knobs', { latencyMs: 25 })).status, 200);
    assert.equal(emu.knobs.latencyMs, 25);

    const bad = await call(socket, 'POST', `/_emulator/instances/${I_B}/state`, { state: 'asleep' });
    assert.equal(bad.status, 400);
    assert.match((bad.json as { error: string }).error, /state must be one of pending, running/);
    assert.equal(
      (await call(socket, 'POST', '/_emulator/instances/i-0123456789abcdef0/state', { state: 'stopped' }))
        .status,
      404,
    );
    assert.equal((await call(socket, 'POST', '/_emulator/knobs', { allowedActions: [] })).status, 400);
    assert.equal((await call(socket, 'POST', '/_emulator/knobs', { throttleRate: 2 })).status, 400);
    assert.equal((await call(socket, 'GET', '/_emulator/nothing')).status, 404);
  } finally {
    ec2.destroy();
    server.close();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
