/**
 * EC2 reports every failure as a code + message pair in the `<Response><Errors>` envelope. Handlers
 * throw Ec2Error; the server turns it into that envelope with the HTTP status EC2 uses for the code.
 */
export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

export function notFound(
  kind: 'allocation' | 'association' | 'networkInterface' | 'instance' | 'routeTable',
  id: string,
): Ec2Error {
  switch (kind) {
    case 'allocation':
      return new Ec2Error('InvalidAllocationID.NotFound', `The allocation ID '${id}' does not exist`);
    case 'association':
      return new Ec2Error('InvalidAssociationID.NotFound', `The association ID '${id}' does not exist`);
    case 'networkInterface':
      return new Ec2Error(
        'InvalidNetworkInterfaceID.NotFound',
        `The networkInterface ID '${id}' does not exist`,
      );
    case 'instance':
      return new Ec2Error('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    case 'routeTable':
      return new Ec2Error('InvalidRouteTableID.NotFound', `The routeTable ID '${id}' does not exist`);
  }
}

export type IdKind = 'allocation' | 'association' | 'networkInterface' | 'instance' | 'routeTable';

const ID_SHAPES: Record<IdKind, { prefix: string; code: string }> = {
  allocation: { prefix: 'eipalloc-', code: 'InvalidAllocationID.Malformed' },
  association: { prefix: 'eipassoc-', code: 'InvalidAssociationID.Malformed' },
  networkInterface: { prefix: 'eni-', code: 'InvalidNetworkInterfaceID.Malformed' },
  instance: { prefix: 'i-', code: 'InvalidInstanceID.Malformed' },
  routeTable: { prefix: 'rtb-', code: 'InvalidRouteTableID.Malformed' },
};

/** EC2 rejects ids that do not look like `prefix-hex` before looking them up. */
export function checkIdShape(kind: IdKind, id: string): void {
  const shape = ID_SHAPES[kind];
  const rest = id.startsWith(shape.prefix) ? id.slice(shape.prefix.length) : '';
  if (!/^[0-9a-f]{8}$|^[0-9a-f]{17}$/.test(rest)) {
    throw new Ec2Error(shape.code, `Invalid id: "${id}" (expecting "${shape.prefix}...")`);
  }
}

export function missingParameter(name: string): Ec2Error {
  return new Ec2Error('MissingParameter', `The request must contain the parameter ${name}`);
}

export function invalidValue(param: string, value: string, why: string): Ec2Error {
  return new Ec2Error('InvalidParameterValue', `Value (${value}) for parameter ${param} is invalid. ${why}`);
}
