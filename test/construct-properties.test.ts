/**
 * Properties over the documented option space (fast-check): every valid
 * combination synthesizes and keeps the template's invariants; every invalid
 * value fails with one sentence naming the option.
 */
import { App, CfnParameter, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
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

/** The warnings of this library in a stack, each as its construct path and the last part of its id. */
function warningsOf(stack: Stack): string[] {
  return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('\\[ack: cdk-proton-cancel-pipeline-deployment:'))
    .map(w => `${w.id} ${/\[ack: cdk-proton-cancel-pipeline-deployment:(\w+)\]$/.exec(String(w.entry.data))?.[1]}`).sort();
}

test('any valid combination of options synthesizes, and the template keeps its invariants', () => {
  // One instance per service: a second one for the same service fails (its own property below).
  const instanceList = fc.uniqueArray(instanceOptions, { minLength: 1, maxLength: 4, selector: options => options.serviceName });
  fc.assert(fc.property(providerOptions, instanceList, (providerProps, instances) => {
    // GIVEN
    const stack = new Stack(new App(), 'PropertyStack', { env: { account: '123456789012', region: 'us-east-1' } });
    const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', {
      pollInterval: providerProps.pollInterval?.duration,
      vpc: providerProps.vpc ? ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-0123456789abcdef0'] }) : undefined,
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
    // a warning exactly for each option that has no effect: on an instance, a poll longer than the
    // timeout it waits for, or a timeout or failUnlessCancelled without the wait; on the provider,
    // the new log group's options beside an imported log group
    const expected = instances.flatMap((options, i) => {
      const warn = (id: string) => [`/PropertyStack/Cancel${i} ${id}`];
      return options.waitForFinalStatus === false
        ? [...options.timeout ? warn('timeoutWithoutWait') : [], ...options.failUnlessCancelled ? warn('failUnlessCancelledWithoutWait') : []]
        : poll > (options.timeout?.seconds ?? 1800) ? warn('pollIntervalLongerThanTimeout') : [];
    });
    if (providerProps.importedLogGroup) {
      expected.push(...providerProps.logRetention !== undefined ? ['/PropertyStack/Provider logRetentionWithLogGroup'] : []);
      expected.push(...providerProps.logRemovalPolicy !== undefined ? ['/PropertyStack/Provider logRemovalPolicyWithLogGroup'] : []);
    }
    expect(warningsOf(stack)).toEqual(expected.sort());
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
      vpc: vpc ? ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-0123456789abcdef0'] }) : undefined,
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
        const vpc = prop === 'securityGroups' ? ec2.Vpc.fromVpcAttributes(inStack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-0123456789abcdef0'] }) : undefined;
        const props = { vpc, [prop]: value } as unknown as CancelPipelineDeploymentProviderProps;
        expectFailure(() => new CancelPipelineDeploymentProvider(inStack, 'P', props), prop);
      }
    }), runs(300));
  });
});

