/**
 * The details of the template the other construct tests leave out: resource
 * descriptions, the ends of each range, where the stack's resource limit
 * falls, and how cdk-nag names a finding.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnParameter, CfnResource, CfnWaitConditionHandle, Duration, Fn, NestedStack, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { CancelPipelineDeployment, CancelPipelineDeploymentProps, CancelPipelineDeploymentProvider, CancelPipelineDeploymentProviderProps } from '../lib';
import { flattenForNag } from '../lib/nag-acknowledgements';

const RESOURCE_TYPE = 'Custom::ProtonCancelPipelineDeployment';

function newStack(context?: Record<string, string>): Stack {
  return new Stack(new App({ context }), 'TestStack', { env: { account: '123456789012', region: 'us-east-1' } });
}

/** Distinct 100-character service names: each ARN counts 156 characters. */
const longNames = (count: number) => Array.from({ length: count }, (_, i) => `${String(i).padStart(4, '0')}-${'x'.repeat(95)}`);

test('every function, role and policy says what it is for', () => {
  // GIVEN a provider in a VPC, with a service past the inline policy
  const stack = newStack();
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-0123456789abcdef0'] });
  const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', { vpc });

  // WHEN
  longNames(52).forEach(name => provider._allowService(name));

  // THEN
  const template = Template.fromStack(stack);
  for (const entry of ['onEvent', 'isComplete']) {
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: `index.${entry}`, Description: `AWS Proton pipeline deployment cancel: ${entry}` });
  }
  const roleDescriptions = Object.values(template.findResources('AWS::IAM::Role')).map(role => role.Properties.Description).filter(Boolean).sort();
  expect(roleDescriptions).toEqual([
    'Reads and cancels AWS Proton service pipeline deployments of the services named in this stack, and answers CloudFormation',
    'Receives CloudFormation\'s requests for the AWS Proton pipeline deployment cancels of this stack and starts their waiter',
    'Runs the waiter that takes each request of this stack\'s Proton pipeline deployment cancels to its answer',
  ]);
  // (and the 52nd service, past the inline policy, is alone in its managed policy)
  const [arnPolicy] = Object.values(template.findResources('AWS::IAM::ManagedPolicy', { Properties: { Roles: Match.anyValue() } }));
  expect(arnPolicy.Properties.PolicyDocument.Statement).toEqual([{
    Effect: 'Allow',
    Action: ['proton:CancelServicePipelineDeployment', 'proton:GetService'],
    Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:proton:us-east-1:123456789012:service/${longNames(52)[51]}` },
  }]);
  const policyDescriptions = Object.values(template.findResources('AWS::IAM::ManagedPolicy')).map(policy => policy.Properties.Description).sort();
  expect(policyDescriptions).toEqual([
    'Cancel and read the pipeline deployments of the Proton services named in this stack',
    'Lets the Lambda functions of the Proton cancel provider use network interfaces in their subnets',
  ]);
});

test.each([5, 300])('accepts a poll interval of %d seconds, the ends of the range', seconds => {
  const provider = new CancelPipelineDeploymentProvider(newStack(), 'Provider', { pollInterval: Duration.seconds(seconds) });
  expect(provider.pollInterval.toSeconds()).toBe(seconds);
});

test('an error shows a string value of up to 60 characters whole', () => {
  const props = { serviceName: 's', failUnlessCancelled: 'x'.repeat(60) } as unknown as CancelPipelineDeploymentProps;
  expect(() => new CancelPipelineDeployment(newStack(), 'Cancel', props))
    .toThrow(`failUnlessCancelled must be true or false, or left out, got string '${'x'.repeat(60)}'.`);
});

test('the log group can be kept on delete only', () => {
  const stack = newStack();
  new CancelPipelineDeploymentProvider(stack, 'Provider', { logRemovalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE });
  Template.fromStack(stack).hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'RetainExceptOnCreate' });
});

test('the warning for a poll interval longer than the timeout says what to do', () => {
  const stack = newStack();
  const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', { pollInterval: Duration.seconds(90) });
  new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', provider, timeout: Duration.seconds(60) });
  Annotations.fromStack(stack).hasWarning('/TestStack/Cancel', "The provider's pollInterval (1 minute 30 seconds) is longer than timeout (1 minute): "
    + 'the waiter reads the status one poll interval after the cancel and then once every poll interval, so the timeout takes effect only at that first read, '
    + 'one poll interval after the cancel. Shorten pollInterval or lengthen timeout. '
    + '[ack: cdk-proton-cancel-pipeline-deployment:pollIntervalLongerThanTimeout]');
});

test('fails when the very same token names the service of two instances, as the same name', () => {
  const stack = newStack();
  const name = new CfnParameter(stack, 'Name').valueAsString;
  new CancelPipelineDeployment(stack, 'A', { serviceName: name });
  expect(() => new CancelPipelineDeployment(stack, 'B', { serviceName: name, trigger: '2' }))
    .toThrow(`serviceName token ${name} is given to both 'TestStack/A' and 'TestStack/B' in stack 'TestStack', which would cancel the same pipeline twice: `
      + 'keep one instance per service, and change its trigger to cancel again.');
});

test('two different tokens are not compared: each names its service', () => {
  const stack = newStack();
  const [a, b] = ['NameA', 'NameB'].map(id => new CfnParameter(stack, id).valueAsString);
  new CancelPipelineDeployment(stack, 'A', { serviceName: a });
  new CancelPipelineDeployment(stack, 'B', { serviceName: b });
  const template = Template.fromStack(stack);
  template.resourceCountIs(RESOURCE_TYPE, 2);
  expect(JSON.stringify(template.toJSON()).match(/:service\/"/g)).toHaveLength(2);
});

describe('past IAM\'s managed policies per role, the advice depends on the room left in the stack', () => {
  /** A stack with the provider's policies for `count` services, and a nested stack whose resources are its own. */
  function synth(count: number, context?: Record<string, string>) {
    const stack = newStack(context);
    new CfnWaitConditionHandle(new NestedStack(stack, 'Nested'), 'Handle');
    const provider = new CancelPipelineDeploymentProvider(stack, 'Provider');
    longNames(count).forEach(name => provider._allowService(name));
    return () => Template.fromStack(stack);
  }
  // 51 ARNs inline and 38 in each of 10 managed policies; one more needs an 11th.
  const fits = 51 + 10 * 38;
  const resourcesWhenFitting = () => Object.keys(synth(fits)().toJSON().Resources).length;

  test('the stack has room for a second provider, with its own policies, up to the limit', () => {
    // The stack holds one policy more than when the services fit; a second provider would bring
    // what this one has (all but the nested stack) without its 11 managed policies.
    const resources = resourcesWhenFitting() + 1;
    const needed = resources + (resources - 1 - 11);
    expect(synth(fits + 1, { '@aws-cdk/core:stackResourceLimit': String(needed) }))
      .toThrow(/need 11 managed policies, more than the 10 IAM still attaches to its role by default: create a second CancelPipelineDeploymentProvider/);
    expect(synth(fits + 1, { '@aws-cdk/core:stackResourceLimit': String(needed - 1) }))
      .toThrow(`need 11 managed policies, more than the 10 IAM still attaches to its role by default, and stack 'TestStack' cannot hold a second provider besides its ${resources} resources (CloudFormation allows ${needed - 1}): split the services across stacks.`);
  });

  test('a stack resource limit of 0 means none, as for CDK', () => {
    expect(synth(fits + 1, { '@aws-cdk/core:stackResourceLimit': '0' })).toThrow(/create a second CancelPipelineDeploymentProvider/);
  });
});

describe('findings are named as cdk-nag names them', () => {
  const stack = new Stack(new App(), 'NagNames');
  const resource = new CfnResource(stack, 'Thing', { type: 'AWS::Logs::LogGroup' });
  const parameter = new CfnParameter(stack, 'Name');
  test.each([
    ['a string', 'arn:aws:logs:us-east-1:123456789012:log-group:x:*'],
    ['a Fn::Sub', Fn.sub('arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:x:*')],
    ['a Fn::Join of references', `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:${parameter.valueAsString}:*`],
    ['a Fn::GetAtt', resource.getAtt('Arn').toString()],
    ['a Ref', parameter.valueAsString],
    ['another intrinsic', Fn.select(0, Fn.split(',', parameter.valueAsString))],
  ])('%s', (_, value) => {
    expect(flattenForNag(stack, value)).toBe(flattenCfnReference(stack.resolve(value)));
  });
});

test('a timeout with a fraction of a millisecond shows it in the error', () => {
  expect(() => new CancelPipelineDeployment(newStack(), 'Cancel', { serviceName: 's', timeout: Duration.seconds(60.0005) }))
    .toThrow('timeout must be a whole number of seconds from 1 to 50 minutes (60 to 3,000 seconds), got Duration.seconds(60.0005) (60.0005 seconds).');
});

test('an object with only some of a log group\'s members is not a log group', () => {
  const props = { logGroup: { logGroupName: 'platform-logs' } } as unknown as CancelPipelineDeploymentProviderProps;
  expect(() => new CancelPipelineDeploymentProvider(newStack(), 'Provider', props))
    .toThrow('logGroup must be a logs.ILogGroup, or left out, got an object.');
});

test('the handler functions run the bundled handler, index.js at the root of their code', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'handler-asset-'));
  try {
    const app = new App({ outdir });
    const provider = new CancelPipelineDeploymentProvider(new Stack(app, 'AssetStack'), 'Provider');
    const assembly = app.synth();
    for (const fn of [provider.node.findChild('OnEvent'), provider.node.findChild('IsComplete')]) {
      const code = fn.node.findChild('Code') as s3assets.Asset;
      expect(fs.readFileSync(path.join(assembly.directory, code.assetPath, 'index.js'), 'utf8')).toContain('CancelServicePipelineDeployment');
    }
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});

describe('service ARNs', () => {
  const arnsOf = (template: Template) => Object.values(template.findResources('AWS::IAM::Policy'))
    .flatMap(policy => policy.Properties.PolicyDocument.Statement)
    .filter(statement => JSON.stringify(statement.Action).includes('proton:GetService'))
    .flatMap(statement => [statement.Resource].flat());

  test('name the pseudo parameters of an environment-agnostic stack', () => {
    const stack = new Stack(new App(), 'Agnostic');
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'my-service' });
    expect(arnsOf(Template.fromStack(stack))).toEqual([{ 'Fn::Sub': 'arn:${AWS::Partition}:proton:${AWS::Region}:${AWS::AccountId}:service/my-service' }]);
  });

  test('are plain strings when the environment and the partition are known', () => {
    const app = new App({ context: { '@aws-cdk/core:enablePartitionLiterals': true } });
    const stack = new Stack(app, 'Known', { env: { account: '123456789012', region: 'eu-west-1' } });
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'my-service' });
    expect(arnsOf(Template.fromStack(stack))).toEqual(['arn:aws:proton:eu-west-1:123456789012:service/my-service']);
  });

  // The room IAM leaves the inline policy: 10,240 characters per role, less 2,000 kept for the
  // role's other two inline policies, less the policy without resources.
  const emptyPolicy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['proton:CancelServicePipelineDeployment', 'proton:GetService'], Resource: [] }] });
  const room = 10_240 - 2_000 - emptyPolicy.length;

  /**
   * Fills the inline policy with service names until `spare` characters are left, then adds one
   * more service; returns where each went. ARNs count with the longest partition ('aws-us-gov').
   */
  function fill(stack: Stack, spare: number, region: string) {
    const takes = (name: string) => `arn:aws-us-gov:proton:${region}:123456789012:service/`.length + name.length + ',""'.length;
    const names = longNames(Math.floor(room / takes(longNames(1)[0])) - 1);
    const left = room - names.reduce((sum, name) => sum + takes(name), 0) - spare;
    const last = `last-${'x'.repeat(left - takes('last-'))}`;
    expect(takes(last)).toBe(left);
    const provider = new CancelPipelineDeploymentProvider(stack, 'Provider');
    [...names, last, 'one-more'].forEach(name => provider._allowService(name));
    const template = Template.fromStack(stack);
    const [inline] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('ServicePoliciesInline') } }));
    const managed = Object.values(template.findResources('AWS::IAM::ManagedPolicy'));
    return { last, inline: JSON.stringify(inline), managed, takesOneMore: takes('one-more') };
  }

  test('fill the inline policy to the last character before a managed policy', () => {
    // WHEN the last name takes exactly the room left
    const { last, inline, managed } = fill(newStack(), 0, 'us-east-1');

    // THEN it is inline; the next one opens a managed policy attached to the handler role
    expect(inline).toContain(`:service/${last}"`);
    expect(managed).toHaveLength(1);
    expect(managed[0].Properties.PolicyDocument.Statement[0].Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:proton:us-east-1:123456789012:service/one-more' });
    expect(managed[0].Properties.Roles).toEqual([{ Ref: expect.stringMatching(/^ProviderHandlerRole/) }]);
  });

  test('an ARN one character too long for the room left goes to a managed policy', () => {
    const spare = fill(newStack(), 0, 'us-east-1').takesOneMore - 1;
    const { inline, managed } = fill(newStack(), spare, 'us-east-1');
    expect(inline).not.toContain(':service/one-more"');
    expect(JSON.stringify(managed)).toContain(':service/one-more"');
  });

  test('count the longest region when the stack\'s region is unknown', () => {
    const spare = fill(newStack(), 0, 'us-isof-south-1').takesOneMore - 1;
    const { inline, managed } = fill(new Stack(new App(), 'Agnostic', { env: { account: '123456789012' } }), spare, 'us-isof-south-1');
    expect(inline).not.toContain(':service/one-more"');
    expect(JSON.stringify(managed)).toContain(':service/one-more"');
  });
});
