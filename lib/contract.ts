/**
 * The contract between the construct and its handler: the custom resource's
 * properties and attributes. CloudFormation passes every property to the
 * handler as a string.
 *
 * Internal: not exported from the package.
 */

/** The resource type shown in CloudFormation. */
export const RESOURCE_TYPE = 'Custom::ProtonCancelPipelineDeployment';

/**
 * Properties of the custom resource, as the handler receives them. An option
 * at its default is left out, which keeps the template small at 400 instances.
 */
export interface ResourceProperties {
  readonly ServiceName: string;
  /** 'true' or 'false'. */
  readonly WaitForFinalStatus?: string;
  /** Whole seconds, as a string. */
  readonly TimeoutSeconds?: string;
  /** 'true' or 'false'. */
  readonly FailIfNothingToCancel?: string;
  /** 'true' or 'false'. */
  readonly FailUnlessCancelled?: string;
  /** Any value; changing it runs the cancel again. */
  readonly Trigger?: string;
}

/** The value of each option the template leaves out. */
export const DEFAULTS = {
  waitForFinalStatus: true,
  timeoutSeconds: 30 * 60,
  failIfNothingToCancel: false,
  failUnlessCancelled: false,
} as const;

/** Attribute names, readable with `Fn::GetAtt`. Every value is a string. */
export const ATTRIBUTE = {
  deploymentStatus: 'DeploymentStatus',
  deploymentStatusMessage: 'DeploymentStatusMessage',
  pipelineArn: 'PipelineArn',
  templateName: 'TemplateName',
  templateMajorVersion: 'TemplateMajorVersion',
  templateMinorVersion: 'TemplateMinorVersion',
  lastDeploymentAttemptedAt: 'LastDeploymentAttemptedAt',
  lastDeploymentSucceededAt: 'LastDeploymentSucceededAt',
  cancellationRequested: 'CancellationRequested',
} as const;

export type AttributeName = typeof ATTRIBUTE[keyof typeof ATTRIBUTE];

/** The data returned to CloudFormation: every attribute, always present. */
export type Attributes = Record<AttributeName, string>;

/** The ranges the construct validates its props against, and the time kept around the wait. */
export const LIMITS = {
  /** Proton's rule for service names. */
  serviceNamePattern: /^[0-9A-Za-z]+[0-9A-Za-z_\-]*$/,
  serviceNameMaxLength: 100,
  /**
   * Longest wait for a final status. CloudFormation gives a custom resource at
   * most 3,600 seconds (`ServiceTimeout`); the rest is kept for the first call,
   * the last poll and the response.
   */
  maxTimeoutSeconds: 50 * 60,
  minTimeoutSeconds: 60,
  minPollIntervalSeconds: 5,
  maxPollIntervalSeconds: 5 * 60,
  /** Time allowed around the wait: first call, last poll, response. */
  serviceTimeoutMarginSeconds: 5 * 60,
  /** CloudFormation's longest `ServiceTimeout` for a custom resource. */
  maxServiceTimeoutSeconds: 60 * 60,
} as const;