/** Edit distance by its recursive definition (insert, delete, substitute: one each), written apart from the library's. */
function referenceDistance(a: string, b: string): number {
  const memo = new Map<string, number>();
  const d = (i: number, j: number): number => {
    if (i === 0 || j === 0) {
      return i + j;
    }
    const key = `${i},${j}`;
    if (!memo.has(key)) {
      memo.set(key, Math.min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    return memo.get(key)!;
  };
  return d(a.length, b.length);
}

describe('misspelt options from JavaScript warn, naming the nearest option', () => {
  const OPTIONS = {
    CancelPipelineDeployment: ['serviceName', 'waitForFinalStatus', 'timeout', 'failIfNothingToCancel', 'failUnlessCancelled', 'trigger', 'provider'],
    CancelPipelineDeploymentProvider: ['pollInterval', 'maxConcurrentInstances', 'logGroup', 'logRetention', 'logRemovalPolicy', 'vpc', 'vpcSubnets', 'securityGroups'],
  };
  type Edit = { kind: 'insert' | 'delete' | 'substitute' | 'swap' | 'case'; at: number; char: string };
  const edit = fc.record({
    kind: fc.constantFrom<Edit['kind']>('insert', 'delete', 'substitute', 'swap', 'case'),
    at: fc.nat(),
    char: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_'),
  });
  function apply(word: string, { kind, at, char }: Edit): string {
    const i = at % (word.length + (kind === 'insert' ? 1 : 0));
    switch (kind) {
      case 'insert': return word.slice(0, i) + char + word.slice(i);
      case 'delete': return word.slice(0, i) + word.slice(i + 1);
      case 'substitute': return word.slice(0, i) + char + word.slice(i + 1);
      case 'swap': return i + 1 < word.length ? word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2) : word;
      case 'case': return word.slice(0, i) + (word[i] === word[i].toLowerCase() ? word[i].toUpperCase() : word[i].toLowerCase()) + word.slice(i + 1);
    }
  }
  const misspelling = fc.constantFrom(...Object.keys(OPTIONS) as Array<keyof typeof OPTIONS>)
    .chain(construct => fc.tuple(fc.constant(construct), fc.constantFrom(...OPTIONS[construct]), fc.array(edit, { minLength: 1, maxLength: 2 })))
    // A swap of two neighbours is two edits.
    .map(([construct, option, edits]) => ({ construct, option, edits: edits.reduce((n, e) => n + (e.kind === 'swap' ? 2 : 1), 0), key: edits.reduce(apply, option) }))
    .filter(({ construct, key, edits }) => edits <= 2 && key.length > 0 && !OPTIONS[construct].includes(key) && !(key in {}));

  test('any key within 2 edits of an option gets a warning naming an option at least as near as the one misspelt', () => {
    fc.assert(fc.property(misspelling, fc.anything(), ({ construct, option, edits, key }, value) => {
      // GIVEN
      const stack = new Stack(new App(), 'SpellingStack');

      // WHEN
      if (construct === 'CancelPipelineDeployment') {
        new CancelPipelineDeployment(stack, 'C', { serviceName: 's', [key]: value } as unknown as CancelPipelineDeploymentProps);
      } else {
        const provider = new CancelPipelineDeploymentProvider(stack, 'P', { [key]: value } as unknown as CancelPipelineDeploymentProviderProps);
        new CancelPipelineDeployment(stack, 'C', { serviceName: 's', provider });
      }

      // THEN: one warning, on the construct, naming the key and an option
      const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('has no option'));
      expect(warnings.map(w => w.id)).toEqual([construct === 'CancelPipelineDeployment' ? '/SpellingStack/C' : '/SpellingStack/P']);
      const [, named] = /^\w+ has no option '.*', so it is ignored: did you mean '(\w+)'\? \[ack: cdk-proton-cancel-pipeline-deployment:unknownOption\]$/s
        .exec(String(warnings[0].entry.data))!;
      expect(String(warnings[0].entry.data)).toContain(`no option '${key}'`);
      expect(OPTIONS[construct]).toContain(named);
      // no option is nearer (case aside) than the one named, and it is no farther than the edits made
      const distance = (to: string) => referenceDistance(key.toLowerCase(), to.toLowerCase());
      expect(distance(named)).toBeLessThanOrEqual(Math.min(edits, ...OPTIONS[construct].map(distance)));
      expect(distance(named)).toBeLessThanOrEqual(distance(option));
    }), runs(150));
  });
});

test('any two instances of one stack with the same service name fail, naming both and the name', () => {
  const ids = fc.uniqueArray(fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,9}$/), { minLength: 2, maxLength: 2 });
  const others = fc.uniqueArray(serviceName, { maxLength: 3 });
  fc.assert(fc.property(serviceName, ids, others, fc.boolean(), (name, [first, second], otherNames, sameToken) => {
    // GIVEN a stack with the service and others, the name fixed or the very same token
    const stack = new Stack(new App(), 'DuplicateStack');
    const serviceNameOf = sameToken ? new CfnParameter(stack, 'Name', { default: name }).valueAsString : name;
    new CancelPipelineDeployment(stack, first, { serviceName: serviceNameOf });
    otherNames.filter(other => other !== name).forEach((other, i) => new CancelPipelineDeployment(stack, `Other${i}`, { serviceName: other }));

    // WHEN / THEN
    const shown = sameToken ? `token ${serviceNameOf}` : `'${name}'`;
    expect(() => new CancelPipelineDeployment(stack, second, { serviceName: serviceNameOf, trigger: 'again' }))
      .toThrow(`serviceName ${shown} is given to both 'DuplicateStack/${first}' and 'DuplicateStack/${second}' in stack 'DuplicateStack', `
        + 'which would cancel the same pipeline twice: keep one instance per service, and change its trigger to cancel again.');
  }), runs(50));
});
