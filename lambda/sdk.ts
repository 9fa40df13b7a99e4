/**
 * The only module that talks to AWS. Each function makes one API call (the
 * SDK retries throttling, 5xx and dropped connections) and returns plain data.
 * The service `spec` never leaves this module.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CancelServicePipelineDeploymentCommand, GetServiceCommand, ProtonClient, ServicePipeline } from '@aws-sdk/client-proton';

/** Attempts per call, first one included. */
export const MAX_ATTEMPTS = 5;

/**
 * Wall-clock budget for one call, retries included, so that the few calls of
 * one invocation always end well inside the function's 2-minute timeout.
 */
export const CALL_BUDGET_MS = 25_000;

const clientConfig = {
  maxAttempts: MAX_ATTEMPTS,
  // Bounded waits: an unreachable endpoint fails in seconds, never hangs the stack.
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
};

let proton: ProtonClient | undefined;
let cloudFormation: CloudFormationClient | undefined;

/** What the handler knows of a service pipeline: never the spec. */
export interface PipelineState {
  readonly deploymentStatus: string;
  readonly deploymentStatusMessage?: string;
  readonly arn: string;
  readonly templateName: string;
  readonly templateMajorVersion: string;
  readonly templateMinorVersion: string;
  readonly lastDeploymentAttemptedAt?: Date;
  readonly lastDeploymentSucceededAt?: Date;
}

/** Reads the service's pipeline; `undefined` when the service has none. */
export async function getPipeline(serviceName: string): Promise<PipelineState | undefined> {
  const output = await protonClient().send(new GetServiceCommand({ name: serviceName }), budget());
  return output.service?.pipeline ? pipelineState(output.service.pipeline) : undefined;
}

/** Asks Proton to cancel the in-progress pipeline deployment. */
export async function cancelPipelineDeployment(serviceName: string): Promise<PipelineState> {
  const output = await protonClient().send(new CancelServicePipelineDeploymentCommand({ serviceName }), budget());
  return pipelineState(output.pipeline!);
}

/** The status of the stack that holds the resource, e.g. `UPDATE_ROLLBACK_IN_PROGRESS`. */
export async function getStackStatus(stackId: string): Promise<string | undefined> {
  cloudFormation ??= new CloudFormationClient(clientConfig);
  const output = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackId }), budget());
  return output.Stacks?.[0]?.StackStatus;
}

function budget() {
  return { abortSignal: AbortSignal.timeout(CALL_BUDGET_MS) };
}

function protonClient(): ProtonClient {
  proton ??= new ProtonClient(clientConfig);
  return proton;
}

function pipelineState(pipeline: ServicePipeline): PipelineState {
  return {
    deploymentStatus: pipeline.deploymentStatus!,
    deploymentStatusMessage: pipeline.deploymentStatusMessage,
    arn: pipeline.arn!,
    templateName: pipeline.templateName!,
    templateMajorVersion: pipeline.templateMajorVersion!,
    templateMinorVersion: pipeline.templateMinorVersion!,
    lastDeploymentAttemptedAt: pipeline.lastDeploymentAttemptedAt,
    lastDeploymentSucceededAt: pipeline.lastDeploymentSucceededAt,
  };
}
