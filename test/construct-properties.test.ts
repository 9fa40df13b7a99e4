/**
 * Properties over the documented option space (fast-check): every valid
 * combination synthesizes and keeps the template's invariants; every invalid
 * value fails with one sentence naming the option.
 */
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as fc from 'fast-check';
import { CancelPipelineDeployment, CancelPipelineDeploymentProps, CancelPipelineDeploymentProvider, CancelPipelineDeploymentProviderProps } from '../lib';

const RESOURCE_TYPE = 'Custom::ProtonCancelPipelineDeployment';

/** Runs per property; the mutation run asks for fewer (FC_NUM_RUNS), as it runs the tests once per mutant. */
const runs = (numRuns: number) => ({ numRuns: Math.min(numRuns, Number(process.env.FC_NUM_RUNS ?? numRuns)) });

/** IAM's limits, in characters without whitespace. */
const IAM = { inlineCharsPerRole: 10_240, managedPolicyChars: 6_144, managedPoliciesPerRole: 10 };

/** Proton's service names: letters and digits first, then also '-' and '_', at most 100. */
const serviceName = fc.stringMatching(/^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$/);

/** A whole number of seconds, written in seconds or, when it is whole, in minutes. */
function wholeSeconds(min: number, max: number) {
  return fc.tuple(fc.integer({ min, max }), fc.boolean())
    .map(([seconds, inMinutes]) => ({ seconds, duration: inMinutes && seconds % 60 === 0 ? Duration.minutes(seconds / 60) : Duration.seconds(seconds) }));
}

const flag = fc.option(fc.boolean(), { nil: undefined });

const instanceOptions = fc.record({
  serviceName,
  waitForFinalStatus: flag,
  timeout: fc.option(fc.oneof(wholeSeconds(60, 3000), fc.integer({ min: 1, max: 50 }).map(m => ({ seconds: m * 60, duration: Duration.minutes(m) }))), { nil: undefined }),
  failIfNothingToCancel: flag,
  failUnlessCancelled: flag,
  trigger: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
});

const providerOptions = fc.record({
  pollInterval: fc.option(wholeSeconds(5, 300), { nil: undefined }),
  vpc: fc.boolean(),
  importedLogGroup: fc.boolean(),
  logRetention: fc.option(fc.constantFrom(...Object.values(logs.RetentionDays).filter((v): v is logs.RetentionDays => typeof v === 'number')), { nil: undefined }),
  logRemovalPolicy: fc.option(fc.constantFrom(RemovalPolicy.RETAIN, RemovalPolicy.DESTROY, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE), { nil: undefined }),
});

/** A policy document's length as IAM counts it, with the longest value each reference can take. */
function iamChars(stack: Stack, document: unknown): number {
  const longest: Record<string, string> = {
    'AWS::Partition': 'aws-us-gov',
    'AWS::Region': 'us-isof-south-1',
    'AWS::AccountId': '123456789012',
    // arn:<partition>:cloudformation:<region>:<account>:stack/<128 characters>/<uuid>
    'AWS::StackId': `arn:aws-us-gov:cloudformation:us-isof-south-1:123456789012:stack/${'s'.repeat(128)}/${'u'.repeat(36)}`,
  };
  const resolve = (node: unknown): unknown => {
    if (Array.isArray(node)) {
      return node.map(resolve);
    }
    if (typeof node !== 'object' || node === null) {
      return node;
    }
    const intrinsic = node as Record<string, unknown>;
    if ('Ref' in intrinsic) {
      return longest[intrinsic.Ref as string] ?? 'r'.repeat(200);
    }
    if ('Fn::GetAtt' in intrinsic) {
      // A log group's ARN: its name is at most 512 characters.
      return `arn:aws-us-gov:logs:us-isof-south-1:123456789012:log-group:${'g'.repeat(512)}:*`;
    }
    if ('Fn::Sub' in intrinsic) {
      return (intrinsic['Fn::Sub'] as string).replace(/\$\{([^}]+)\}/g, (_, name) => longest[name]);
    }
    if ('Fn::Join' in intrinsic) {
      const [delimiter, parts] = intrinsic['Fn::Join'] as [string, unknown[]];
      return parts.map(resolve).join(delimiter);
    }
    return Object.fromEntries(Object.entries(intrinsic).map(([key, value]) => [key, resolve(value)]));
  };
  return JSON.stringify(resolve(stack.resolve(document))).length;
}

