import * as path from 'path';
import { Annotations, Aspects, Aws, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, IDependable } from 'constructs';
import { LIMITS } from './contract';
import { acknowledgeNagFindings } from './nag-acknowledgements';
import { NetworkInterfacePolicy } from './network-interface-policy';
import {
  checkOptionalArrayOf, checkOptionalDuration, checkOptionalLogRemovalPolicy, checkOptionalObject, checkOptionalRetentionDays,
  checkOptionalShape, checkPropsObject, describeValue, isAbsent, WARNING_PREFIX, warnOfUnknownOptions, wholeSecondsWithin,
} from './prop-checks';
import { ServicePolicies } from './service-policies';

/** How often the pipeline's status is read, unless the props say otherwise. */
const DEFAULT_POLL_INTERVAL_SECONDS = 15;

/**
 * Retries of a waiter task refused for Lambda concurrency: waits of up to 1,
 * 2, 4, ... 32 seconds, then up to a minute each, with full jitter. So many
 * that the execution's hour ends first: Lambda starved of concurrency delays
 * the answer, and the answer goes out when a slot frees.
 */
const WAITER_THROTTLE_RETRIES = 200;

/**
 * Retries of the answer task when its PUT did not go through (S3 answering
 * 5xx, a dropped connection): 10 s, doubling to 2 minutes, 30 attempts, on
 * top of the task's own 30 seconds of retries: the execution's hour ends first.
 */
const ANSWER_RETRIES = { IntervalSeconds: 10, BackoffRate: 2, MaxDelaySeconds: 120, MaxAttempts: 30 };

/** The root of the Parameter Store names under which providers keep response URLs in flight. */
const RESPONSE_URL_PARAMETER_ROOT = 'cdk-proton-cancel-pipeline-deployment';

/**
 * Properties of a `CancelPipelineDeploymentProvider`.
 *
 * A key that is none of these options (a misspelling from JavaScript, such as
 * `pollinterval`) is ignored, with a synth warning naming the nearest option.
 */
export interface CancelPipelineDeploymentProviderProps {
  /**
   * How often the pipeline's status is read while waiting for a final status.
   *
   * A whole number of seconds from 5 seconds to 5 minutes. Each read is one
   * `proton:GetService` call. A token is refused: the waiter's wait between
   * two reads, and every instance's `ServiceTimeout` (its timeout plus one poll
   * interval plus 5 minutes), are computed from it when the template is
   * synthesized.
   *
   * Changing it changes every instance's `ServiceTimeout`, so CloudFormation
   * updates each of them; such an update only reports, it never cancels.
   *
   * @default Duration.seconds(15)
   */
  readonly pollInterval?: Duration;

  /**
   * How many of this provider's instances CloudFormation creates or updates at once.
   *
   * Each instance past the first `maxConcurrentInstances` depends on the
   * instance that many places before it, so no more run at once. It is
   * seldom needed: no function of the provider waits on another, so a low
   * account Lambda concurrency only delays instances (Lambda queues
   * CloudFormation's invocations, the waiter retries its polls). Set it to
   * keep this stack's cancels from taking the account's Lambda concurrency
   * or Proton's request rate from other work. The stack then takes about
   * `ceil(instances / maxConcurrentInstances)` times one cancellation.
   *
   * A whole number from 1. A token is refused: the dependencies are drawn when
   * the template is synthesized.
   *
   * @default - no limit: every instance starts at once
   */
  readonly maxConcurrentInstances?: number;

  /**
   * The log group of the provider's Lambda functions.
   *
   * An imported one (`LogGroup.fromLogGroupName`) is fine: the roles may write
   * to it and to nothing else.
   *
   * @default - a new log group, kept for `logRetention`, and retained when the
   * provider is removed (see `logRemovalPolicy`)
   */
  readonly logGroup?: logs.ILogGroup;

