/**
 * holderAlive for the AWS provider: is the node behind another holder still up, as EC2 sees it?
 * The notify stage asks this when it reads back a holder that is not us; `false` lets a master that
 * is fenced by the split-brain rule take the address at once instead of waiting out the hold-off.
 *
 * A holder id is what the mechanisms' observe() returns: an ENI id (`eni-…`), possibly with a
 * suffix (`eni-…/10.0.1.20` for an EIP on another private IP, `eni-…+os-address-missing`), an
 * instance id (`i-…`, a route to an instance) or another route target (a gateway), which is not a
 * node and so cannot be judged. Two reads: the ENI's attachment, then the instance's state.
 */
import { DescribeInstancesCommand, DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import type { HolderId } from '../../src/notify/provider.js';
import type { Ec2Api } from './ec2.js';
import { AwsProviderError } from './errors.js';

/** pending: it is booting and will answer; the others will not serve traffic again without a start. */
const LIVE_STATES = new Set(['pending', 'running']);
const DEAD_STATES = new Set(['stopping', 'stopped', 'shutting-down', 'terminated']);
/** An ENI being detached, or detached, no longer carries traffic for the instance it was on. */
const ATTACHED = new Set(['attaching', 'attached']);

export interface LivenessEnv {
  api: Ec2Api;
  /** This node's ENI id. */
  self: string;
  /** "instance VI_1 aws eip", to start every message with. */
  label: string;
}

/**
 * true: the holder's instance is pending or running; false: it is stopped/stopping/terminated,
 * gone, or its ENI is gone or detached; null: not a node (a gateway) or a state EC2 added later.
 * Throws (AwsProviderError) on any other failure, which the notify stage counts as "cannot tell".
 *
 * A holder that is this node's own ENI in part (EIP on another of our private IPs, OS address
 * missing) is answered false: no other live node stands behind it, so the stage should repair it
 * at once rather than fence against itself.
 */
export async function holderAlive(
  env: LivenessEnv,
  holder: HolderId,
  signal: AbortSignal,
): Promise<boolean | null> {
  const eni = /^eni-[0-9a-f]+/.exec(holder)?.[0];
  if (eni !== undefined) {
    if (eni === env.self) return false;
    const instanceId = await attachedInstance(env, eni, signal);
    return instanceId === null ? false : instanceAlive(env, instanceId, signal);
  }
  const instance = /^i-[0-9a-f]+$/.exec(holder)?.[0];
  if (instance !== undefined) return instanceAlive(env, instance, signal);
  return null;
}

/** The instance the ENI is attached to; null when the ENI does not exist or is not attached. */
async function attachedInstance(env: LivenessEnv, eni: string, signal: AbortSignal): Promise<string | null> {
  let out;
  try {
    out = await env.api.call(
      'DescribeNetworkInterfaces',
      `${env.label}: is holder ${eni} alive: describe it`,
      signal,
      (c, abortSignal) =>
        c.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] }), { abortSignal }),
    );
  } catch (err) {
    if (isCode(err, 'InvalidNetworkInterfaceID.NotFound')) return null;
    throw err;
  }
  const a = out.NetworkInterfaces?.find((n) => n.NetworkInterfaceId === eni)?.Attachment;
  if (!a?.InstanceId) return null;
  if (a.Status !== undefined && !ATTACHED.has(a.Status)) return null;
  return a.InstanceId;
}

async function instanceAlive(
  env: LivenessEnv,
  instanceId: string,
  signal: AbortSignal,
): Promise<boolean | null> {
  let out;
  try {
    out = await env.api.call(
      'DescribeInstances',
      `${env.label}: is holder instance ${instanceId} alive: describe it`,
      signal,
      (c, abortSignal) =>
        c.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }), { abortSignal }),
    );
  } catch (err) {
    if (isCode(err, 'InvalidInstanceID.NotFound')) return false;
    throw err;
  }
  const instance = (out.Reservations ?? [])
    .flatMap((r) => r.Instances ?? [])
    .find((i) => i.InstanceId === instanceId);
  // A terminated instance drops out of DescribeInstances after about an hour.
  if (!instance) return false;
  const state = instance.State?.Name;
  if (state !== undefined && LIVE_STATES.has(state)) return true;
  if (state !== undefined && DEAD_STATES.has(state)) return false;
  return null;
}

function isCode(err: unknown, code: string): boolean {
  return err instanceof AwsProviderError && err.code === code;
}
