/**
 * Every documented input of both constructs: poll intervals and timeouts
 * across their ranges, tokens, callers without a compiler, warnings and the
 * limits of one stack. Each value either synthesizes or fails with one
 * sentence naming the option.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, CfnParameter, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CancelPipelineDeployment, CancelPipelineDeploymentProps, CancelPipelineDeploymentProvider, CancelPipelineDeploymentProviderProps } from '../lib';
import { editDistance, nearestOption } from '../lib/prop-checks';

const RESOURCE_TYPE = 'Custom::ProtonCancelPipelineDeployment';

function newStack(context?: Record<string, string>): Stack {
  return new Stack(new App({ context }), 'TestStack', { env: { account: '123456789012', region: 'us-east-1' } });
}

/** The waiter's wait between two polls, as the state machine definition holds it. */
function waiterWaitSeconds(template: Template): number {
  const definition = JSON.stringify(template.findResources('AWS::StepFunctions::StateMachine'));
  return Number(definition.match(/\\"Type\\":\\"Wait\\",\\"Seconds\\":(\d+)/)![1]);
}

/** Something that behaves as a `Duration` without being one: another copy of aws-cdk-lib. */
class ForeignDuration {
  constructor(private readonly seconds: number) {}
  public toSeconds() { return this.seconds; }
  public toMilliseconds() { return this.seconds * 1000; }
  public toHumanString() { return `${this.seconds} seconds`; }
  public isUnresolved() { return false; }
  public toString() { return `Duration.seconds(${this.seconds})`; }
}

describe('poll interval', () => {
  test.each([7, 45, 90, 180, 240, 299])('%d seconds synthesizes, and the waiter waits that long between polls', seconds => {
    // GIVEN
    const stack = newStack();
    const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', { pollInterval: Duration.seconds(seconds) });

    // WHEN
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', provider });

    // THEN
    const template = Template.fromStack(stack);
    expect(waiterWaitSeconds(template)).toBe(seconds);
    template.hasResourceProperties(RESOURCE_TYPE, { ServiceTimeout: String(1800 + seconds + 300) });
  });

  test('3 minutes, as a whole number of minutes, synthesizes', () => {
    const stack = newStack();
    const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', { pollInterval: Duration.minutes(3) });
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', provider, timeout: Duration.minutes(7) });
    const template = Template.fromStack(stack);
    expect(waiterWaitSeconds(template)).toBe(180);
    template.hasResourceProperties(RESOURCE_TYPE, { TimeoutSeconds: '420', ServiceTimeout: String(420 + 180 + 300) });
  });

  test('the provider exposes the poll interval it uses', () => {
    const provider = new CancelPipelineDeploymentProvider(newStack(), 'Provider', { pollInterval: Duration.minutes(2) });
    expect(provider.pollInterval.toSeconds()).toBe(120);
    expect(new CancelPipelineDeploymentProvider(newStack(), 'Default').pollInterval.toSeconds()).toBe(15);
  });
});

describe('tokens', () => {
  test('fails when pollInterval is a token, naming it', () => {
    const stack = newStack();
    const seconds = new CfnParameter(stack, 'PollSeconds', { type: 'Number' }).valueAsNumber;
    expect(() => new CancelPipelineDeploymentProvider(stack, 'Provider', { pollInterval: Duration.seconds(seconds) }))
      .toThrow("pollInterval must be a fixed duration, not a token: the waiter's wait between reads and every instance's ServiceTimeout are computed from it at synth time, got <token> seconds.");
  });

  test('a token timeout is passed to the handler, and ServiceTimeout is the hour that covers any valid one', () => {
    // GIVEN
    const stack = newStack();
    const seconds = new CfnParameter(stack, 'TimeoutSeconds', { type: 'Number' }).valueAsNumber;

    // WHEN
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', timeout: Duration.seconds(seconds) });

    // THEN
    Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, { TimeoutSeconds: { Ref: 'TimeoutSeconds' }, ServiceTimeout: '3600' });
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

  test('fails when a token timeout is not in seconds, which CloudFormation could not convert', () => {
    const stack = newStack();
    const minutes = new CfnParameter(stack, 'TimeoutMinutes', { type: 'Number' }).valueAsNumber;
    expect(() => new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', timeout: Duration.minutes(minutes) }))
      .toThrow('timeout from a token must be given in seconds, as Duration.seconds(token), since CloudFormation cannot convert units, got <token> minutes.');
  });

  test('a token serviceName names the service in the ARN the handler may act on', () => {
    // GIVEN
    const stack = newStack();
    const names = [new CfnParameter(stack, 'NameA'), new CfnParameter(stack, 'NameB')].map(parameter => parameter.valueAsString);

    // WHEN
    new CancelPipelineDeployment(stack, 'A', { serviceName: names[0] });
    new CancelPipelineDeployment(stack, 'B', { serviceName: names[1], trigger: names[0] });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties(RESOURCE_TYPE, { ServiceName: { Ref: 'NameB' }, Trigger: { Ref: 'NameA' } });
    const arn = (parameter: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':proton:us-east-1:123456789012:service/', { Ref: parameter }]] });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: Match.arrayWith(['proton:GetService']), Resource: [arn('NameA'), arn('NameB')] })] },
    });
  });
});

