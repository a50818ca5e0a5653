import type { Ec2State } from '../model.js';
import type { ResourceKind, ViewsByKind } from '../views.js';
import type { QueryParams, XmlNode } from '../wire.js';

/**
 * How AssociateAddress treats an EIP that is already associated elsewhere when AllowReassociation
 * is absent. 'automatic' is today's EC2 (every account is EC2-VPC-only since EC2-Classic retired):
 * it moves unless AllowReassociation=false. 'explicit' is the old VPC-in-EC2-Classic-account rule:
 * it fails with Resource.AlreadyAssociated unless AllowReassociation=true.
 */
export type ReassociationMode = 'automatic' | 'explicit';

export interface ActionContext {
  readonly params: QueryParams;
  /** Committed state: mutations and conflict checks use this. */
  readonly state: Ec2State;
  /** What Describe* may show now (lags behind `state` under eventual consistency). */
  visible<K extends ResourceKind>(kind: K): Map<string, ViewsByKind[K]>;
  readonly reassociation: ReassociationMode;
}

export interface ActionSpec {
  /** Mutating calls get their effects delayed in Describe* by the consistency layer. */
  readonly mutating: boolean;
  run(ctx: ActionContext): XmlNode[];
}
