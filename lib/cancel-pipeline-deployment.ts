import { Annotations, CustomResource, Duration, Stack, Token, Tokenization } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ATTRIBUTE, DEFAULTS, LIMITS, RESOURCE_TYPE, ResourceProperties } from './contract';
import {
  checkOptionalBoolean, checkOptionalDuration, checkOptionalString, checkPropsObject, checkString, describeValue, isAbsent, nearestOption, WARNING_PREFIX,
  warnOfUnknownOptions, wholeSecondsWithin,
} from './prop-checks';
import { CancelPipelineDeploymentProvider } from './provider';

/**
 * Properties of a `CancelPipelineDeployment`.
 *
 * A key that is none of these options (a misspelling from JavaScript, such as
 * `timout`) is ignored, with a synth warning naming the nearest option.
 */
export interface CancelPipelineDeploymentProps {
  /**
   * The name of the AWS Proton service whose pipeline deployment is cancelled.
   *
   * 1 to 100 characters: letters and digits first, then letters, digits,
   * `-` and `_`. A new name replaces the resource: the new one is created
   * (and cancels), the old one deleted.
   *
   * A token (for example a `CfnParameter`) is accepted: the IAM policy names
   * the service through it, and the handler checks the value at deploy time.
   *
   * One instance per service in a stack: a second instance with the same name
   * fails synth, naming both, since both would cancel the same pipeline (to
   * cancel again, change `trigger`). The very same token given to two
   * instances is the same name and fails too; two different tokens are not
   * compared, as their values are known only at deploy time.
   */
  readonly serviceName: string;

  /**
   * Whether the deployment waits for the pipeline's final status.
   *
   * When `false`, the resource completes as soon as the cancel is sent, and
   * `deploymentStatus` is the status Proton answered, usually `CANCELLING`.
   * `timeout` then has no effect, and `failUnlessCancelled` applies only to a
   * deployment that finished before the cancel reached it: synth warns when
   * `timeout` is given or `failUnlessCancelled` is `true`.
   *
   * @default true
   */
  readonly waitForFinalStatus?: boolean;

  /**
   * How long to wait for the pipeline's final status before failing.
   *
   * A whole number of seconds from 1 to 50 minutes: CloudFormation gives a
   * custom resource at most an hour, and the rest of that hour is kept for the
   * cancel, one poll interval and the response. The resource's
   * `ServiceTimeout` is this timeout plus one poll interval plus 5 minutes.
   *
   * A token is accepted as `Duration.seconds(token)`: the handler checks the
   * value at deploy time, and `ServiceTimeout` is then 3,600 seconds,
   * CloudFormation's longest, which covers the longest valid timeout.
   *
   * Has no effect when `waitForFinalStatus` is `false` (a synth warning says so).
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
   * When `waitForFinalStatus` is `false` the final status is not awaited: only
   * a deployment that finished before the cancel reached it can fail, and
   * synth warns that the option does less than it seems.
   *
   * @default false
   */
  readonly failUnlessCancelled?: boolean;

  /**
   * Any value: changing it cancels again on the next deployment, without
   * changing the service.
   *
   * An update of the resource cancels only when `trigger` changed (and the
   * stack is not rolling back). Any other change, of `waitForFinalStatus`,
   * `timeout`, `failIfNothingToCancel`, `failUnlessCancelled`, the provider or
   * its settings, only reads the pipeline and reports it as it is, without a
   * cancel and without failing; the new options apply to the next cancel. A
   * new `serviceName` replaces the resource, which cancels as a create does.
   * A token is passed through as it is. It is the way to cancel a service
   * again: a second instance for the same service fails synth.
   *
   * @default - the cancel runs only when the resource is created (or replaced)
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
  /**
   * The pipeline's deployment status, as Proton reports it.
   *
   * Any status of Proton's published model: `IN_PROGRESS`, `CANCELLING`,
   * `DELETE_IN_PROGRESS`, `SUCCEEDED`, `FAILED`, `CANCELLED`,
   * `DELETE_COMPLETE` or `DELETE_FAILED`; a newer status Proton may add, as it
   * sends it; or empty, on an Update that only reports and could not read the
   * pipeline. After a wait, a final status; without waiting, usually `CANCELLING`.
   */
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
  /**
   * `'true'` when Proton accepted the cancel this deployment sent; `'false'`
   * when there was nothing to cancel, when Proton refused the cancel because
   * the deployment finished first, and on an update that only reports.
   */
  public readonly cancellationRequested: string;