/** Checks every IAM policy of the template against IAM's size and count limits. */
function expectPoliciesWithinIamLimits(stack: Stack, template: Template): void {
  type Ref = { Ref: string };
  const resources = template.toJSON().Resources as Record<string, {
    Type: string;
    Properties: { Roles?: Ref[]; PolicyDocument?: unknown; ManagedPolicyArns?: unknown[] };
  }>;
  const inlineChars = new Map<string, number>();
  for (const policy of Object.values(resources).filter(r => r.Type === 'AWS::IAM::Policy')) {
    for (const role of policy.Properties.Roles ?? []) {
      inlineChars.set(role.Ref, (inlineChars.get(role.Ref) ?? 0) + iamChars(stack, policy.Properties.PolicyDocument));
    }
  }
  for (const chars of inlineChars.values()) {
    expect(chars).toBeLessThanOrEqual(IAM.inlineCharsPerRole);
  }
  for (const policy of Object.values(resources).filter(r => r.Type === 'AWS::IAM::ManagedPolicy')) {
    expect(iamChars(stack, policy.Properties.PolicyDocument)).toBeLessThanOrEqual(IAM.managedPolicyChars);
  }
  const managedPolicies = new Map<string, number>();
  for (const policy of Object.values(resources).filter(r => r.Type === 'AWS::IAM::ManagedPolicy')) {
    for (const role of policy.Properties.Roles ?? []) {
      managedPolicies.set(role.Ref, (managedPolicies.get(role.Ref) ?? 0) + 1);
    }
  }
  for (const [roleId, role] of Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Role')) {
    expect((managedPolicies.get(roleId) ?? 0) + (role.Properties.ManagedPolicyArns ?? []).length).toBeLessThanOrEqual(IAM.managedPoliciesPerRole);
  }
}

/** The waiter's wait between two polls, as the state machine definition holds it. */
function waiterWaitSeconds(template: Template): number {
  const definition = JSON.stringify(template.findResources('AWS::StepFunctions::StateMachine'));
  return Number(definition.match(/\\"Type\\":\\"Wait\\",\\"Seconds\\":(\d+)/)![1]);
}

test('any valid combination of options synthesizes, and the template keeps its invariants', () => {
  fc.assert(fc.property(providerOptions, fc.array(instanceOptions, { minLength: 1, maxLength: 4 }), (providerProps, instances) => {
    // GIVEN
    const stack = new Stack(new App(), 'PropertyStack', { env: { account: '123456789012', region: 'us-east-1' } });
    const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', {
      pollInterval: providerProps.pollInterval?.duration,
      vpc: providerProps.vpc ? ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-1'] }) : undefined,
      logGroup: providerProps.importedLogGroup ? logs.LogGroup.fromLogGroupName(stack, 'Logs', 'platform-logs') : undefined,
      logRetention: providerProps.logRetention,
      logRemovalPolicy: providerProps.logRemovalPolicy,
    });
    const poll = providerProps.pollInterval?.seconds ?? 15;

    // WHEN
    instances.forEach((options, i) => new CancelPipelineDeployment(stack, `Cancel${i}`, { ...options, timeout: options.timeout?.duration, provider }));
    const template = Template.fromStack(stack);

    // THEN: one custom resource per instance, each with a ServiceTimeout that covers its wait and one poll
    const resources = Object.values(template.findResources(RESOURCE_TYPE));
    expect(resources).toHaveLength(instances.length);
    resources.forEach((resource, i) => {
      const timeout = instances[i].timeout?.seconds ?? 1800;
      const serviceTimeout = Number(resource.Properties.ServiceTimeout);
      expect(serviceTimeout).toBeGreaterThanOrEqual(timeout + poll);
      expect(serviceTimeout).toBeLessThanOrEqual(3600);
      expect(resource.Properties.TimeoutSeconds).toBe(timeout === 1800 ? undefined : String(timeout));
      expect(resource.Properties.ServiceName).toBe(instances[i].serviceName);
    });
    // the waiter waits the poll interval between polls
    expect(waiterWaitSeconds(template)).toBe(poll);
    expectPoliciesWithinIamLimits(stack, template);
    // a warning exactly for the instances whose timeout is shorter than a poll
    const warned = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('pollInterval')).map(w => w.id);
    expect(warned).toEqual(instances.flatMap((options, i) => poll > (options.timeout?.seconds ?? 1800) ? [`/PropertyStack/Cancel${i}`] : []));
  }), runs(25));
});

