import * as path from 'path';
import { Aws, CfnResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IDependable } from 'constructs';
import { LIMITS } from './contract';
import { ServicePolicies } from './service-policies';

/**
 * Properties of a `CancelPipelineDeploymentProvider`.
 */
export interface CancelPipelineDeploymentProviderProps {
  /**
   * How often the pipeline's status is read while waiting for a final status.
   *
   * Between 5 seconds and 5 minutes. Each read is one `proton:GetService` call.
   *
   * @default Duration.seconds(15)
   */
  readonly pollInterval?: Duration;

  /**
   * The log group of the provider's Lambda functions and waiter state machine.
   *
   * @default - a new log group, kept for `logRetention`
   */
  readonly logGroup?: logs.ILogGroup;

  /**
   * How long the new log group keeps events. Ignored when `logGroup` is given.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The VPC to run the provider's Lambda functions in. The subnets need a
   * route to the AWS Proton, AWS CloudFormation and AWS Step Functions APIs
   * (NAT gateway or interface endpoints).
   *
   * @default - the functions run outside any VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Which subnets of `vpc` the functions use.
   *
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups of the functions, when in a VPC.
   *
   * @default - a security group per function, created by AWS Lambda constructs
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/**
 * The Lambda functions and waiter behind every `CancelPipelineDeployment` of a stack.
 *
 * One is created per stack on first use. Create one yourself to set its log
 * group, VPC or poll interval, and pass it as the `provider` property.
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

  /**
   * @param scope the stack of the `CancelPipelineDeployment` instances it serves, or a construct in it
   * @param id the construct id, unique within `scope`
   * @param props poll interval, logging and networking
   */
  constructor(scope: Construct, id: string, props: CancelPipelineDeploymentProviderProps = {}) {
    super(scope, id);

    this.pollInterval = props.pollInterval ?? Duration.seconds(15);
    validatePollInterval(this.pollInterval);

    const logGroup = props.logGroup ?? new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });

    // Every function's role writes to the log group and, in a VPC, manages its network interfaces.
    const functionRole = (roleId: string, description: string) => {
      const role = new iam.Role(this, roleId, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description });
      logGroup.grantWrite(role);
      if (props.vpc) {
        role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
      }
      return role;
    };

    const handlerRole = functionRole('HandlerRole', 'Cancels AWS Proton service pipeline deployments of the services named in this stack');
    // Tells a rollback's Update from a forward one: the rollback never fails.
    handlerRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['cloudformation:DescribeStacks'],
      resources: [Aws.STACK_ID],
    }));
    const network = { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: props.securityGroups };
    this.servicePolicies = new ServicePolicies(this, 'ServicePolicies', handlerRole, props.vpc ? 1 : 0);
    const handler = (handlerId: string, entry: string) => new lambda.Function(this, handlerId, {
      code: lambda.Code.fromAsset(path.join(__dirname, '..', 'assets', 'handler')),
      handler: `index.${entry}`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      // onEvent retries throttled calls for up to 3 minutes and denied ones for 1 (lambda/retry.ts),
      // and each call's last attempt is bounded to 25 seconds (lambda/sdk.ts): at most 5m 40s in all.
      timeout: Duration.minutes(6),
      role: handlerRole,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: `AWS Proton pipeline deployment cancel: ${entry}`,
      ...network,
    });

    const onEvent = handler('OnEvent', 'onEvent');
    const isComplete = handler('IsComplete', 'isComplete');
    // Every resource waits for its handler, so none reaches it before the inline policy exists.
    onEvent.node.addDependency(this.servicePolicies.inlinePolicy);
    isComplete.node.addDependency(this.servicePolicies.inlinePolicy);
    // Two roles, as the framework needs: its onEvent function starts the waiter,
    // and the waiter runs the isComplete and onTimeout functions.
    const frameworkDescription = 'Runs the CDK provider framework that relays CloudFormation requests to the cancel handler';
    const frameworkOnEventRole = functionRole('FrameworkOnEventRole', frameworkDescription);
    const frameworkCompleteAndTimeoutRole = functionRole('FrameworkCompleteRole', frameworkDescription);
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: this.pollInterval,
      // A backstop only: the handler fails first, with a clearer message, after
      // the resource's own timeout (at most maxTimeoutSeconds).
      totalTimeout: Duration.seconds(LIMITS.maxTimeoutSeconds).plus(this.pollInterval).plus(this.pollInterval),
      frameworkOnEventRole,
      frameworkCompleteAndTimeoutRole,
      logGroup,
      ...network,
    });
    this.serviceToken = provider.serviceToken;

    acknowledgeNagFindings({
      onEvent, isComplete, frameworkOnEventRole, frameworkCompleteAndTimeoutRole,
      waiter: provider.node.findChild('waiter-state-machine'),
    });
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
}

/**
 * Acknowledges the AwsSolutions (cdk-nag) findings that remain, each on its own
 * resource, so that users running the rule pack see only their own findings.
 */
function acknowledgeNagFindings(parts: {
  onEvent: lambda.Function;
  isComplete: lambda.Function;
  frameworkOnEventRole: iam.Role;
  frameworkCompleteAndTimeoutRole: iam.Role;
  waiter: Construct;
}): void {
  const invokeVersions = (fn: lambda.Function) =>
    `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(fn).getLogicalId(fn.node.defaultChild as CfnResource)}.Arn>:*]`;
  const versionsReason = 'lambda:InvokeFunction on the function\'s ARN and its versions (ARN:*), as Function.grantInvoke grants it: one function, no other';

  // The framework grants both of its roles the invoke of both handler functions.
  for (const role of [parts.frameworkOnEventRole, parts.frameworkCompleteAndTimeoutRole]) {
    for (const fn of [parts.onEvent, parts.isComplete]) {
      Validations.of(role).acknowledge({ id: invokeVersions(fn), reason: versionsReason });
    }
  }

  const waiterRole = parts.waiter.node.findChild('Role');
  for (const frameworkFunction of ['framework-isComplete', 'framework-onTimeout']) {
    const fn = parts.waiter.node.scope!.node.findChild(frameworkFunction) as lambda.Function;
    Validations.of(waiterRole).acknowledge({ id: invokeVersions(fn), reason: versionsReason });
  }
  Validations.of(parts.waiter).acknowledge({
    id: 'AwsSolutions::AwsSolutions-SF1',
    reason: 'Logging the waiter would give its role logs:* on "*" (CloudWatch Logs delivery); each of its steps is an invocation of the IsComplete function, whose JSON log records the poll',
  });
  Validations.of(parts.waiter).acknowledge({
    id: 'AwsSolutions::AwsSolutions-SF2',
    reason: 'The CDK provider framework does not expose X-Ray tracing for its waiter state machine; it runs one Lambda task in a retry loop',
  });
}

function validatePollInterval(pollInterval: Duration): void {
  if (pollInterval.isUnresolved()) {
    return;
  }
  const seconds = pollInterval.toSeconds();
  if (seconds < LIMITS.minPollIntervalSeconds || seconds > LIMITS.maxPollIntervalSeconds) {
    throw new Error(`pollInterval must be between ${LIMITS.minPollIntervalSeconds} seconds and ${LIMITS.maxPollIntervalSeconds / 60} minutes, got ${pollInterval.toHumanString()}.`);
  }
}