describe('callers without a compiler', () => {
  // What plain JavaScript can pass: the types say otherwise.
  const construct = (props: unknown) => () => new CancelPipelineDeployment(newStack(), 'Cancel', props as CancelPipelineDeploymentProps);
  const provider = (props: unknown) => () => new CancelPipelineDeploymentProvider(newStack(), 'Provider', props as CancelPipelineDeploymentProviderProps);

  test.each([
    ['no props', undefined, 'The props of CancelPipelineDeployment must be an object with at least serviceName, got undefined.'],
    ['a string for props', 'my-service', "The props of CancelPipelineDeployment must be an object with at least serviceName, got string 'my-service'."],
    ['an array for props', [], 'The props of CancelPipelineDeployment must be an object with at least serviceName, got an array of 0.'],
    ['no serviceName', {}, 'serviceName must be a string, the name of the Proton service, got undefined.'],
    ['a null serviceName', { serviceName: null }, 'serviceName must be a string, the name of the Proton service, got null.'],
    ['a number for serviceName', { serviceName: 42 }, 'serviceName must be a string, the name of the Proton service, got number 42.'],
    ['a string for waitForFinalStatus', { serviceName: 's', waitForFinalStatus: 'false' }, "waitForFinalStatus must be true or false, or left out, got string 'false'."],
    ['a number for failIfNothingToCancel', { serviceName: 's', failIfNothingToCancel: 1 }, 'failIfNothingToCancel must be true or false, or left out, got number 1.'],
    ['a long string for failUnlessCancelled', { serviceName: 's', failUnlessCancelled: 'x'.repeat(61) },
      `failUnlessCancelled must be true or false, or left out, got string '${'x'.repeat(60)}…'.`],
    ['a number for timeout', { serviceName: 's', timeout: 1800 }, 'timeout must be a Duration (for example Duration.minutes(30)), or left out, got number 1800.'],
    ['a function for timeout', { serviceName: 's', timeout: () => 1800 }, 'timeout must be a Duration (for example Duration.minutes(30)), or left out, got a function.'],
    ['half a Duration for timeout', { serviceName: 's', timeout: { toSeconds: () => 1800 } }, 'timeout must be a Duration (for example Duration.minutes(30)), or left out, got an object.'],
    ['a boolean for trigger', { serviceName: 's', trigger: true }, 'trigger must be a string, or left out, got boolean true.'],
    ['an object for provider', { serviceName: 's', provider: {} }, 'provider must be a CancelPipelineDeploymentProvider, or left out, got an object.'],
    ['a log group for provider', { serviceName: 's', provider: new logs.LogGroup(newStack(), 'Logs') }, "provider must be a CancelPipelineDeploymentProvider, or left out, got the construct 'TestStack/Logs'."],
  ])('CancelPipelineDeployment fails on %s, naming the prop', (_, props, message) => {
    expect(construct(props)).toThrow(message);
  });

  test('no wrong type reaches the template: the error comes before any resource', () => {
    const stack = newStack();
    expect(() => new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 42 } as unknown as CancelPipelineDeploymentProps)).toThrow(TypeError);
    expect(stack.node.tryFindChild(CancelPipelineDeploymentProvider.DEFAULT_ID)).toBeUndefined();
  });

  test('null stands for a prop left out, as jsii passes it', () => {
    // GIVEN
    const stack = newStack();
    const nulls = { timeout: null, waitForFinalStatus: null, failIfNothingToCancel: null, failUnlessCancelled: null, trigger: null, provider: null };

    // WHEN
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', ...nulls } as unknown as CancelPipelineDeploymentProps);
    new CancelPipelineDeploymentProvider(stack, 'Provider', {
      pollInterval: null, logGroup: null, logRetention: null, logRemovalPolicy: null, vpc: null, vpcSubnets: null, securityGroups: null,
    } as unknown as CancelPipelineDeploymentProviderProps);

    // THEN: every option at its default
    const [resource] = Object.values(Template.fromStack(stack).findResources(RESOURCE_TYPE));
    expect(Object.keys(resource.Properties).sort()).toEqual(['ServiceName', 'ServiceTimeout', 'ServiceToken']);
    expect(resource.Properties.ServiceTimeout).toBe('2115');
  });

  test('a Duration from another copy of aws-cdk-lib is a Duration', () => {
    const stack = newStack();
    const pollInterval = new ForeignDuration(20) as unknown as Duration;
    const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', { pollInterval });
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', provider, timeout: new ForeignDuration(600) as unknown as Duration });
    const template = Template.fromStack(stack);
    template.hasResourceProperties(RESOURCE_TYPE, { TimeoutSeconds: '600', ServiceTimeout: String(600 + 20 + 300) });
    expect(waiterWaitSeconds(template)).toBe(20);
  });

  test.each([
    ['null for props', null, 'The props of CancelPipelineDeploymentProvider must be an object, or left out, got null.'],
    ['a number for pollInterval', { pollInterval: 30 }, 'pollInterval must be a Duration (for example Duration.seconds(30)), or left out, got number 30.'],
    ['a name for logGroup', { logGroup: 'my-logs' }, "logGroup must be a logs.ILogGroup, or left out, got string 'my-logs'."],
    ['a number of days CloudWatch Logs does not offer', { logRetention: 31 }, 'logRetention must be a logs.RetentionDays value (for example logs.RetentionDays.ONE_MONTH), or left out, got number 31.'],
    ['the name of a retention', { logRetention: 'ONE_MONTH' }, "logRetention must be a logs.RetentionDays value (for example logs.RetentionDays.ONE_MONTH), or left out, got string 'ONE_MONTH'."],
    ['a snapshot of the log group', { logRemovalPolicy: RemovalPolicy.SNAPSHOT },
      "logRemovalPolicy must be RemovalPolicy.RETAIN, RemovalPolicy.DESTROY or RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE, or left out, got string 'snapshot'."],
    ['a VPC id for vpc', { vpc: 'vpc-123' }, "vpc must be an ec2.IVpc, or left out, got string 'vpc-123'."],
    ['subnet ids for vpcSubnets', { vpc: fakeVpc(), vpcSubnets: ['subnet-1'] }, 'vpcSubnets must be an ec2.SubnetSelection, or left out, got an array of 1.'],
    ['a string for vpcSubnets', { vpc: fakeVpc(), vpcSubnets: 'private' }, "vpcSubnets must be an ec2.SubnetSelection, or left out, got string 'private'."],
    ['one security group id', { vpc: fakeVpc(), securityGroups: 'sg-1' }, "securityGroups must be an array of ec2.ISecurityGroup, or left out, got string 'sg-1'."],
    ['security group ids', { vpc: fakeVpc(), securityGroups: [{ securityGroupId: 'sg-0' }, 'sg-1'] }, "securityGroups[1] must be an ec2.ISecurityGroup, got string 'sg-1'."],
    ['a null security group', { vpc: fakeVpc(), securityGroups: [null] }, 'securityGroups[0] must be an ec2.ISecurityGroup, got null.'],
    ['subnets without a VPC', { vpcSubnets: {} }, 'vpcSubnets and securityGroups apply only with vpc: set vpc, or leave them out.'],
    ['security groups without a VPC', { securityGroups: [] }, 'vpcSubnets and securityGroups apply only with vpc: set vpc, or leave them out.'],
  ])('CancelPipelineDeploymentProvider fails on %s, naming the prop', (_, props, message) => {
    expect(provider(props)).toThrow(message);
  });

  test('accepts every logs.RetentionDays value', () => {
    for (const days of [logs.RetentionDays.ONE_DAY, logs.RetentionDays.TEN_YEARS, logs.RetentionDays.INFINITE]) {
      expect(provider({ logRetention: days })).not.toThrow();
    }
  });
});

