/**
 * Authentication and authorization as EC2 reports them. The SigV4 Authorization header must be
 * present and well-formed with an `ec2` credential scope in the emulator's region; the signature
 * itself is NOT verified (any secret works), which keeps tests free of real key material.
 */
import { Ec2Error } from './errors.js';

export interface Caller {
  accessKeyId: string;
  region: string;
}

const AUTH_FAILURE = 'AWS was not able to validate the provided access credentials';
const HEADER_RE =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/([0-9]{8})\/([^/\s]+)\/([^/\s]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

export function authenticate(
  headers: Record<string, string | string[] | undefined>,
  region: string,
  accessKeyIds: readonly string[] | null,
): Caller {
  const header = headers.authorization;
  if (typeof header !== 'string' || header === '') {
    throw new Ec2Error('AuthFailure', `${AUTH_FAILURE} (no Authorization header)`, 401);
  }
  const m = HEADER_RE.exec(header);
  if (!m) throw new Ec2Error('AuthFailure', `${AUTH_FAILURE} (Authorization is not AWS4-HMAC-SHA256)`, 401);
  const [, accessKeyId, , scopeRegion, service, signedHeaders] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (service !== 'ec2') {
    throw new Ec2Error('AuthFailure', `Credential should be scoped to correct service: 'ec2'.`, 401);
  }
  if (scopeRegion !== region) {
    throw new Ec2Error(
      'AuthFailure',
      `Credential should be scoped to a valid region, not '${scopeRegion}'.`,
      401,
    );
  }
  if (!signedHeaders.split(';').includes('host') || headers['x-amz-date'] === undefined) {
    throw new Ec2Error('AuthFailure', `${AUTH_FAILURE} (host must be signed and X-Amz-Date present)`, 401);
  }
  if (accessKeyIds && !accessKeyIds.includes(accessKeyId)) {
    throw new Ec2Error('AuthFailure', AUTH_FAILURE, 401);
  }
  return { accessKeyId, region };
}

function iamPatternToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${body}$`, 'i');
}

export function isAllowed(allowedActions: readonly string[] | null, action: string): boolean {
  if (allowedActions === null) return true;
  return allowedActions.some((p) => iamPatternToRegExp(p).test(`ec2:${action}`));
}

export interface AuthorizationContext {
  allowed: false;
  explicitDeny: false;
  principal: string;
  action: string;
  resource: string;
}

/**
 * EC2 appends an opaque blob that only sts:DecodeAuthorizationMessage can read. Ours is base64 JSON
 * so tests can decode it with decodeAuthorizationMessage().
 */
export function unauthorized(accountId: string, caller: Caller, action: string): Ec2Error {
  const principal = `arn:aws:iam::${accountId}:user/${caller.accessKeyId}`;
  const context: AuthorizationContext = {
    allowed: false,
    explicitDeny: false,
    principal,
    action: `ec2:${action}`,
    resource: '*',
  };
  const encoded = Buffer.from(JSON.stringify(context)).toString('base64');
  return new Ec2Error(
    'UnauthorizedOperation',
    `You are not authorized to perform this operation. User: ${principal} is not authorized to perform: ec2:${action} ` +
      `because no identity-based policy allows the ec2:${action} action. Encoded authorization failure message: ${encoded}`,
    403,
  );
}

export function decodeAuthorizationMessage(message: string): AuthorizationContext {
  const m = /Encoded authorization failure message: ([A-Za-z0-9+/=]+)/.exec(message);
  if (!m) throw new Error(`not an EC2 UnauthorizedOperation message: ${message}`);
  return JSON.parse(Buffer.from(m[1]!, 'base64').toString('utf8')) as AuthorizationContext;
}
