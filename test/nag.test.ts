import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { CancelPipelineDeployment, CancelPipelineDeploymentProvider } from '../lib';

function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node.findAll().flatMap(construct => construct.node.metadata
    .filter(entry => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap(entry => Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ path: construct.node.path, id, reason }))));
}

test('a stack with the construct passes the AwsSolutions rule pack', () => {
  // GIVEN
  const app = newApp();
  const stack = new Stack(app, 'NagStack', { env: { account: '123456789012', region: 'us-east-1' } });
  new CancelPipelineDeployment(stack, 'A', { serviceName: 'service-a' });
  new CancelPipelineDeployment(stack, 'B', { serviceName: 'service-b' });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  // WHEN / THEN: synth throws on any finding not acknowledged
  expect(() => app.synth()).not.toThrow();
});

/** An App whose cloud assembly goes to a new temporary directory, removed after the test file. */
const outdirs: string[] = [];
afterAll(() => outdirs.forEach(dir => rmSync(dir, { recursive: true, force: true })));
function newApp(): App {
  outdirs.push(mkdtempSync(join(tmpdir(), 'nag-')));
  return new App({ outdir: outdirs[outdirs.length - 1] });
}

test('each acknowledged finding is on a resource of the provider, with a reason, never stack-wide', () => {
  const stack = new Stack(new App(), 'NagStack');
  new CancelPipelineDeployment(stack, 'A', { serviceName: 'service-a' });

  const acks = acknowledgements(stack);

  const parameters = 'arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/cdk-proton-cancel-pipeline-deployment/<AWS::StackName>/<provider>/*';
  expect(acks.map(a => `${a.path.replace('NagStack/CancelPipelineDeploymentProvider/', '')} ${a.id.replace(/<CancelPipelineDeploymentProvider(\w+?)[0-9A-F]{8}\.Arn>/, '<$1>').replace(/\/[0-9a-f]{8}\/\*/, '/<provider>/*')}`).sort()).toEqual([
    `HandlerRole AwsSolutions::AwsSolutions-IAM5[Resource::${parameters}]`,
    `OnEventRole AwsSolutions::AwsSolutions-IAM5[Resource::${parameters}]`,
    'Waiter AwsSolutions::AwsSolutions-SF1',
    'Waiter AwsSolutions::AwsSolutions-SF2',
    'WaiterRole AwsSolutions::AwsSolutions-IAM5[Resource::<IsComplete>:*]',
  ]);
  for (const ack of acks) {
    expect(ack.reason.length).toBeGreaterThan(40);
  }
});

/** A stack whose provider runs in an imported VPC and writes to an imported log group. */
function vpcStack(app: App, securityGroups: boolean): Stack {
  const stack = new Stack(app, 'NagVpcStack', { env: { account: '123456789012', region: 'us-east-1' } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  });
  const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', {
    vpc,
    securityGroups: securityGroups ? [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0123456789abcdef0')] : undefined,
    logGroup: logs.LogGroup.fromLogGroupName(stack, 'Logs', '/platform/proton-cancel'),
  });
  new CancelPipelineDeployment(stack, 'A', { serviceName: 'service-a', provider });
  return stack;
}

test.each([
  ['with the security groups Lambda constructs create', false],
  ['with security groups of its own', true],
])('a provider in a VPC, writing to an imported log group, passes the AwsSolutions rule pack %s', (_, securityGroups) => {
  // GIVEN
  const app = newApp();
  vpcStack(app, securityGroups);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  // WHEN / THEN: synth throws on any finding not acknowledged
  expect(() => app.synth()).not.toThrow();
});

test('in a VPC, with an imported log group, each acknowledged finding is on a resource of the provider, with a reason', () => {
  const stack = vpcStack(new App(), false);

  const acks = acknowledgements(stack).filter(a => !/-(IAM5\[Resource::<\w+\.Arn>:\*\]|SF1|SF2)$/.test(a.id));

  const logGroupArn = 'arn:<AWS::Partition>:logs:us-east-1:123456789012:log-group:/platform/proton-cancel:*';
  const networkInterfaces = 'arn:<AWS::Partition>:ec2:us-east-1:123456789012:network-interface/*';
  const parameters = 'arn:<AWS::Partition>:ssm:us-east-1:123456789012:parameter/cdk-proton-cancel-pipeline-deployment/<AWS::StackName>/<provider>/*';
  expect(acks.map(a => `${a.path.replace('NagVpcStack/Provider/', '')} ${a.id.replace(/\/[0-9a-f]{8}\/\*/, '/<provider>/*')}`).sort()).toEqual([
    `HandlerRole AwsSolutions::AwsSolutions-IAM5[Resource::${logGroupArn}]`,
    `HandlerRole AwsSolutions::AwsSolutions-IAM5[Resource::${parameters}]`,
    'NetworkInterfaces/Resource AwsSolutions::AwsSolutions-IAM5[Resource::*]',
    `NetworkInterfaces/Resource AwsSolutions::AwsSolutions-IAM5[Resource::${networkInterfaces}]`,
    `OnEventRole AwsSolutions::AwsSolutions-IAM5[Resource::${logGroupArn}]`,
    `OnEventRole AwsSolutions::AwsSolutions-IAM5[Resource::${parameters}]`,
  ]);
  for (const ack of acks) {
    expect(ack.reason.length).toBeGreaterThan(40);
  }
});
