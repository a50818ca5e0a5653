/**
 * The IAM actions each mechanism calls, in IAM spelling. This list is the provider's `permissions`
 * and the source the Terraform policies are checked against; the tests run the EC2 emulator with
 * exactly this allow-list, so an action used but not listed fails them. IMDS needs no IAM action.
 * Every mechanism also asks holderAlive(): DescribeNetworkInterfaces (the holder ENI's instance)
 * and DescribeInstances (that instance's state). Sorted, so docs can be compared with ===.
 */
import type { AwsOptions } from './options.js';

const LIVENESS = ['ec2:DescribeInstances', 'ec2:DescribeNetworkInterfaces'];

export function permissionsFor(o: AwsOptions): string[] {
  return [...new Set([...mechanismActions(o), ...LIVENESS])].sort();
}

function mechanismActions(o: AwsOptions): string[] {
  switch (o.mechanism) {
    case 'eip':
      return [
        'ec2:AssociateAddress',
        'ec2:DescribeAddresses',
        ...(o.detachOnRelease ? ['ec2:DisassociateAddress'] : []),
      ];
    case 'secondary-ip':
      return [
        'ec2:AssignPrivateIpAddresses',
        'ec2:DescribeNetworkInterfaces',
        ...(o.unassignOnRelease ? ['ec2:UnassignPrivateIpAddresses'] : []),
      ];
    case 'route':
      return [
        'ec2:CreateRoute',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeRouteTables',
        'ec2:ReplaceRoute',
      ];
  }
}
