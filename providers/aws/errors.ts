/**
 * How an EC2 failure is judged: retry it (throttling, 5xx, a dropped connection), or fail at once
 * (auth, bad ids, bad parameters), and the message an operator reads for each.
 */
import { ProviderError } from '../../src/notify/provider.js';

export type FailureKind = 'auth' | 'throttle' | 'server' | 'network' | 'aborted' | 'client';

const THROTTLE_CODES = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
]);
const AUTH_CODES = new Set(['UnauthorizedOperation', 'AuthFailure', 'Blocked', 'OptInRequired']);
const SERVER_CODES = new Set(['InternalError', 'InternalFailure', 'Unavailable', 'ServiceUnavailable']);
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The EC2 error code (`RequestLimitExceeded`, `InvalidAllocationID.NotFound`, …) or a Node error code. */
export function errorCode(err: unknown): string {
  const e = err as SdkErrorShape | null;
  if (!e || typeof e !== 'object') return 'Error';
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  return e.name ?? e.code ?? 'Error';
}

export function classify(err: unknown): FailureKind {
  const code = errorCode(err);
  if (code === 'AbortError') return 'aborted';
  if (AUTH_CODES.has(code)) return 'auth';
  if (THROTTLE_CODES.has(code)) return 'throttle';
  if (SERVER_CODES.has(code)) return 'server';
  if (NETWORK_CODES.has(code)) return 'network';
  const status = (err as SdkErrorShape | null)?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return 'server';
  if (status === 429) return 'throttle';
  return 'client';
}

export function isRetryable(kind: FailureKind): boolean {
  return kind === 'throttle' || kind === 'server' || kind === 'network';
}

/**
 * A failure of one EC2 action, already explained for the operator. A missing permission or a wrong
 * id (`auth`, `client`) is not retryable: the notify stage then gives up at once instead of
 * repeating the call until its deadline, which could not help.
 */
export class AwsProviderError extends ProviderError {
  constructor(
    message: string,
    /** EC2 action name, e.g. AssociateAddress. */
    readonly action: string,
    readonly code: string,
    readonly kind: FailureKind | 'deadline' | 'unconfirmed',
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, kind !== 'auth' && kind !== 'client', options);
    this.name = 'AwsProviderError';
  }
}

/** The IAM action that authorizes an EC2 API action. */
export function iamAction(action: string): string {
  return `ec2:${action}`;
}

/**
 * Hints for the client errors an operator can fix from the config: keyed by EC2 error code, each
 * names the option that holds the id.
 */
const CLIENT_HINTS: Record<string, string> = {
  'InvalidAllocationID.NotFound':
    'check allocation_id: the Elastic IP allocation does not exist in this region/account',
  'InvalidAllocationID.Malformed': 'allocation_id must look like eipalloc-0123456789abcdef0',
  'InvalidNetworkInterfaceID.NotFound':
    'check eni_id (or the interface MAC IMDS reported): that ENI does not exist in this region',
  'InvalidNetworkInterfaceID.Malformed': 'eni_id must look like eni-0123456789abcdef0',
  'InvalidRouteTableID.NotFound': 'check route_tables: that route table does not exist in this region',
  'InvalidRouteTableID.Malformed': 'route_tables entries must look like rtb-0123456789abcdef0',
  'InvalidInstanceID.NotFound': 'check instance_id: that instance does not exist in this region',
  'Resource.AlreadyAssociated': 'the Elastic IP is associated elsewhere and EC2 refused to move it',
  PrivateIpAddressLimitExceeded:
    'the ENI already has as many private IPs as its instance type allows; free one or use a larger type',
};

/** Turns an SDK error into the message the log and the notify stage show. */
export function explain(err: unknown, action: string, attempts: number, what: string): AwsProviderError {
  const kind = classify(err);
  const code = errorCode(err);
  const detail = (err as SdkErrorShape | null)?.message ?? String(err);
  let message: string;
  if (kind === 'auth' && code === 'UnauthorizedOperation') {
    message =
      `aws: ${what}: ${action} was denied (UnauthorizedOperation): the instance role needs ` +
      `${iamAction(action)}; add it to the role's policy (docs/aws.md lists every action per mechanism)`;
  } else if (kind === 'auth') {
    message =
      `aws: ${what}: ${action} failed with ${code}: the credentials were not accepted ` +
      `(check the instance role, the clock, and that region matches the endpoint): ${detail}`;
  } else {
    const hint = CLIENT_HINTS[code];
    message = `aws: ${what}: ${action} failed with ${code}: ${detail}${hint ? `; ${hint}` : ''}`;
  }
  return new AwsProviderError(message, action, code, kind, attempts, { cause: err });
}