test('any number of services fits the policies within IAM limits, or fails saying what to do', () => {
  const environment = fc.constantFrom(
    { account: '123456789012', region: 'us-east-1' },
    { account: '123456789012', region: 'us-gov-west-1' },
    undefined,
  );
  // Distinct names of one length: the longer and the more, the more policies.
  const serviceNames = fc.oneof(
    fc.tuple(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 4, max: 100 })),
    // around IAM's limit
    fc.tuple(fc.integer({ min: 350, max: 500 }), fc.integer({ min: 85, max: 100 })),
  ).map(([count, length]) => Array.from({ length: count }, (_, i) => `n${i}-`.padEnd(length, 'x')));
  fc.assert(fc.property(environment, serviceNames, fc.boolean(), (env, names, vpc) => {
    // GIVEN a provider, and what each instance adds to its policies
    const stack = new Stack(new App(), 'PackingStack', { env });
    const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', {
      vpc: vpc ? ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['az-1'], privateSubnetIds: ['subnet-1'] }) : undefined,
    });
    names.forEach(name => provider._allowService(name));

    // WHEN
    let template: Template;
    try {
      template = Template.fromStack(stack);
    } catch (error) {
      // THEN the policies really are past IAM's limit, and the message says what to do
      expect(String(error)).toMatch(/need \d+ managed policies, more than the (10|9) IAM still attaches to its role by default: create a second CancelPipelineDeploymentProvider/);
      const needed = Number(/need (\d+) managed policies/.exec(String(error))![1]);
      expect(needed).toBeGreaterThan(vpc ? 9 : 10);
      return;
    }

    // THEN every ARN is in a policy, once, and every policy within IAM's limits
    expectPoliciesWithinIamLimits(stack, template);
    const text = JSON.stringify(template.toJSON());
    for (const name of names) {
      expect(text.split(`:service/${name}"`).length - 1).toBe(1);
    }
  }), runs(12));
});