/** Just enough of an `ec2.IVpc` to pass the shape check; the prop under test fails first. */
function fakeVpc() {
  return { vpcId: 'vpc-1', selectSubnets: () => ({ subnetIds: [] }) };
}

describe('log group', () => {
  test('the new log group is retained when the provider is removed, unless logRemovalPolicy says otherwise', () => {
    const retained = newStack();
    new CancelPipelineDeploymentProvider(retained, 'Provider');
    Template.fromStack(retained).hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });

    const destroyed = newStack();
    new CancelPipelineDeploymentProvider(destroyed, 'Provider', { logRemovalPolicy: RemovalPolicy.DESTROY });
    Template.fromStack(destroyed).hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });
});

describe('warnings', () => {
  function warnings(pollInterval: Duration, timeout?: Duration) {
    const stack = newStack();
    const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', { pollInterval });
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', provider, timeout });
    return Annotations.fromStack(stack).findWarning('*', Match.anyValue());
  }

  test('a poll interval longer than the timeout warns, on the instance', () => {
    const found = warnings(Duration.minutes(5), Duration.minutes(1));
    expect(found).toHaveLength(1);
    expect(found[0].id).toBe('/TestStack/Cancel');
    expect(found[0].entry.data).toMatch(/^The provider's pollInterval \(5 minutes\) is longer than timeout \(1 minute\): the waiter reads the status one poll interval after the cancel/);
  });

  test.each([
    ['equal to the timeout', Duration.minutes(1), Duration.minutes(1)],
    ['shorter than the default timeout', Duration.minutes(5), undefined],
  ])('a poll interval %s gives no warning', (_, pollInterval, timeout) => {
    expect(warnings(pollInterval, timeout)).toEqual([]);
  });
});

describe('one instance per service in a stack', () => {
  test('fails when the same serviceName is given twice in one stack, naming both instances and saying to change trigger instead', () => {
    // GIVEN
    const stack = newStack();
    new CancelPipelineDeployment(new Construct(stack, 'TeamA'), 'Cancel', { serviceName: 'my-service' });

    // WHEN / THEN
    expect(() => new CancelPipelineDeployment(new Construct(stack, 'TeamB'), 'Cancel', { serviceName: 'my-service', trigger: 'again' }))
      .toThrow("serviceName 'my-service' is given to both 'TestStack/TeamA/Cancel' and 'TestStack/TeamB/Cancel' in stack 'TestStack', "
        + 'which would cancel the same pipeline twice: keep one instance per service, and change its trigger to cancel again.');
  });

  test('fails also when the two instances have different providers', () => {
    const stack = newStack();
    new CancelPipelineDeployment(stack, 'A', { serviceName: 'my-service' });
    const provider = new CancelPipelineDeploymentProvider(stack, 'Provider');
    expect(() => new CancelPipelineDeployment(stack, 'B', { serviceName: 'my-service', provider })).toThrow(/^serviceName 'my-service' is given to both 'TestStack\/A' and 'TestStack\/B'/);
  });

  test('the same service in two stacks is allowed: each stack has its own provider and role', () => {
    const app = new App();
    const stacks = ['StackA', 'StackB'].map(id => new Stack(app, id));
    stacks.forEach(stack => new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'my-service' }));
    for (const stack of stacks) {
      Template.fromStack(stack).resourceCountIs(RESOURCE_TYPE, 1);
    }
  });
});