  /**
   * How long the new log group keeps events.
   *
   * Has no effect when `logGroup` is given: synth warns when both are.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the new log group when the provider is removed from the
   * stack, or the stack is deleted. Has no effect when `logGroup` is given:
   * synth warns when both are.
   *
   * `RemovalPolicy.RETAIN` keeps it (and its events, until `logRetention`
   * expires them), `RemovalPolicy.DESTROY` deletes it with its events.
   * `RemovalPolicy.SNAPSHOT` is refused: a log group has no snapshot.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;

  /**
   * The VPC to run the provider's Lambda functions in.
   *
   * The functions then reach AWS through the subnets: they need a route (a
   * NAT gateway, or interface endpoints) to AWS Proton, AWS CloudFormation,
   * AWS Step Functions and AWS Systems Manager (Parameter Store), and to
   * Amazon S3 (a gateway endpoint will do) for the response to CloudFormation. The roles get a policy of
   * their own for the functions' network interfaces, scoped to the selected
   * subnets and security groups.
   *
   * @default - the functions run outside any VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Which subnets of `vpc` the functions use. Only with `vpc`.
   *
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups of the functions. Only with `vpc`.
   *
   * @default - a security group per function, created by AWS Lambda constructs
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/**
 * The Lambda functions and waiter behind every `CancelPipelineDeployment` of a stack.
 *
 * CloudFormation invokes the `OnEvent` function. It answers a Delete itself;
 * for a Create or Update it keeps the request's response URL in Parameter
 * Store and starts the waiter, a state machine named after the request, whose
 * `IsComplete` function reads the pipeline, cancels, polls until the answer is
 * decided, and sends it.
 *
 * One is created per stack on first use. Create one yourself to set its log
 * group, VPC or poll interval, and pass it as the `provider` property. A
 * provider passed to no instance gives a synth warning: its functions would
 * deploy for nothing.
 */
export class CancelPipelineDeploymentProvider extends Construct {
  /** The construct id of the provider created on first use. */
  public static readonly DEFAULT_ID = 'CancelPipelineDeploymentProvider';

  /**
   * The stack's provider: the one created on first use, or a new one.
   *
   * @param scope any construct in the stack
   */
  public static getOrCreate(scope: Construct): CancelPipelineDeploymentProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(CancelPipelineDeploymentProvider.DEFAULT_ID);
    return existing as CancelPipelineDeploymentProvider ?? new CancelPipelineDeploymentProvider(stack, CancelPipelineDeploymentProvider.DEFAULT_ID);
  }

  /** The ARN custom resources send their requests to. */
  public readonly serviceToken: string;

  /** How often the pipeline's status is read while waiting. */
  public readonly pollInterval: Duration;

  private readonly servicePolicies: ServicePolicies;
  private readonly maxConcurrentInstances?: number;
  /** The custom resource of each instance, in the order they were added. */
  private readonly instances: Construct[] = [];