  /**
   * @param scope the construct that holds it, in the stack of the service's account and region
   * @param id the construct id, unique within `scope`
   * @param props the service, and how to wait
   */
  constructor(scope: Construct, id: string, props: CancelPipelineDeploymentProps) {
    super(scope, id);

    checkProps(props);
    warnOfUnknownOptions(this, props, 'CancelPipelineDeployment', OPTIONS);
    validateServiceName(props.serviceName);
    const timeoutSeconds = validateTimeout(props.timeout);
    claimServiceName(this, props.serviceName);
    warnOfOptionsWithoutWait(this, props);

    const provider = props.provider ?? CancelPipelineDeploymentProvider.getOrCreate(this);
    if (Stack.of(provider) !== Stack.of(this)) {
      throw new Error(`provider must be in the same stack as the CancelPipelineDeployment '${this.node.path}', got one in stack '${Stack.of(provider).stackName}'.`);
    }
    const pollSeconds = provider.pollInterval.toSeconds();
    const allowedBy = provider._allowService(props.serviceName);

    const unlessDefault = (value: boolean | number | undefined | null, defaultValue: boolean | number) =>
      isAbsent(value) || value === defaultValue ? undefined : String(value);
    const properties: ResourceProperties = {
      ServiceName: props.serviceName,
      WaitForFinalStatus: unlessDefault(props.waitForFinalStatus, DEFAULTS.waitForFinalStatus),
      TimeoutSeconds: timeoutSeconds === DEFAULTS.timeoutSeconds ? undefined : Tokenization.stringifyNumber(timeoutSeconds),
      FailIfNothingToCancel: unlessDefault(props.failIfNothingToCancel, DEFAULTS.failIfNothingToCancel),
      FailUnlessCancelled: unlessDefault(props.failUnlessCancelled, DEFAULTS.failUnlessCancelled),
      Trigger: props.trigger ?? undefined,
    };
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: RESOURCE_TYPE,
      properties: { ...properties },
      // CloudFormation would otherwise wait an hour for a lost response. A
      // timeout from a token is checked by the handler at deploy time, and may
      // be up to the longest one: the hour covers it.
      serviceTimeout: Duration.seconds(Token.isUnresolved(timeoutSeconds)
        ? LIMITS.maxServiceTimeoutSeconds
        : timeoutSeconds + pollSeconds + LIMITS.serviceTimeoutMarginSeconds),
    });

    if (props.waitForFinalStatus !== false && !Token.isUnresolved(timeoutSeconds) && pollSeconds > timeoutSeconds) {
      Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:pollIntervalLongerThanTimeout`,
        `The provider's pollInterval (${provider.pollInterval.toHumanString()}) is longer than timeout (${Duration.seconds(timeoutSeconds).toHumanString()}): `
        + 'the waiter reads the status one poll interval after the cancel and then once every poll interval, so the timeout takes effect only at that first read, '
        + 'one poll interval after the cancel. Shorten pollInterval or lengthen timeout.');
    }

    if (allowedBy) {
      // The request must not reach the handler before the policy that allows the service exists.
      resource.node.addDependency(allowedBy);
    }
    provider._addInstance(resource);

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

/** Every option, for the check of unknown keys; the type keeps it complete. */
const OPTIONS: string[] = Object.values({
  serviceName: 'serviceName', waitForFinalStatus: 'waitForFinalStatus', timeout: 'timeout', failIfNothingToCancel: 'failIfNothingToCancel',
  failUnlessCancelled: 'failUnlessCancelled', trigger: 'trigger', provider: 'provider',
} satisfies { [K in keyof CancelPipelineDeploymentProps]-?: K });

/** The type of each prop, for callers without a compiler (plain JavaScript). */
function checkProps(props: CancelPipelineDeploymentProps): void {
  checkPropsObject(props, 'CancelPipelineDeployment', 'an object with at least serviceName');
  const misspelt = isAbsent(props.serviceName) ? Object.keys(props).find(key => !OPTIONS.includes(key) && nearestOption(key, OPTIONS) === 'serviceName') : undefined;
  if (misspelt !== undefined) {
    throw new TypeError(`serviceName must be a string, the name of the Proton service, got ${describeValue(props.serviceName)}: the props have '${misspelt}' instead, which is no option.`);
  }
  checkString(props.serviceName, 'serviceName', 'a string, the name of the Proton service');
  checkOptionalBoolean(props.waitForFinalStatus, 'waitForFinalStatus');
  checkOptionalDuration(props.timeout, 'timeout', 'Duration.minutes(30)');
  checkOptionalBoolean(props.failIfNothingToCancel, 'failIfNothingToCancel');
  checkOptionalBoolean(props.failUnlessCancelled, 'failUnlessCancelled');
  checkOptionalString(props.trigger, 'trigger');
  if (!isAbsent(props.provider) && !(props.provider instanceof CancelPipelineDeploymentProvider)) {
    throw new TypeError(`provider must be a CancelPipelineDeploymentProvider, or left out, got ${describeValue(props.provider)}.`);
  }
}