describe('invalid values fail with one sentence naming the option', () => {
  const stack = () => new Stack(new App(), 'InvalidStack');
  const oneSentenceNaming = (option: string) => new RegExp(`^${option.replace(/[[\]]/g, '\\$&')}(\\[\\d+\\])? (must|from a token must) [^\\n]+\\.$`);
  function expectFailure(construct: () => unknown, option: string) {
    let message = '';
    try {
      construct();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(oneSentenceNaming(option));
  }

  test('a poll interval out of range, or not whole seconds', () => {
    const invalid = fc.oneof(
      fc.integer({ min: 0, max: 4_999 }),
      fc.integer({ min: 300_001, max: 100_000_000 }),
      fc.integer({ min: 5_000, max: 300_000 }).filter(ms => ms % 1000 !== 0),
    ).map(ms => Duration.millis(ms));
    fc.assert(fc.property(invalid, pollInterval => expectFailure(() => new CancelPipelineDeploymentProvider(stack(), 'P', { pollInterval }), 'pollInterval')), runs(100));
  });

  test('a timeout out of range, or not whole seconds', () => {
    const invalid = fc.oneof(
      fc.integer({ min: 0, max: 59_999 }),
      fc.integer({ min: 3_000_001, max: 100_000_000 }),
      fc.integer({ min: 60_000, max: 3_000_000 }).filter(ms => ms % 1000 !== 0),
    ).map(ms => Duration.millis(ms));
    fc.assert(fc.property(invalid, timeout => expectFailure(() => new CancelPipelineDeployment(stack(), 'C', { serviceName: 's', timeout }), 'timeout')), runs(100));
  });

  test('a service name Proton would refuse', () => {
    const invalid = fc.string({ maxLength: 120 }).filter(name => !/^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$/.test(name));
    fc.assert(fc.property(invalid, name => expectFailure(() => new CancelPipelineDeployment(stack(), 'C', { serviceName: name }), 'serviceName')), runs(100));
  });

  test('a value of the wrong type for any prop of either construct', () => {
    const isDuration = (v: unknown) => typeof v === 'object' && v !== null && typeof (v as Duration).toSeconds === 'function';
    const wrong: Record<string, (v: unknown) => boolean> = {
      'CancelPipelineDeployment.serviceName': v => typeof v !== 'string',
      'CancelPipelineDeployment.waitForFinalStatus': v => v !== undefined && v !== null && typeof v !== 'boolean',
      'CancelPipelineDeployment.failIfNothingToCancel': v => v !== undefined && v !== null && typeof v !== 'boolean',
      'CancelPipelineDeployment.failUnlessCancelled': v => v !== undefined && v !== null && typeof v !== 'boolean',
      'CancelPipelineDeployment.trigger': v => v !== undefined && v !== null && typeof v !== 'string',
      'CancelPipelineDeployment.timeout': v => v !== undefined && v !== null && !isDuration(v),
      'CancelPipelineDeployment.provider': v => v !== undefined && v !== null,
      'CancelPipelineDeploymentProvider.pollInterval': v => v !== undefined && v !== null && !isDuration(v),
      'CancelPipelineDeploymentProvider.logGroup': v => v !== undefined && v !== null,
      'CancelPipelineDeploymentProvider.logRetention': v => v !== undefined && v !== null && !Object.values(logs.RetentionDays).includes(v as number),
      'CancelPipelineDeploymentProvider.logRemovalPolicy': v => v !== undefined && v !== null && !['retain', 'destroy', 'retain-on-update-or-delete'].includes(v as string),
      'CancelPipelineDeploymentProvider.vpc': v => v !== undefined && v !== null,
      'CancelPipelineDeploymentProvider.securityGroups': v => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0),
    };
    const cases = fc.constantFrom(...Object.keys(wrong)).chain(key => fc.tuple(fc.constant(key), fc.anything({ withNullPrototype: true, withMap: true }).filter(wrong[key])));
    fc.assert(fc.property(cases, ([key, value]) => {
      const [construct, prop] = key.split('.');
      if (construct === 'CancelPipelineDeployment') {
        const props = { serviceName: 's', [prop]: value } as unknown as CancelPipelineDeploymentProps;
        expectFailure(() => new CancelPipelineDeployment(stack(), 'C', props), prop);
      } else {
        // Security groups apply only with a VPC.
        const inStack = stack();
        const vpc = prop === 'securityGroups' ? ec2.Vpc.fromVpcAttributes(inStack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['az-1'], privateSubnetIds: ['subnet-1'] }) : undefined;
        const props = { vpc, [prop]: value } as unknown as CancelPipelineDeploymentProviderProps;
        expectFailure(() => new CancelPipelineDeploymentProvider(inStack, 'P', props), prop);
      }
    }), runs(300));
  });
});
