import * as path from 'path';
import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
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

  /** The role of the functions that call AWS Proton. */
  public readonly handlerRole: iam.IRole;

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

    const handlerRole = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Cancels AWS Proton service pipeline deployments of the services named in this stack',
    });
    logGroup.grantWrite(handlerRole);
    // Tells a rollback's Update from a forward one: the rollback never fails.
    handlerRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['cloudformation:DescribeStacks'],
      resources: [Aws.STACK_ID],
    }));
    this.handlerRole = handlerRole;
    this.servicePolicies = new ServicePolicies(this, 'ServicePolicies', handlerRole);

    const network = { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: props.securityGroups };
    if (props.vpc) {
      handlerRole.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
    }
    const handler = (handlerId: string, entry: string) => new lambda.Function(this, handlerId, {
      code: lambda.Code.fromAsset(path.join(__dirname, '..', 'assets', 'handler')),
      handler: `index.${entry}`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      // Each call is bounded to 25 seconds (lambda/sdk.ts); an invocation makes at most four.
      timeout: Duration.minutes(2),
      role: handlerRole,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: `AWS Proton pipeline deployment cancel: ${entry}`,
      ...network,
    });

    // Two roles, as the framework needs: its onEvent function starts the waiter,
    // and the waiter runs the isComplete and onTimeout functions.
    const frameworkRole = (roleId: string) => {
      const role = new iam.Role(this, roleId, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: 'Runs the CDK provider framework that relays CloudFormation requests to the cancel handler',
      });
      logGroup.grantWrite(role);
      if (props.vpc) {
        role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
      }
      return role;
    };

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: handler('OnEvent', 'onEvent'),
      isCompleteHandler: handler('IsComplete', 'isComplete'),
      queryInterval: this.pollInterval,
      // A backstop only: the handler fails first, with a clearer message, after
      // the resource's own timeout (at most maxTimeoutSeconds).
      totalTimeout: Duration.seconds(LIMITS.maxTimeoutSeconds).plus(this.pollInterval).plus(this.pollInterval),
      frameworkOnEventRole: frameworkRole('FrameworkOnEventRole'),
      frameworkCompleteAndTimeoutRole: frameworkRole('FrameworkCompleteRole'),
      logGroup,
      waiterStateMachineLogOptions: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      ...network,
    });
    this.serviceToken = provider.serviceToken;
  }

  /**
   * Allows the handler to cancel and read the pipeline of one Proton service.
   *
   * @internal
   */
  public _allowService(serviceName: string): void {
    this.servicePolicies.addService(serviceName);
  }
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

