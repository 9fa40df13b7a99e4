import { App, CfnElement, Duration, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { CancelPipelineDeployment, CancelPipelineDeploymentProvider } from '../lib';

const RESOURCE_TYPE = 'Custom::ProtonCancelPipelineDeployment';

function newStack(): Stack {
  return new Stack(new App(), 'TestStack', { env: { account: '123456789012', region: 'us-east-1' } });
}

function serviceArn(name: string) {
  return { 'Fn::Sub': `arn:\${AWS::Partition}:proton:us-east-1:123456789012:service/${name}` };
}

/** The statement of the handler role's inline policy that allows Proton calls. */
function protonStatement(template: Template) {
  const policies = Object.values(template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp('HandlerRole') }], PolicyDocument: { Statement: [Match.objectLike({ Action: Match.arrayWith(['proton:GetService']) })] } },
  }));
  expect(policies).toHaveLength(1);
  return policies[0].Properties.PolicyDocument.Statement[0];
}

describe('CancelPipelineDeployment', () => {
  test('renders the service name, and leaves out options at their defaults', () => {
    // GIVEN
    const stack = newStack();

    // WHEN
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'my-service', waitForFinalStatus: true, failUnlessCancelled: false });

    // THEN
    const resources = Template.fromStack(stack).findResources(RESOURCE_TYPE);
    expect(Object.values(resources)[0].Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [expect.stringMatching(/^CancelPipelineDeploymentProviderOnEvent/), 'Arn'] },
      ServiceTimeout: '2115',
      ServiceName: 'my-service',
    });
  });

  test('renders every option', () => {
    const stack = newStack();

    new CancelPipelineDeployment(stack, 'Cancel', {
      serviceName: 'my-service',
      waitForFinalStatus: false,
      timeout: Duration.minutes(10),
      failIfNothingToCancel: true,
      failUnlessCancelled: true,
      trigger: 'release-42',
    });

    Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, {
      WaitForFinalStatus: 'false',
      TimeoutSeconds: '600',
      FailIfNothingToCancel: 'true',
      FailUnlessCancelled: 'true',
      Trigger: 'release-42',
    });
  });

  test('sets ServiceTimeout to the timeout plus one poll interval plus five minutes', () => {
    const stack = newStack();

    new CancelPipelineDeployment(stack, 'Default', { serviceName: 'a' });
    new CancelPipelineDeployment(stack, 'Longest', { serviceName: 'b', timeout: Duration.minutes(50) });

    const template = Template.fromStack(stack);
    template.hasResourceProperties(RESOURCE_TYPE, { ServiceName: 'a', ServiceTimeout: String(30 * 60 + 15 + 5 * 60) });
    // The longest timeout with the longest poll interval still fits CloudFormation's 3,600 seconds.
    const slow = newStack();
    const provider = new CancelPipelineDeploymentProvider(slow, 'Provider', { pollInterval: Duration.minutes(5) });
    new CancelPipelineDeployment(slow, 'Longest', { serviceName: 'b', timeout: Duration.minutes(50), provider });
    Template.fromStack(slow).hasResourceProperties(RESOURCE_TYPE, { ServiceTimeout: '3600' });
  });

  test('exposes each attribute as a GetAtt of the custom resource', () => {
    const stack = newStack();
    const cancel = new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'my-service' });

    const attributes = {
      deploymentStatus: 'DeploymentStatus',
      deploymentStatusMessage: 'DeploymentStatusMessage',
      pipelineArn: 'PipelineArn',
      templateName: 'TemplateName',
      templateMajorVersion: 'TemplateMajorVersion',
      templateMinorVersion: 'TemplateMinorVersion',
      lastDeploymentAttemptedAt: 'LastDeploymentAttemptedAt',
      lastDeploymentSucceededAt: 'LastDeploymentSucceededAt',
      cancellationRequested: 'CancellationRequested',
    };
    const logicalId = stack.getLogicalId(cancel.node.defaultChild as CfnElement);
    for (const [property, attribute] of Object.entries(attributes)) {
      expect(stack.resolve(cancel[property as keyof typeof attributes])).toEqual({ 'Fn::GetAtt': [logicalId, attribute] });
    }
  });

  test('uses the construct id "Resource" for the custom resource', () => {
    const stack = newStack();
    const cancel = new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'my-service' });
    expect(cancel.node.defaultChild?.node.id).toBe('Resource');
  });

  test('accepts tokens without validating them', () => {
    const stack = newStack();
    expect(() => new CancelPipelineDeployment(stack, 'Cancel', {
      serviceName: Token.asString({ Ref: 'ServiceNameParameter' }),
    })).not.toThrow();
  });

  describe('provider', () => {
    test('the waiter steps, waits and answers as its definition says, state by state', () => {
      const stack = newStack();
      new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'my-service' });

      // WHEN the definition is read with the isComplete function's ARN as a placeholder
      const template = Template.fromStack(stack).toJSON();
      const [machine] = Object.values(template.Resources as Record<string, { Type: string; Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } } }>)
        .filter(resource => resource.Type === 'AWS::StepFunctions::StateMachine');
      const parts = machine.Properties.DefinitionString['Fn::Join'][1];
      const definition = JSON.parse(parts.map(part => typeof part === 'string' ? part : 'ISCOMPLETE').join(''));
      const isCompleteId = Object.keys(template.Resources).find(id => id.startsWith('CancelPipelineDeploymentProviderIsComplete'));
      expect(parts.filter(part => typeof part !== 'string')).toEqual([{ 'Fn::GetAtt': [isCompleteId, 'Arn'] }, { 'Fn::GetAtt': [isCompleteId, 'Arn'] }]);

      // THEN
      const retry = [
        {
          ErrorEquals: ['Lambda.ClientExecutionTimeoutException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException'],
          IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2,
        },
        { ErrorEquals: ['Lambda.TooManyRequestsException'], IntervalSeconds: 1, MaxAttempts: 200, BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: 'FULL' },
      ];
      expect(definition).toEqual({
        StartAt: 'Step',
        States: {
          'Step': {
            Type: 'Task', Resource: 'ISCOMPLETE', Retry: retry,
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.Error', Next: 'Answer' }],
            Next: 'Decided?',
          },
          'Decided?': { Type: 'Choice', Choices: [{ Variable: '$.Answer', IsPresent: true, Next: 'Answer' }], Default: 'Wait' },
          'Wait': { Type: 'Wait', Seconds: 15, Next: 'Step' },
          'Answer': {
            Type: 'Task', Resource: 'ISCOMPLETE',
            Retry: [...retry, { ErrorEquals: ['AnswerNotSent'], IntervalSeconds: 10, BackoffRate: 2, MaxDelaySeconds: 120, MaxAttempts: 30 }],
            End: true,
          },
        },
        TimeoutSeconds: 3600,
      });
    });

    test('onEvent knows the waiter and may start it, before it can run; the waiter runs as Step Functions', () => {
      const stack = newStack();
      new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'my-service' });

      const template = Template.fromStack(stack);
      const [waiterId] = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'));
      const onEvent = Object.entries(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.onEvent' } }));
      expect(onEvent).toHaveLength(1);
      expect(onEvent[0][1].Properties.Environment.Variables).toEqual({
        RESPONSE_URL_PARAMETER_PREFIX: expect.anything(),
        WAITER_STATE_MACHINE_ARN: { Ref: waiterId },
      });
      const [policyId, policy] = Object.entries(template.findResources('AWS::IAM::Policy', {
        Properties: { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'states:StartExecution' })]) } },
      }))[0];
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual({ Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: waiterId } });
      expect(onEvent[0][1].DependsOn).toContain(policyId);
      const waiterRoleId = template.toJSON().Resources[waiterId].Properties.RoleArn['Fn::GetAtt'][0];
      expect(template.toJSON().Resources[waiterRoleId].Properties.AssumeRolePolicyDocument.Statement)
        .toEqual([{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' } }]);
    });

    test('the response URLs go under a Parameter Store prefix of this provider, which only its functions may touch', () => {
      const stack = newStack();
      new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'my-service' });
      const explicit = new CancelPipelineDeploymentProvider(stack, 'Explicit');
      new CancelPipelineDeployment(stack, 'Other', { serviceName: 'other', provider: explicit });

      const template = Template.fromStack(stack).toJSON();
      const prefixes = Object.values(template.Resources as Record<string, { Type: string; Properties: { Environment?: { Variables: Record<string, unknown> } } }>)
        .filter(r => r.Type === 'AWS::Lambda::Function').map(r => JSON.stringify(stack.resolve(r.Properties.Environment!.Variables.RESPONSE_URL_PARAMETER_PREFIX)));
      // Two per provider (OnEvent and IsComplete share it), and the two providers differ.
      expect(new Set(prefixes).size).toBe(2);
      expect(prefixes[0]).toMatch(/^\{"Fn::Join":\["",\["\/cdk-proton-cancel-pipeline-deployment\/",\{"Ref":"AWS::StackName"\},"\/[0-9a-f]{8}"\]\]\}$/);
      const ssm = Object.values(template.Resources as Record<string, { Type: string; Properties: { PolicyDocument?: { Statement: Array<{ Action: unknown; Resource: unknown }> } } }>)
        .filter(r => r.Type === 'AWS::IAM::Policy')
        .flatMap(r => r.Properties.PolicyDocument!.Statement)
        .filter(st => JSON.stringify(st.Action).includes('ssm:'));
      expect(ssm.map(st => [...st.Action as string[]].sort()).sort()).toEqual([
        ['ssm:DeleteParameter', 'ssm:GetParameter'], ['ssm:DeleteParameter', 'ssm:GetParameter'],
        ['ssm:DeleteParameter', 'ssm:PutParameter'], ['ssm:DeleteParameter', 'ssm:PutParameter'],
      ].map(a => a.sort()).sort());
      for (const statement of ssm) {
        expect(JSON.stringify(statement.Resource)).toMatch(/:parameter\/cdk-proton-cancel-pipeline-deployment\/",\{"Ref":"AWS::StackName"\},"\/[0-9a-f]{8}\/\*"\]\]\}$/);
      }
    });

    test('one provider serves every instance in a stack', () => {
      // GIVEN
      const stack = newStack();

      // WHEN
      for (let i = 0; i < 5; i++) {
        new CancelPipelineDeployment(stack, `Cancel${i}`, { serviceName: `service-${i}` });
      }

      // THEN
      const template = Template.fromStack(stack);
      template.resourceCountIs(RESOURCE_TYPE, 5);
      template.resourceCountIs('AWS::Lambda::Function', 2); // onEvent and isComplete
      template.resourceCountIs('AWS::IAM::Role', 3); // one per function, and the waiter's
      template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
      template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
      template.resourceCountIs('AWS::Logs::LogGroup', 1);
    });

    test('adding instances adds custom resources only', () => {
      const count = (n: number) => {
        const stack = newStack();
        for (let i = 0; i < n; i++) {
          new CancelPipelineDeployment(stack, `Cancel${i}`, { serviceName: `service-${i}` });
        }
        return Object.keys(Template.fromStack(stack).toJSON().Resources).length;
      };
      expect(count(20) - count(1)).toBe(19);
    });

    test('runs the handler on Node.js 24, arm64, with logs kept one year', () => {
      const stack = newStack();
      new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'my-service' });

      const template = Template.fromStack(stack);
      for (const handler of ['index.onEvent', 'index.isComplete']) {
        template.hasResourceProperties('AWS::Lambda::Function', {
          Handler: handler,
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Timeout: 360,
          LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: Match.stringLikeRegexp('LogGroup') } },
        });
      }
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    });

    test('the waiter waits the poll interval between polls, and no execution outlasts CloudFormation\'s hour', () => {
      const stack = newStack();
      const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', { pollInterval: Duration.seconds(20) });
      new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'my-service', provider });

      const definition = JSON.stringify(Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'));
      expect(definition).toContain('\\"Type\\":\\"Wait\\",\\"Seconds\\":20');
      expect(definition).toContain('\\"TimeoutSeconds\\":3600');
    });

    test('an explicit provider is used instead of the default one', () => {
      const stack = newStack();
      const logGroup = new logs.LogGroup(stack, 'Logs', { retention: logs.RetentionDays.ONE_WEEK });
      const provider = new CancelPipelineDeploymentProvider(stack, 'MyProvider', { logGroup });

      new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'my-service', provider });

      expect(stack.node.tryFindChild(CancelPipelineDeploymentProvider.DEFAULT_ID)).toBeUndefined();
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::Logs::LogGroup', 1);
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    });

    test('puts every function in the VPC when one is given', () => {
      const stack = newStack();
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
      const provider = new CancelPipelineDeploymentProvider(stack, 'MyProvider', { vpc });

      new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'my-service', provider });

      const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
      expect(Object.keys(functions)).toHaveLength(2);
      for (const fn of Object.values(functions)) {
        expect(fn.Properties.VpcConfig.SubnetIds.length).toBeGreaterThan(0);
      }
    });

    test('takes the log retention from the props', () => {
      const stack = newStack();
      const provider = new CancelPipelineDeploymentProvider(stack, 'MyProvider', { logRetention: logs.RetentionDays.THREE_MONTHS });
      new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'my-service', provider });
      Template.fromStack(stack).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    });
  });

  describe('IAM', () => {
    test('allows the cancel and the read on each service ARN, and nothing wider', () => {
      // GIVEN
      const stack = newStack();

      // WHEN
      new CancelPipelineDeployment(stack, 'A', { serviceName: 'service-a' });
      new CancelPipelineDeployment(stack, 'B', { serviceName: 'service-b' });

      // THEN
      const template = Template.fromStack(stack);
      expect(protonStatement(template)).toEqual({
        Effect: 'Allow',
        Action: ['proton:CancelServicePipelineDeployment', 'proton:GetService'],
        Resource: [serviceArn('service-a'), serviceArn('service-b')],
      });
      const protonActions = JSON.stringify(template.toJSON()).match(/"proton:[A-Za-z*]+"/g);
      expect(new Set(protonActions)).toEqual(new Set(['"proton:CancelServicePipelineDeployment"', '"proton:GetService"']));
    });

    test('uses the partition of the stack, not a literal "aws"', () => {
      const stack = new Stack(new App(), 'GovStack', { env: { account: '123456789012', region: 'us-gov-west-1' } });
      new CancelPipelineDeployment(stack, 'A', { serviceName: 'service-a' });
      const policy = JSON.stringify(protonStatement(Template.fromStack(stack)));
      expect(policy).not.toContain('arn:aws:proton');
      expect(policy).toMatch(/arn:aws-us-gov:proton|AWS::Partition/);
    });

    test('allows DescribeStacks on its own stack only, to recognize a rollback', () => {
      const stack = newStack();
      new CancelPipelineDeployment(stack, 'A', { serviceName: 'service-a' });
      Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([{ Effect: 'Allow', Action: 'cloudformation:DescribeStacks', Resource: { Ref: 'AWS::StackId' } }]),
        },
        Roles: [{ Ref: Match.stringLikeRegexp('HandlerRole') }],
      });
    });

    test('fails when a second instance names the same service, naming both and the service', () => {
      const stack = newStack();
      new CancelPipelineDeployment(stack, 'A', { serviceName: 'service-a' });
      expect(() => new CancelPipelineDeployment(stack, 'Again', { serviceName: 'service-a', trigger: '2' }))
        .toThrow("serviceName 'service-a' is given to both 'TestStack/A' and 'TestStack/Again' in stack 'TestStack', which would cancel the same pipeline twice: "
          + 'keep one instance per service, and change its trigger to cancel again.');
      expect(protonStatement(Template.fromStack(stack)).Resource).toEqual(serviceArn('service-a'));
    });

    test('packs 400 service ARNs into the inline policy and as few managed policies as IAM limits allow', () => {
      // GIVEN
      const stack = newStack();

      // WHEN
      for (let i = 0; i < 400; i++) {
        new CancelPipelineDeployment(stack, `Cancel${i}`, { serviceName: `payments-api-${String(i).padStart(3, '0')}` });
      }

      // THEN: sizes as IAM counts them, with the longest partition
      const template = Template.fromStack(stack);
      const iamChars = (document: unknown) => JSON.stringify(stack.resolve(document))
        .replace(/\{"Fn::Sub":"([^"]+)"\}/g, '"$1"').replace(/\$\{AWS::Partition\}/g, 'aws-us-gov').length;
      const inline = iamChars(protonStatement(template));
      expect(inline).toBeLessThanOrEqual(10_240 - 2_000);
      const managed = Object.values(template.findResources('AWS::IAM::ManagedPolicy'));
      expect(managed.length).toBeLessThanOrEqual(5);
      for (const policy of managed) {
        expect(iamChars(policy.Properties.PolicyDocument)).toBeLessThanOrEqual(6_144);
      }
      const arns = JSON.stringify(template.toJSON()).match(/:service\/payments-api-\d+/g) ?? [];
      expect(new Set(arns).size).toBe(400);
      expect(arns).toHaveLength(400);
    });

    test('a resource whose service is in a managed policy waits for that policy', () => {
      const stack = newStack();
      const cancels = Array.from({ length: 150 }, (_, i) =>
        new CancelPipelineDeployment(stack, `Cancel${i}`, { serviceName: `payments-api-${String(i).padStart(3, '0')}` }));

      const template = Template.fromStack(stack).toJSON();
      const resourceOf = (cancel: CancelPipelineDeployment) => template.Resources[stack.getLogicalId(cancel.node.defaultChild as CfnElement)];
      const last = resourceOf(cancels[149]);
      expect(last.DependsOn).toEqual([expect.stringMatching(/ServicePoliciesPolicy1/)]);
      expect(template.Resources[last.DependsOn[0]].Properties.PolicyDocument.Statement[0].Resource)
        .toContainEqual(serviceArn('payments-api-149'));
      // The inline policy is ordered already: the handler functions depend on it.
      expect(resourceOf(cancels[0]).DependsOn).toBeUndefined();
      const onEvent = Object.values(template.Resources as Record<string, { Properties: { Handler?: string }; DependsOn?: string[] }>)
        .find(resource => resource.Properties.Handler === 'index.onEvent')!;
      expect(onEvent.DependsOn).toContainEqual(expect.stringMatching(/ServicePoliciesInline/));
    });

    test('fails when the services need more managed policies than IAM attaches to one role', () => {
      const stack = newStack();
      for (let i = 0; i < 500; i++) {
        new CancelPipelineDeployment(stack, `Cancel${i}`, { serviceName: `a-very-long-service-name-for-the-payments-team-${String(i).padStart(50, '0')}` });
      }
      expect(() => Template.fromStack(stack)).toThrow(/The 500 Proton services of this provider need 12 managed policies, more than the 10 IAM still attaches to its role by default, and stack 'TestStack' cannot hold a second provider besides its 523 resources \(CloudFormation allows 500\): split the services across stacks\./);
    });
  });

  describe('validation', () => {
    test.each([
      ['is empty', ''],
      ['is longer than 100 characters', 'a'.repeat(101)],
      ['starts with a hyphen', '-service'],
      ['contains a space', 'my service'],
      ['contains a dot', 'my.service'],
    ])('fails when serviceName %s', (_, serviceName) => {
      const stack = newStack();
      expect(() => new CancelPipelineDeployment(stack, 'Cancel', { serviceName }))
        .toThrow(`serviceName must be 1 to 100 characters matching /^[0-9A-Za-z]+[0-9A-Za-z_\\-]*$/ (letters and digits, then also '-' and '_'), got '${serviceName}'`);
    });

    test('accepts a 100-character service name with hyphens and underscores', () => {
      const stack = newStack();
      expect(() => new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'A1-_'.repeat(25) })).not.toThrow();
    });

    test.each([
      ['is shorter than 1 minute', Duration.seconds(59), 'Duration.seconds(59) (59 seconds)'],
      ['is longer than 50 minutes', Duration.seconds(3001), 'Duration.seconds(3001) (3001 seconds)'],
      ['is not a whole number of seconds', Duration.millis(90_500), 'Duration.millis(90500) (90.5 seconds)'],
      ['is a fraction of a minute CDK cannot render in seconds', Duration.minutes(1.01), 'Duration.minutes(1.01) (60.6 seconds)'],
    ])('fails when timeout %s', (_, timeout, shown) => {
      const stack = newStack();
      expect(() => new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', timeout }))
        .toThrow(`timeout must be a whole number of seconds from 1 to 50 minutes (60 to 3,000 seconds), got ${shown}.`);
    });

    test.each([60, 3000])('accepts a timeout of %d seconds, the ends of the range', seconds => {
      const stack = newStack();
      new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', timeout: Duration.seconds(seconds) });
      Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, { TimeoutSeconds: String(seconds) });
    });

    test.each([
      ['is shorter than 5 seconds', Duration.seconds(4), 'Duration.seconds(4) (4 seconds)'],
      ['is longer than 5 minutes', Duration.seconds(301), 'Duration.seconds(301) (301 seconds)'],
      ['is not a whole number of seconds', Duration.millis(7_500), 'Duration.millis(7500) (7.5 seconds)'],
    ])('fails when pollInterval %s', (_, pollInterval, shown) => {
      const stack = newStack();
      expect(() => new CancelPipelineDeploymentProvider(stack, 'Provider', { pollInterval }))
        .toThrow(`pollInterval must be a whole number of seconds from 5 seconds to 5 minutes, got ${shown}.`);
    });

    test('fails when the provider is in another stack', () => {
      const app = new App();
      const providerStack = new Stack(app, 'ProviderStack');
      const stack = new Stack(app, 'Other');
      const provider = new CancelPipelineDeploymentProvider(providerStack, 'Provider');
      expect(() => new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 's', provider }))
        .toThrow("provider must be in the same stack as the CancelPipelineDeployment 'Other/Cancel', got one in stack 'ProviderStack'.");
    });
  });
});