describe('options that have no effect', () => {
  const warningsOf = (stack: Stack) => Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map(w => ({ path: w.id, message: w.entry.data }));

  test('warns when a provider is given to no instance, on the provider', () => {
    // GIVEN
    const stack = newStack();
    new CancelPipelineDeploymentProvider(stack, 'Provider', { pollInterval: Duration.seconds(30) });

    // WHEN: the instance uses the stack's own provider, not the one created
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's' });

    // THEN
    expect(warningsOf(stack)).toEqual([{
      path: '/TestStack/Provider',
      message: 'This CancelPipelineDeploymentProvider serves no CancelPipelineDeployment, so its functions, waiter and roles would deploy for nothing '
        + "(an instance without the provider prop uses the stack's own provider): pass it as the provider of the instances, or remove it. "
        + '[ack: cdk-proton-cancel-pipeline-deployment:unusedProvider]',
    }]);
  });

  test('a provider given to an instance, and the stack\'s own provider, give no warning', () => {
    const stack = newStack();
    const provider = new CancelPipelineDeploymentProvider(stack, 'Provider');
    new CancelPipelineDeployment(stack, 'A', { serviceName: 'a', provider });
    new CancelPipelineDeployment(stack, 'B', { serviceName: 'b' });
    expect(warningsOf(stack)).toEqual([]);
  });

  test('warns when timeout is given with waitForFinalStatus false, naming timeout and its value', () => {
    const stack = newStack();
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', waitForFinalStatus: false, timeout: Duration.minutes(10) });
    Annotations.fromStack(stack).hasWarning('/TestStack/Cancel',
      'timeout (10 minutes) has no effect with waitForFinalStatus false, since the resource completes once the cancel is sent: '
      + 'leave timeout out, or set waitForFinalStatus to true. [ack: cdk-proton-cancel-pipeline-deployment:timeoutWithoutWait]');
  });

  test('warns when failUnlessCancelled is set with waitForFinalStatus false: it then applies only to a deployment that finished first', () => {
    const stack = newStack();
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', waitForFinalStatus: false, failUnlessCancelled: true });
    Annotations.fromStack(stack).hasWarning('/TestStack/Cancel',
      'failUnlessCancelled (true) with waitForFinalStatus false fails only when the deployment finished before the cancel reached it, '
      + 'since the final status is not awaited and a deployment that ends FAILED or SUCCEEDED later is reported as CANCELLING: '
      + 'set waitForFinalStatus to true, or leave failUnlessCancelled out. [ack: cdk-proton-cancel-pipeline-deployment:failUnlessCancelledWithoutWait]');
  });

  test('without waitForFinalStatus false, or with the options at rest, nothing warns; a poll interval past the timeout does not warn without a wait', () => {
    const stack = newStack();
    const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', { pollInterval: Duration.minutes(5) });
    new CancelPipelineDeployment(stack, 'Waits', { serviceName: 'a', provider, waitForFinalStatus: true, timeout: Duration.minutes(10), failUnlessCancelled: true });
    new CancelPipelineDeployment(stack, 'NoWait', { serviceName: 'b', provider, waitForFinalStatus: false, failUnlessCancelled: false });
    new CancelPipelineDeployment(stack, 'Nulls', { serviceName: 'c', provider, waitForFinalStatus: false, timeout: null } as unknown as CancelPipelineDeploymentProps);
    expect(warningsOf(stack)).toEqual([]);
  });

  test.each([
    ['logRetention', { logRetention: logs.RetentionDays.ONE_MONTH },
      'logRetention (30 days) has no effect with logGroup, since the provider then creates no log group and writes to the one given: '
      + 'set the retention on that log group, and leave logRetention out. [ack: cdk-proton-cancel-pipeline-deployment:logRetentionWithLogGroup]'],
    ['an infinite logRetention', { logRetention: logs.RetentionDays.INFINITE },
      'logRetention (RetentionDays.INFINITE) has no effect with logGroup, since the provider then creates no log group and writes to the one given: '
      + 'set the retention on that log group, and leave logRetention out. [ack: cdk-proton-cancel-pipeline-deployment:logRetentionWithLogGroup]'],
    ['logRemovalPolicy', { logRemovalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE },
      'logRemovalPolicy (RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE) has no effect with logGroup, since the provider then creates no log group '
      + 'and writes to the one given: leave logRemovalPolicy out. [ack: cdk-proton-cancel-pipeline-deployment:logRemovalPolicyWithLogGroup]'],
  ])('warns when %s is given with logGroup, on the provider', (_, props, message) => {
    // GIVEN
    const stack = newStack();
    const logGroup = logs.LogGroup.fromLogGroupName(stack, 'Logs', 'platform-logs');

    // WHEN
    const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', { logGroup, ...props });
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', provider });

    // THEN
    expect(warningsOf(stack)).toEqual([{ path: '/TestStack/Provider', message }]);
    Template.fromStack(stack).resourceCountIs('AWS::Logs::LogGroup', 0);
  });

  test('the log group options without logGroup give no warning', () => {
    const stack = newStack();
    const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', { logRetention: logs.RetentionDays.ONE_MONTH, logRemovalPolicy: RemovalPolicy.DESTROY });
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', provider });
    expect(warningsOf(stack)).toEqual([]);
  });
});