function validateServiceName(serviceName: string): void {
  if (Token.isUnresolved(serviceName)) {
    return;
  }
  const { serviceNameMaxLength: max, serviceNamePattern: pattern } = LIMITS;
  // The pattern asks for at least one character.
  if (serviceName.length > max || !pattern.test(serviceName)) {
    throw new Error(`serviceName must be 1 to ${max} characters matching ${pattern} (letters and digits, then also '-' and '_'), got '${serviceName}' (${serviceName.length} characters).`);
  }
}

/**
 * The timeout in whole seconds: a number, or a token CloudFormation resolves
 * (which the handler checks at deploy time).
 */
function validateTimeout(timeout: Duration | undefined | null): number {
  if (isAbsent(timeout)) {
    return DEFAULTS.timeoutSeconds;
  }
  if (timeout.isUnresolved()) {
    try {
      return timeout.toSeconds();
    } catch {
      throw new TypeError(`timeout from a token must be given in seconds, as Duration.seconds(token), since CloudFormation cannot convert units, got ${timeout.toHumanString()}.`);
    }
  }
  return wholeSecondsWithin(timeout, 'timeout', LIMITS.minTimeoutSeconds, LIMITS.maxTimeoutSeconds, 'from 1 to 50 minutes (60 to 3,000 seconds)');
}

/**
 * The fixed service names of a stack's instances, each with the path of the
 * instance that has it. Kept on the stack itself (under a global symbol, so
 * that two copies of this library share it), never in module state: it goes
 * with its App.
 */
const SERVICE_NAMES = Symbol.for('cdk-proton-cancel-pipeline-deployment.serviceNames');

/**
 * Fails when another instance of the stack has the same service name: both
 * would cancel the same pipeline. A token is the same name only as the very
 * same token; different tokens cannot be compared before deploy time.
 */
function claimServiceName(instance: Construct, serviceName: string): void {
  const stack = Stack.of(instance) as Stack & { [SERVICE_NAMES]?: Map<string, string> };
  if (stack[SERVICE_NAMES] === undefined) {
    Object.defineProperty(stack, SERVICE_NAMES, { value: new Map<string, string>() });
  }
  const pathOf = stack[SERVICE_NAMES]!;
  const first = pathOf.get(serviceName);
  if (first !== undefined) {
    const name = Token.isUnresolved(serviceName) ? `token ${serviceName}` : `'${serviceName}'`;
    throw new Error(`serviceName ${name} is given to both '${first}' and '${instance.node.path}' in stack '${stack.stackName}', which would cancel the same pipeline twice: `
      + 'keep one instance per service, and change its trigger to cancel again.');
  }
  pathOf.set(serviceName, instance.node.path);
}

/** Warns of the options that waitForFinalStatus false makes moot. */
function warnOfOptionsWithoutWait(instance: Construct, props: CancelPipelineDeploymentProps): void {
  if (props.waitForFinalStatus !== false) {
    return;
  }
  if (!isAbsent(props.timeout)) {
    Annotations.of(instance).addWarningV2(`${WARNING_PREFIX}:timeoutWithoutWait`,
      `timeout (${props.timeout.toHumanString()}) has no effect with waitForFinalStatus false, since the resource completes once the cancel is sent: `
      + 'leave timeout out, or set waitForFinalStatus to true.');
  }
  if (props.failUnlessCancelled === true) {
    Annotations.of(instance).addWarningV2(`${WARNING_PREFIX}:failUnlessCancelledWithoutWait`,
      'failUnlessCancelled (true) with waitForFinalStatus false fails only when the deployment finished before the cancel reached it, '
      + 'since the final status is not awaited and a deployment that ends FAILED or SUCCEEDED later is reported as CANCELLING: '
      + 'set waitForFinalStatus to true, or leave failUnlessCancelled out.');
  }
}
