import { CustomResource, Duration, Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ATTRIBUTE, DEFAULTS, LIMITS, RESOURCE_TYPE, ResourceProperties } from './contract';
import { CancelPipelineDeploymentProvider } from './provider';

/**
 * Properties of a `CancelPipelineDeployment`.
 */
export interface CancelPipelineDeploymentProps {
  /**
   * The name of the AWS Proton service whose pipeline deployment is cancelled.
   *
   * 1 to 100 characters: letters and digits first, then letters, digits,
   * `-` and `_`. A new name replaces the resource.
   */
  readonly serviceName: string;

  /**
   * Whether the deployment waits for the pipeline's final status.
   *
   * When `false`, the resource completes as soon as the cancel is sent, and
   * `deploymentStatus` is the status Proton answered, usually `CANCELLING`.
   *
   * @default true
   */
  readonly waitForFinalStatus?: boolean;

  /**
   * How long to wait for the pipeline's final status before failing.
   *
   * Between 1 and 50 minutes: CloudFormation gives a custom resource at most
   * an hour, and the rest of that hour is kept for the cancel and the response.
   *
   * @default Duration.minutes(30)
   */
  readonly timeout?: Duration;

  /**
   * Whether to fail when no pipeline deployment is in progress.
   *
   * By default the resource then succeeds and reports the pipeline's current
   * status, so redeploying the stack never fails for want of a deployment.
   *
   * @default false
   */
  readonly failIfNothingToCancel?: boolean;

  /**
   * Whether a final status other than `CANCELLED` fails the deployment.
   *
   * Applies to the deployment this resource cancelled or waited on, when it
   * ends `FAILED`, or `SUCCEEDED` because it finished before the cancel took.
   * By default that status is reported in `deploymentStatus`.
   *
   * @default false
   */
  readonly failUnlessCancelled?: boolean;

  /**
   * Any value: changing it cancels again on the next deployment, without
   * changing the service.
   *
   * @default - the cancel runs when the resource is created, and when another
   * property changes
   */
  readonly trigger?: string;

  /**
   * The provider that runs the cancel. Must be in the same stack.
   *
   * @default - the stack's provider, created on first use and shared by every
   * `CancelPipelineDeployment` in the stack
   */
  readonly provider?: CancelPipelineDeploymentProvider;
}

/**
 * Cancels the in-progress AWS Proton service pipeline deployment of a service
 * when the stack deploys, waits for the pipeline's final status, and exposes
 * that status as attributes.
 *
 * Deleting the resource makes no Proton call.
 */
export class CancelPipelineDeployment extends Construct {
  /** The pipeline's deployment status: `CANCELLED`, `FAILED`, `SUCCEEDED`, or, without waiting, `CANCELLING`. */
  public readonly deploymentStatus: string;
  /** The message Proton gives with the status, at most 1,000 bytes (longer ones end with `…`). */
  public readonly deploymentStatusMessage: string;
  /** The ARN of the service pipeline. */
  public readonly pipelineArn: string;
  /** The name of the pipeline's service template. */
  public readonly templateName: string;
  /** The major version of the pipeline's service template. */
  public readonly templateMajorVersion: string;
  /** The minor version of the pipeline's service template. */
  public readonly templateMinorVersion: string;
  /** When the last pipeline deployment was attempted, ISO 8601. */
  public readonly lastDeploymentAttemptedAt: string;
  /** When the last pipeline deployment succeeded, ISO 8601; empty if none did. */
  public readonly lastDeploymentSucceededAt: string;
  /** `'true'` when this deployment sent the cancel, `'false'` when there was nothing to cancel. */
  public readonly cancellationRequested: string;

  /**
   * @param scope the construct that holds it, in the stack of the service's account and region
   * @param id the construct id, unique within `scope`
   * @param props the service, and how to wait
   */
  constructor(scope: Construct, id: string, props: CancelPipelineDeploymentProps) {
    super(scope, id);

    validateServiceName(props.serviceName);
    const timeout = props.timeout ?? Duration.seconds(DEFAULTS.timeoutSeconds);
    validateTimeout(timeout);

    const provider = props.provider ?? CancelPipelineDeploymentProvider.getOrCreate(this);
    if (Stack.of(provider) !== Stack.of(this)) {
      throw new Error(`provider must be in the same stack as the CancelPipelineDeployment '${this.node.path}', got one in stack '${Stack.of(provider).stackName}'.`);
    }
    const allowedBy = provider._allowService(props.serviceName);

    const unlessDefault = <T>(value: T | undefined, defaultValue: T) =>
      value === undefined || value === defaultValue ? undefined : String(value);
    const properties: ResourceProperties = {
      ServiceName: props.serviceName,
      WaitForFinalStatus: unlessDefault(props.waitForFinalStatus, DEFAULTS.waitForFinalStatus),
      TimeoutSeconds: unlessDefault(timeout.toSeconds(), DEFAULTS.timeoutSeconds),
      FailIfNothingToCancel: unlessDefault(props.failIfNothingToCancel, DEFAULTS.failIfNothingToCancel),
      FailUnlessCancelled: unlessDefault(props.failUnlessCancelled, DEFAULTS.failUnlessCancelled),
      Trigger: props.trigger,
    };
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: RESOURCE_TYPE,
      properties: { ...properties },
      // CloudFormation would otherwise wait an hour for a lost response.
      serviceTimeout: timeout.plus(provider.pollInterval).plus(Duration.seconds(LIMITS.serviceTimeoutMarginSeconds)),
    });

    if (allowedBy) {
      // The request must not reach the handler before the policy that allows the service exists.
      resource.node.addDependency(allowedBy);
    }

    this.deploymentStatus = resource.getAttString(ATTRIBUTE.deploymentStatus);
    this.deploymentStatusMessage = resource.getAttString(ATTRIBUTE.deploymentStatusMessage);
    this.pipelineArn = resource.getAttString(ATTRIBUTE.pipelineArn);
    this.templateName = resource.getAttString(ATTRIBUTE.templateName);
    this.templateMajorVersion = resource.getAttString(ATTRIBUTE.templateMajorVersion);
    this.templateMinorVersion = resource.getAttString(ATTRIBUTE.templateMinorVersion);
    this.lastDeploymentAttemptedAt = resource.getAttString(ATTRIBUTE.lastDeploymentAttemptedAt);
    this.lastDeploymentSucceededAt = resource.getAttString(ATTRIBUTE.lastDeploymentSucceededAt);
    this.cancellationRequested = resource.getAttString(ATTRIBUTE.cancellationRequested);
  }
}

function validateServiceName(serviceName: string): void {
  if (Token.isUnresolved(serviceName)) {
    return;
  }
  const { serviceNameMaxLength: max, serviceNamePattern: pattern } = LIMITS;
  if (serviceName.length < 1 || serviceName.length > max || !pattern.test(serviceName)) {
    throw new Error(`serviceName must be 1 to ${max} characters matching ${pattern} (letters and digits, then also '-' and '_'), got '${serviceName}' (${serviceName.length} characters).`);
  }
}

function validateTimeout(timeout: Duration): void {
  if (timeout.isUnresolved()) {
    return;
  }
  const seconds = timeout.toSeconds();
  if (seconds < LIMITS.minTimeoutSeconds || seconds > LIMITS.maxTimeoutSeconds) {
    throw new Error(`timeout must be between ${LIMITS.minTimeoutSeconds / 60} and ${LIMITS.maxTimeoutSeconds / 60} minutes, got ${timeout.toHumanString()}.`);
  }
}