describe('misspelt options from JavaScript', () => {
  const warningsOf = (stack: Stack) => Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map(w => w.entry.data);

  test('warns when an option of CancelPipelineDeployment is misspelt, naming the key and the nearest option', () => {
    // GIVEN
    const stack = newStack();

    // WHEN
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', timout: Duration.minutes(5), FailUnlessCancelled: true } as unknown as CancelPipelineDeploymentProps);

    // THEN: the misspelt options are ignored, and said to be
    expect(warningsOf(stack)).toEqual([
      "CancelPipelineDeployment has no option 'timout', so it is ignored: did you mean 'timeout'? [ack: cdk-proton-cancel-pipeline-deployment:unknownOption]",
      "CancelPipelineDeployment has no option 'FailUnlessCancelled', so it is ignored: did you mean 'failUnlessCancelled'? [ack: cdk-proton-cancel-pipeline-deployment:unknownOption]",
    ]);
    const [resource] = Object.values(Template.fromStack(stack).findResources(RESOURCE_TYPE));
    expect(resource.Properties.TimeoutSeconds).toBeUndefined();
  });

  test('warns when an option of CancelPipelineDeploymentProvider is misspelt, naming the key and the nearest option', () => {
    const stack = newStack();
    const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', { pollinterval: Duration.seconds(30), maxConcurentInstances: 5 } as unknown as CancelPipelineDeploymentProviderProps);
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', provider });
    expect(warningsOf(stack)).toEqual([
      "CancelPipelineDeploymentProvider has no option 'pollinterval', so it is ignored: did you mean 'pollInterval'? [ack: cdk-proton-cancel-pipeline-deployment:unknownOption]",
      "CancelPipelineDeploymentProvider has no option 'maxConcurentInstances', so it is ignored: did you mean 'maxConcurrentInstances'? [ack: cdk-proton-cancel-pipeline-deployment:unknownOption]",
    ]);
  });

  test('warns of a key near no option by listing the options', () => {
    const stack = newStack();
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', region: 'eu-west-1' } as unknown as CancelPipelineDeploymentProps);
    expect(warningsOf(stack)).toEqual([
      "CancelPipelineDeployment has no option 'region', so it is ignored: its options are serviceName, waitForFinalStatus, timeout, failIfNothingToCancel, "
      + 'failUnlessCancelled, trigger, provider. [ack: cdk-proton-cancel-pipeline-deployment:unknownOption]',
    ]);
  });

  test('fails when serviceName is misspelt, naming the key given instead', () => {
    expect(() => new CancelPipelineDeployment(newStack(), 'Cancel', { servicename: 'my-service' } as unknown as CancelPipelineDeploymentProps))
      .toThrow("serviceName must be a string, the name of the Proton service, got undefined: the props have 'servicename' instead, which is no option.");
  });
});