describe('maxConcurrentInstances', () => {
  /** The logical ids of the custom resources each instance's resource depends on, in order. */
  function instanceDependencies(maxConcurrentInstances: number | undefined, instances: number): string[][] {
    const stack = newStack();
    const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', { maxConcurrentInstances });
    for (let i = 0; i < instances; i++) {
      new CancelPipelineDeployment(stack, `Cancel${i}`, { serviceName: `service-${i}`, provider });
    }
    const resources = Template.fromStack(stack).findResources(RESOURCE_TYPE);
    return Array.from({ length: instances }, (_, i) => {
      const instanceOf = (logicalId: string) => /^(Cancel\d+)[0-9A-F]{8}$/.exec(logicalId)?.[1];
      const [, resource] = Object.entries(resources).find(([id]) => instanceOf(id) === `Cancel${i}`)!;
      const dependsOn: string[] = resource.DependsOn ?? [];
      return dependsOn.map(instanceOf).filter((id) => id !== undefined);
    });
  }

  test('chains each instance after the one maxConcurrentInstances places before it', () => {
    expect(instanceDependencies(2, 5)).toEqual([[], [], ['Cancel0'], ['Cancel1'], ['Cancel2']]);
    expect(instanceDependencies(1, 3)).toEqual([[], ['Cancel0'], ['Cancel1']]);
  });

  test('starts every instance at once by default, or when the limit is above the count', () => {
    expect(instanceDependencies(undefined, 4)).toEqual([[], [], [], []]);
    expect(instanceDependencies(4, 4)).toEqual([[], [], [], []]);
  });

  // Named by a label: a token's number changes from run to run, and the mutation run finds tests by name.
  test.each([
    ['0', 0, /maxConcurrentInstances must be a whole number from 1, or left out, got number 0\./],
    ['2.5', 2.5, /maxConcurrentInstances must be a whole number from 1, or left out, got number 2\.5\./],
    ['the string \'3\'', '3', /maxConcurrentInstances must be a whole number from 1, or left out, got string '3'\./],
    ['a token', Token.asNumber({ Ref: 'Lanes' }), /^maxConcurrentInstances must be a fixed number, not a token: the dependencies between instances are drawn at synth time, got <token>\.$/],
  ])('fails when maxConcurrentInstances is %s', (_label, value, message) => {
    expect(() => new CancelPipelineDeploymentProvider(newStack(), 'Provider', { maxConcurrentInstances: value as number })).toThrow(message);
  });
});