  /**
   * @param scope the stack of the `CancelPipelineDeployment` instances it serves, or a construct in it
   * @param id the construct id, unique within `scope`
   * @param props poll interval, logging and networking
   */
  constructor(scope: Construct, id: string, props: CancelPipelineDeploymentProviderProps = {}) {
    super(scope, id);

    checkProps(props);
    warnOfUnknownOptions(this, props, 'CancelPipelineDeploymentProvider', OPTIONS);
    warnOfLogOptionsWithLogGroup(this, props);
    const pollSeconds = validatePollInterval(props.pollInterval);
    this.maxConcurrentInstances = validateMaxConcurrentInstances(props.maxConcurrentInstances);
    this.pollInterval = Duration.seconds(pollSeconds);
    // At synth, once every instance has been added.
    // (It visits the provider's children too; the warning, added once per id, stays one.)
    Aspects.of(this).add({ visit: () => this.warnIfUnused() });

    const logGroup = props.logGroup ?? new logs.LogGroup(this, 'LogGroup', {
      // A year, as AWS Control Tower's CT.CLOUDWATCH.PR.2 asks.
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      // Kept by default: a LogGroup's own default removal policy is RETAIN.
      removalPolicy: props.logRemovalPolicy ?? undefined,
    });
    const vpc = props.vpc ?? undefined;
    const network = { vpc, vpcSubnets: props.vpcSubnets ?? undefined, securityGroups: props.securityGroups ?? undefined };
    const networkInterfaces = vpc && new NetworkInterfacePolicy(this, 'NetworkInterfaces', vpc, network.vpcSubnets);

    // Each function has a role of its own: both write to the log group and, in a VPC, manage their network interfaces.
    const functionRole = (roleId: string, description: string) => {
      const role = new iam.Role(this, roleId, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description });
      logGroup.grantWrite(role);
      networkInterfaces?.attachTo(role);
      return role;
    };
    // The response URLs of requests in flight, kept out of the waiter's history: this provider's parameters only.
    const parameterPrefix = `/${RESPONSE_URL_PARAMETER_ROOT}/${Aws.STACK_NAME}/${this.node.addr.slice(-8)}`;
    const parameters = (actions: string[]) => new iam.PolicyStatement({
      actions,
      resources: [Stack.of(this).formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${parameterPrefix.slice(1)}/*` })],
    });

    const handlerRole = functionRole('HandlerRole', 'Reads and cancels AWS Proton service pipeline deployments of the services named in this stack, and answers CloudFormation');
    // Tells a rollback's Update from a forward one: the rollback never fails.
    handlerRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['cloudformation:DescribeStacks'],
      resources: [Aws.STACK_ID],
    }));
    handlerRole.addToPrincipalPolicy(parameters(['ssm:GetParameter', 'ssm:DeleteParameter']));
    this.servicePolicies = new ServicePolicies(this, 'ServicePolicies', handlerRole, networkInterfaces ? 1 : 0);
    const onEventRole = functionRole('OnEventRole', 'Receives CloudFormation\'s requests for the AWS Proton pipeline deployment cancels of this stack and starts their waiter');
    onEventRole.addToPrincipalPolicy(parameters(['ssm:PutParameter', 'ssm:DeleteParameter']));

    const handler = (handlerId: string, entry: string, role: iam.IRole) => new lambda.Function(this, handlerId, {
      code: lambda.Code.fromAsset(path.join(__dirname, '..', 'assets', 'handler')),
      handler: `index.${entry}`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      // onEvent retries throttled calls for up to 2.5 minutes and denied ones for 1 (lambda/retry.ts),
      // and each call is bounded to 25 seconds (lambda/sdk.ts); its PUT retries end 20 seconds before the timeout.
      timeout: Duration.minutes(6),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: `AWS Proton pipeline deployment cancel: ${entry}`,
      environment: { RESPONSE_URL_PARAMETER_PREFIX: parameterPrefix },
      ...network,
    });

    // CloudFormation invokes onEvent directly, and the waiter invokes isComplete:
    // no function waits on another, so a low Lambda concurrency delays
    // requests (Lambda queues CloudFormation's invokes, the waiter retries its
    // own) instead of failing them.
    const onEvent = handler('OnEvent', 'onEvent', onEventRole);
    const isComplete = handler('IsComplete', 'isComplete', handlerRole);
    // Every resource waits for its handler, so none reaches it before the inline policy exists.
    // The function itself waits, not its security group, which the network policy names.
    this.servicePolicies.precede(onEvent.node.defaultChild!, isComplete.node.defaultChild!);

    const waiterRole = new iam.Role(this, 'WaiterRole', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: 'Runs the waiter that takes each request of this stack\'s Proton pipeline deployment cancels to its answer',
    });
    isComplete.grantInvoke(waiterRole);
    // A construct around the state machine, as aws-stepfunctions' StateMachine has it.
    const waiter = new sfn.CfnStateMachine(new Construct(this, 'Waiter'), 'Resource', {
      roleArn: waiterRole.roleArn,
      definitionString: Stack.of(this).toJsonString(waiterDefinition(isComplete.functionArn, pollSeconds)),
    });
    waiter.node.addDependency(waiterRole);
    onEvent.addEnvironment('WAITER_STATE_MACHINE_ARN', waiter.ref);
    onEventRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [waiter.ref] }));
    this.serviceToken = onEvent.functionArn;

    networkInterfaces?.allowSecurityGroupsOf([onEvent, isComplete]);

    acknowledgeNagFindings({ isComplete, waiter: waiter.node.scope!, waiterRole, roles: [handlerRole, onEventRole], logGroup, parameterPrefix });
  }

  /**
   * Allows the handler to cancel and read the pipeline of one Proton service.
   *
   * @returns what the service's resource must wait for, if anything
   *
   * @internal
   */
  public _allowService(serviceName: string): IDependable | undefined {
    return this.servicePolicies.addService(serviceName);
  }

  /**
   * Adds an instance's custom resource; with `maxConcurrentInstances`, it
   * waits for the instance that many places before it.
   *
   * @internal
   */
  public _addInstance(resource: Construct): void {
    const before = this.maxConcurrentInstances && this.instances[this.instances.length - this.maxConcurrentInstances];
    if (before) {
      resource.node.addDependency(before);
    }
    this.instances.push(resource);
  }

  private warnIfUnused(): void {
    if (this.instances.length === 0) {
      Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:unusedProvider`,
        'This CancelPipelineDeploymentProvider serves no CancelPipelineDeployment, so its functions, waiter and roles would deploy for nothing '
        + '(an instance without the provider prop uses the stack\'s own provider): pass it as the provider of the instances, or remove it.');
    }
  }
}

/** Every option, for the check of unknown keys; the type keeps it complete. */
const OPTIONS: string[] = Object.values({
  pollInterval: 'pollInterval', maxConcurrentInstances: 'maxConcurrentInstances', logGroup: 'logGroup', logRetention: 'logRetention',
  logRemovalPolicy: 'logRemovalPolicy', vpc: 'vpc', vpcSubnets: 'vpcSubnets', securityGroups: 'securityGroups',
} satisfies { [K in keyof CancelPipelineDeploymentProviderProps]-?: K });

/** Warns of the options of the new log group, when a log group is given instead. */
function warnOfLogOptionsWithLogGroup(provider: Construct, props: CancelPipelineDeploymentProviderProps): void {
  if (isAbsent(props.logGroup)) {
    return;
  }
  if (!isAbsent(props.logRetention)) {
    const retention = props.logRetention === logs.RetentionDays.INFINITE ? 'RetentionDays.INFINITE' : `${props.logRetention} days`;
    Annotations.of(provider).addWarningV2(`${WARNING_PREFIX}:logRetentionWithLogGroup`,
      `logRetention (${retention}) has no effect with logGroup, since the provider then creates no log group and writes to the one given: `
      + 'set the retention on that log group, and leave logRetention out.');
  }
  if (!isAbsent(props.logRemovalPolicy)) {
    Annotations.of(provider).addWarningV2(`${WARNING_PREFIX}:logRemovalPolicyWithLogGroup`,
      `logRemovalPolicy (RemovalPolicy.${String(props.logRemovalPolicy).toUpperCase().replace(/-/g, '_')}) has no effect with logGroup, `
      + 'since the provider then creates no log group and writes to the one given: leave logRemovalPolicy out.');
  }
}

/** The type of each prop, for callers without a compiler (plain JavaScript). */
function checkProps(props: CancelPipelineDeploymentProviderProps): void {
  checkPropsObject(props, 'CancelPipelineDeploymentProvider', 'an object, or left out');
  checkOptionalDuration(props.pollInterval, 'pollInterval', 'Duration.seconds(30)');
  checkOptionalShape(props.logGroup, 'logGroup', 'a logs.ILogGroup', { logGroupArn: 'string', logGroupName: 'string', grantWrite: 'function' });
  checkOptionalRetentionDays(props.logRetention, 'logRetention');
  checkOptionalLogRemovalPolicy(props.logRemovalPolicy, 'logRemovalPolicy');
  checkOptionalShape(props.vpc, 'vpc', 'an ec2.IVpc', { vpcId: 'string', selectSubnets: 'function' });
  checkOptionalObject(props.vpcSubnets, 'vpcSubnets', 'an ec2.SubnetSelection');
  checkOptionalArrayOf(props.securityGroups, 'securityGroups', 'an array of ec2.ISecurityGroup', 'an ec2.ISecurityGroup', { securityGroupId: 'string' });
  if (isAbsent(props.vpc) && !(isAbsent(props.vpcSubnets) && isAbsent(props.securityGroups))) {
    throw new TypeError('vpcSubnets and securityGroups apply only with vpc: set vpc, or leave them out.');
  }
}

function validateMaxConcurrentInstances(value: number | undefined | null): number | undefined {
  if (isAbsent(value)) {
    return undefined;
  }
  if (Token.isUnresolved(value)) {
    throw new TypeError('maxConcurrentInstances must be a fixed number, not a token: the dependencies between instances are drawn at synth time, got <token>.');
  }
  // Number.isInteger is false for anything but a number: a string '3' from JavaScript too.
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`maxConcurrentInstances must be a whole number from 1, or left out, got ${describeValue(value)}.`);
  }
  return value;
}

/**
 * The waiter, in the Amazon States Language: a step (the first one reads and
 * cancels, the next ones poll), and until the step has decided the answer,
 * wait and step again; then the answer task sends it. A step that fails for
 * good goes to the answer task with the error, which answers FAILED with a
 * sentence naming it. A task refused for Lambda concurrency is retried until
 * the execution's hour ends. No execution outlasts CloudFormation's hour.
 */
function waiterDefinition(isCompleteArn: string, pollSeconds: number): Record<string, unknown> {
  const lambdaRetry = [
    // Lambda's own faults, as Step Functions advises retrying them.
    {
      ErrorEquals: ['Lambda.ClientExecutionTimeoutException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException'],
      IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2,
    },
    // No concurrency left: waits of up to 1, 2, 4, ... 32 seconds, then up to a minute each.
    {
      ErrorEquals: ['Lambda.TooManyRequestsException'],
      IntervalSeconds: 1, MaxAttempts: WAITER_THROTTLE_RETRIES, BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: 'FULL',
    },
  ];
  return {
    StartAt: 'Step',
    States: {
      'Step': {
        Type: 'Task', Resource: isCompleteArn, Retry: lambdaRetry,
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.Error', Next: 'Answer' }],
        Next: 'Decided?',
      },
      'Decided?': { Type: 'Choice', Choices: [{ Variable: '$.Answer', IsPresent: true, Next: 'Answer' }], Default: 'Wait' },
      'Wait': { Type: 'Wait', Seconds: pollSeconds, Next: 'Step' },
      'Answer': {
        Type: 'Task', Resource: isCompleteArn,
        Retry: [...lambdaRetry, { ErrorEquals: ['AnswerNotSent'], ...ANSWER_RETRIES }],
        End: true,
      },
    },
    TimeoutSeconds: LIMITS.maxServiceTimeoutSeconds,
  };
}

/** The poll interval in whole seconds. */
function validatePollInterval(pollInterval: Duration | undefined | null): number {
  if (isAbsent(pollInterval)) {
    return DEFAULT_POLL_INTERVAL_SECONDS;
  }
  if (pollInterval.isUnresolved()) {
    throw new TypeError('pollInterval must be a fixed duration, not a token: the waiter\'s wait between reads and every instance\'s ServiceTimeout '
      + `are computed from it at synth time, got ${pollInterval.toHumanString()}.`);
  }
  return wholeSecondsWithin(pollInterval, 'pollInterval', LIMITS.minPollIntervalSeconds, LIMITS.maxPollIntervalSeconds, 'from 5 seconds to 5 minutes');
}