describe('VPC', () => {
  function vpcStack(securityGroupIds?: string[]) {
    const stack = newStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      privateSubnetIds: ['subnet-0123456789abcdef1', 'subnet-0123456789abcdef2'],
      isolatedSubnetIds: ['subnet-0123456789abcdef3', 'subnet-0123456789abcdef4'],
    });
    const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: securityGroupIds?.map((id, i) => ec2.SecurityGroup.fromSecurityGroupId(stack, `Sg${i}`, id)),
    });
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', provider });
    return Template.fromStack(stack);
  }
  const ec2Arn = (resource: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ec2:us-east-1:123456789012:${resource}`]] });

  test('the functions may create network interfaces only in their subnets, with their security groups, and no AWS managed policy', () => {
    // WHEN
    const template = vpcStack(['sg-0123456789abcdef0', 'sg-0123456789abcdef1']);

    // THEN
    const policies = Object.entries(template.findResources('AWS::IAM::ManagedPolicy'));
    expect(policies).toHaveLength(1);
    const [[policyId, policy]] = policies;
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'ec2:CreateNetworkInterface',
        Resource: [ec2Arn('network-interface/*'), ec2Arn('subnet/subnet-0123456789abcdef3'), ec2Arn('subnet/subnet-0123456789abcdef4'), ec2Arn('security-group/sg-0123456789abcdef0'), ec2Arn('security-group/sg-0123456789abcdef1')],
      },
      {
        Effect: 'Allow',
        Action: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        Resource: ec2Arn('network-interface/*'),
      },
      { Effect: 'Allow', Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], Resource: '*' },
    ]);
    // Each function's role holds it, so each function waits for it; the roles hold no other managed policy.
    const roles = Object.values(template.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] } } }));
    expect(roles).toHaveLength(2);
    for (const role of roles) {
      expect(role.Properties.ManagedPolicyArns).toEqual([{ Ref: policyId }]);
    }
    expect(JSON.stringify(template.toJSON())).not.toContain('AWSLambdaVPCAccessExecutionRole');
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.VpcConfig).toEqual({ SubnetIds: ['subnet-0123456789abcdef3', 'subnet-0123456789abcdef4'], SecurityGroupIds: ['sg-0123456789abcdef0', 'sg-0123456789abcdef1'] });
    }
  });

  test('without security groups given, the policy names the one Lambda constructs create for each function', () => {
    const template = vpcStack();

    const groups = Object.keys(template.findResources('AWS::EC2::SecurityGroup'));
    expect(groups).toHaveLength(2);
    const [policy] = Object.values(template.findResources('AWS::IAM::ManagedPolicy'));
    const create = policy.Properties.PolicyDocument.Statement[0].Resource;
    expect(create.slice(3)).toEqual(groups.map(group => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:us-east-1:123456789012:security-group/', { 'Fn::GetAtt': [group, 'GroupId'] }]],
    })));
  });

  test('the README names a VPC endpoint for every AWS service the functions call', () => {
    // GIVEN the AWS clients of the handler
    const lambdaDir = path.join(__dirname, '..', 'lambda');
    const handler = fs.readdirSync(lambdaDir).filter(file => file.endsWith('.ts')).map(file => fs.readFileSync(path.join(lambdaDir, file), 'utf8')).join('\n');
    const clients = (source: string) => [...new Set([...source.matchAll(/@aws-sdk\/client-([a-z-]+)/g)].map(match => match[1]))].sort();
    expect(clients(handler)).toEqual(['cloudformation', 'proton', 'sfn', 'ssm']);
    // and the response to CloudFormation, sent with https to a pre-signed S3 URL
    expect(handler).toMatch(/import \* as https from 'https'/);

    // WHEN
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('#### In a VPC'), readme.indexOf('### Attributes'));

    // THEN: one endpoint per client (Step Functions' is 'states'), and S3's
    const endpoints = [...section.matchAll(/`com\.amazonaws\.<region>\.([a-z0-9]+)`/g)].map(match => match[1]).sort();
    expect(endpoints).toEqual(['cloudformation', 'proton', 's3', 'ssm', 'states']);
  });

  test('a VPC leaves the functions one managed policy fewer for service ARNs', () => {
    // 9 managed policies of ARNs fit beside the network policy, 10 without it
    const names = (count: number) => Array.from({ length: count }, (_, i) => `${String(i).padStart(4, '0')}-${'x'.repeat(95)}`);
    const synth = (vpc: boolean, count: number) => () => {
      const stack = newStack();
      const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', {
        vpc: vpc ? ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-0123456789abcdef0'] }) : undefined,
      });
      // The policies only: what each instance would add to them, without its custom resource.
      names(count).forEach(serviceName => provider._allowService(serviceName));
      return Template.fromStack(stack);
    };
    // Each ARN counts 156 characters (the longest partition): 51 fit inline, 38 in each managed policy.
    const nineManagedPolicies = 51 + 9 * 38;
    expect(synth(true, nineManagedPolicies)).not.toThrow();
    expect(synth(true, nineManagedPolicies + 1)).toThrow(/need 10 managed policies, more than the 9 IAM still attaches to its role by default: create a second CancelPipelineDeploymentProvider/);
    const withoutVpc = synth(false, nineManagedPolicies + 1)();
    withoutVpc.resourceCountIs('AWS::IAM::ManagedPolicy', 10);
  });
});

describe('the boundaries of the synth checks', () => {
  const warningsOf = (stack: Stack) => Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map(w => w.entry.data as string);

  test('a poll interval longer than the timeout warns with the wait asked for, explicitly or by default, and not without it', () => {
    const warned = (waitForFinalStatus: boolean | undefined) => {
      const stack = newStack();
      const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', { pollInterval: Duration.minutes(2) });
      new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', provider, timeout: Duration.minutes(1), waitForFinalStatus });
      return warningsOf(stack).some(w => w.includes(':pollIntervalLongerThanTimeout]'));
    };

    expect([warned(undefined), warned(true), warned(false)]).toEqual([true, true, false]);
  });

  test('serviceName given beside a misspelling of it: the misspelling warns, nothing fails', () => {
    const stack = newStack();

    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', servicename: 't' } as unknown as CancelPipelineDeploymentProps);

    expect(warningsOf(stack)).toEqual([
      "CancelPipelineDeployment has no option 'servicename', so it is ignored: did you mean 'serviceName'? [ack: cdk-proton-cancel-pipeline-deployment:unknownOption]",
    ]);
  });
});

describe('the nearest option', () => {
  const OPTIONS = ['serviceName', 'waitForFinalStatus', 'timeout', 'failIfNothingToCancel', 'failUnlessCancelled', 'trigger', 'provider'];

  test.each([
    ['kitten', 'sitting', 3],
    ['abc', 'abd', 1],
    ['', 'abc', 3],
    ['flaw', 'lawn', 2],
  ])('edit distance from %s to %s is %d', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });

  test.each([
    ['tmout', 'timeout'], // 2 edits: at the limit for a short key
    ['waitFrFnlStatus', 'waitForFinalStatus'], // 3 edits: within a third of a 15-character key
    ['zzzzzzzz', undefined], // nothing near
    ['trgr', undefined], // 3 edits from 'trigger': past 2 for a 4-character key
  ])('%s: %s', (key, nearest) => {
    expect(nearestOption(key, OPTIONS)).toBe(nearest);
  });

  test('between options as near case aside, the one that matches the case wins, in either order', () => {
    expect(nearestOption('ab', ['AB', 'ab'])).toBe('ab');
    expect(nearestOption('ab', ['ab', 'AB'])).toBe('ab');
    expect(nearestOption('Ab', ['aB', 'AB', 'ab'])).toBe('AB');
  });
});

describe('every option spelt right gives no unknown-option warning', () => {
  test('a provider and an instance with every option', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', {
      pollInterval: Duration.seconds(30), maxConcurrentInstances: 2, logRetention: logs.RetentionDays.ONE_MONTH, logRemovalPolicy: RemovalPolicy.DESTROY,
      vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, securityGroups: [new ec2.SecurityGroup(stack, 'Group', { vpc })],
    });
    new CancelPipelineDeployment(stack, 'Cancel', {
      serviceName: 's', waitForFinalStatus: true, timeout: Duration.minutes(20), failIfNothingToCancel: true, failUnlessCancelled: true, trigger: 'v2', provider,
    });

    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('unknownOption'))).toEqual([]);
  });

  test.each([
    ['no serviceName and a key near none', { timout: 5 }],
    ['serviceName left undefined', { serviceName: undefined }],
  ])('fails with the plain sentence when %s', (_, props) => {
    expect(() => new CancelPipelineDeployment(newStack(), 'Cancel', props as unknown as CancelPipelineDeploymentProps))
      .toThrow(/^serviceName must be a string, the name of the Proton service, got undefined\.$/);
  });
});
