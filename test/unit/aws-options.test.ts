/** The aws provider's options: the three config shapes, defaults, and errors that name key and fix. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { AwsProvider } from '../../providers/aws/index.js';
import { parseAwsOptions } from '../../providers/aws/options.js';
import { permissionsFor } from '../../providers/aws/permissions.js';
import type { ProviderContext } from '../../src/notify/provider.js';

const parse = (o: Record<string, unknown>) => parseAwsOptions(o, 'VI_1');

void test('the three shapes from the issue parse, with defaults', () => {
  assert.deepEqual(
    parse({ mechanism: 'eip', allocation_id: 'eipalloc-0123456789abcdef0', private_ip: '10.0.1.10' }),
    {
      mechanism: 'eip',
      eips: [{ allocationId: 'eipalloc-0123456789abcdef0', privateIp: '10.0.1.10' }],
      detachOnRelease: true,
      timeoutMs: 10_000,
      maxConcurrency: 8,
    },
  );
  assert.deepEqual(parse({ mechanism: 'secondary-ip', addresses: ['10.0.1.50'] }), {
    mechanism: 'secondary-ip',
    addresses: ['10.0.1.50'],
    manageOsAddress: true,
    unassignOnRelease: true,
    timeoutMs: 10_000,
    maxConcurrency: 8,
  });
  const route = parse({
    mechanism: 'route',
    route_tables: ['rtb-0123456789abcdef0', 'rtb-01234567'],
    destination: '10.0.1.50/32',
    region: 'eu-west-1',
    endpoint: 'https://ec2.eu-west-1.amazonaws.com',
    imds_endpoint: 'http://[fd00:ec2::254]',
    instance_id: 'i-0123456789abcdef0',
    eni_id: 'eni-0123456789abcdef0',
    timeout: '2.5s',
    max_concurrency: 2,
  });
  assert.deepEqual(route, {
    mechanism: 'route',
    routeTables: ['rtb-0123456789abcdef0', 'rtb-01234567'],
    destinations: ['10.0.1.50/32'],
    region: 'eu-west-1',
    endpoint: 'https://ec2.eu-west-1.amazonaws.com',
    imdsEndpoint: 'http://[fd00:ec2::254]',
    instanceId: 'i-0123456789abcdef0',
    eniId: 'eni-0123456789abcdef0',
    timeoutMs: 2500,
    maxConcurrency: 2,
  });
  assert.deepEqual(
    parse({
      mechanism: 'route',
      route_tables: 'rtb-0123456789abcdef0',
      destinations: ['10.0.1.50/32', '10.0.1.51/32'],
    }).mechanism,
    'route',
  );
});

void test('errors name the instance, the key and what to write', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [
      {},
      /instance VI_1: aws provider: option mechanism must be one of eip, secondary-ip, route \(it is missing\)/,
    ],
    [{ mechanism: 'nat-gateway' }, /mechanism must be one of .* not "nat-gateway"/],
    [{ mechanism: 'eip' }, /option allocation_id: give allocation_id .* or eips/],
    [
      { mechanism: 'eip', allocation_id: 'eip-123' },
      /option allocation_id: 'eip-123' is not a valid allocation_id; write it like eipalloc-0123456789abcdef0/,
    ],
    [
      { mechanism: 'eip', allocation_id: 'eipalloc-0123456789abcdef0', private_ip: '10.0.1' },
      /option private_ip: '10.0.1' is not an IPv4 address/,
    ],
    [
      { mechanism: 'eip', allocation_id: 'eipalloc-0123456789abcdef0', allocation: 'x' },
      /unknown option "allocation"; see docs\/aws.md/,
    ],
    [
      {
        mechanism: 'eip',
        eips: [
          { allocation_id: 'eipalloc-0123456789abcdef0' },
          { allocation_id: 'eipalloc-0123456789abcdef1' },
        ],
      },
      /eipalloc-0123456789abcdef0 needs a private_ip/,
    ],
    [
      {
        mechanism: 'eip',
        eips: [
          { allocation_id: 'eipalloc-0123456789abcdef0', private_ip: '10.0.1.5' },
          { allocation_id: 'eipalloc-0123456789abcdef1', private_ip: '10.0.1.5' },
        ],
      },
      /private_ip 10.0.1.5 is used twice/,
    ],
    [
      { mechanism: 'secondary-ip', addresses: ['fd00::5'] },
      /option addresses.0: 'fd00::5' is not an IPv4 address/,
    ],
    [
      { mechanism: 'secondary-ip', addresses: [] },
      /option addresses: list at least one address, or leave addresses out/,
    ],
    [{ mechanism: 'route', route_tables: ['rtb-0123456789abcdef0'] }, /option destination: give destination/],
    [
      { mechanism: 'route', route_tables: ['rtb-0123456789abcdef0'], destination: '10.0.1.50' },
      /'10.0.1.50' is not an IPv4 CIDR; write e.g. 10.0.1.50\/32/,
    ],
    [{ mechanism: 'route', destination: '10.0.1.50/32' }, /option route_tables/],
    [
      { mechanism: 'eip', allocation_id: 'eipalloc-0123456789abcdef0', timeout: '10 parsecs' },
      /option timeout: '10 parsecs' is not a duration/,
    ],
    [
      { mechanism: 'eip', allocation_id: 'eipalloc-0123456789abcdef0', timeout: '5ms' },
      /option timeout: 5ms is too short/,
    ],
    [
      { mechanism: 'eip', allocation_id: 'eipalloc-0123456789abcdef0', max_concurrency: 0 },
      /option max_concurrency: max_concurrency must be at least 1/,
    ],
    [
      { mechanism: 'eip', allocation_id: 'eipalloc-0123456789abcdef0', endpoint: 'ec2.local' },
      /option endpoint: endpoint 'ec2.local' is not an http\(s\) URL/,
    ],
    [
      { mechanism: 'eip', allocation_id: 'eipalloc-0123456789abcdef0', region: 'Frankfurt' },
      /option region: expected a region like us-east-1/,
    ],
  ];
  for (const [raw, re] of cases) assert.throws(() => parse(raw), re, JSON.stringify(raw));
});

void test('permissions per mechanism and release option, plus the two holderAlive reads, sorted', () => {
  const p = (o: Record<string, unknown>) => permissionsFor(parse(o));
  // By default release gives the address back, so the release action is in the list.
  assert.deepEqual(p({ mechanism: 'eip', allocation_id: 'eipalloc-0123456789abcdef0' }), [
    'ec2:AssociateAddress',
    'ec2:DescribeAddresses',
    'ec2:DescribeInstances',
    'ec2:DescribeNetworkInterfaces',
    'ec2:DisassociateAddress',
  ]);
  assert.deepEqual(
    p({ mechanism: 'eip', allocation_id: 'eipalloc-0123456789abcdef0', detach_on_release: false }),
    [
      'ec2:AssociateAddress',
      'ec2:DescribeAddresses',
      'ec2:DescribeInstances',
      'ec2:DescribeNetworkInterfaces',
    ],
  );
  assert.deepEqual(p({ mechanism: 'secondary-ip' }), [
    'ec2:AssignPrivateIpAddresses',
    'ec2:DescribeInstances',
    'ec2:DescribeNetworkInterfaces',
    'ec2:UnassignPrivateIpAddresses',
  ]);
  assert.deepEqual(p({ mechanism: 'secondary-ip', unassign_on_release: false }), [
    'ec2:AssignPrivateIpAddresses',
    'ec2:DescribeInstances',
    'ec2:DescribeNetworkInterfaces',
  ]);
  assert.deepEqual(
    p({ mechanism: 'route', route_tables: ['rtb-0123456789abcdef0'], destination: '10.0.0.0/24' }),
    [
      'ec2:CreateRoute',
      'ec2:DescribeInstances',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeRouteTables',
      'ec2:ReplaceRoute',
    ],
  );
});

void test('the factory refuses at construction: bad options, secondary-ip without IPv4 VIPs; selfId needs prepare() unless eni_id is set', () => {
  const ctx = (
    options: Record<string, unknown>,
    virtualIps: ProviderContext['virtualIps'] = [],
  ): ProviderContext => ({
    instance: 'VI_1',
    interface: 'eth0',
    family: 'ipv4',
    virtualIps,
    options,
    garp: { masterDelayMs: 0, masterRepeat: 1, masterRefreshMs: 0, masterRefreshRepeat: 1 },
    log: pino({ level: 'silent' }),
  });
  assert.throws(() => new AwsProvider(ctx({ mechanism: 'eip' })), /allocation_id/);
  assert.throws(
    () =>
      new AwsProvider(
        ctx({ mechanism: 'secondary-ip' }, [{ address: 'fd00::1', prefix: 64, family: 'ipv6' }]),
      ),
    /no IPv4 virtual_ipaddress on eth0 to assign; list them in the provider's addresses option/,
  );
  const p = new AwsProvider(ctx({ mechanism: 'eip', allocation_id: 'eipalloc-0123456789abcdef0' }));
  assert.equal(p.name, 'aws:eip');
  assert.throws(() => p.selfId, /known only after prepare\(\)/);
  const q = new AwsProvider(
    ctx({ mechanism: 'eip', allocation_id: 'eipalloc-0123456789abcdef0', eni_id: 'eni-0123456789abcdef0' }),
  );
  assert.equal(q.selfId, 'eni-0123456789abcdef0');
});
