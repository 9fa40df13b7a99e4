/**
 * The only module that calls AWS APIs (the response to CloudFormation is a
 * plain HTTP PUT, in `respond.ts`). Each function makes one API call (the
 * SDK retries throttling, 5xx and dropped connections; `retry.ts` adds the
 * longer retries) and returns plain data.
 * The service `spec` never leaves this module.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CancelServicePipelineDeploymentCommand, GetServiceCommand, ProtonClient, ServicePipeline } from '@aws-sdk/client-proton';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

/** Attempts per call, first one included. */
export const MAX_ATTEMPTS = 5;

/**
 * Wall-clock budget for one call, retries included, so that the few calls of
 * one invocation always end well inside the function's 6-minute timeout.
 */
export const CALL_BUDGET_MS = 25_000;

/** The configuration of every client (the polls' client takes one attempt). */
export const CLIENT_CONFIG = {
  maxAttempts: MAX_ATTEMPTS,
  // Bounded waits: an unreachable endpoint fails in seconds, never hangs the stack.
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
} as const;

/**
 * The client of `isComplete`'s polls: one attempt, since a failed poll is
 * simply repeated at the next poll (retrying inside it would only add load,
 * and wait, while Proton throttles).
 */
export const POLL_CLIENT_CONFIG = { ...CLIENT_CONFIG, maxAttempts: 1 } as const;

let proton: ProtonClient | undefined;
let pollProton: ProtonClient | undefined;
let cloudFormation: CloudFormationClient | undefined;
let stepFunctions: SFNClient | undefined;
let parameterStore: SSMClient | undefined;

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

/**
 * Reads the service's pipeline: `'no-pipeline'` when the service has none,
 * `'no-service'` when the answer holds no service at all (the model allows it).
 */
export async function getPipeline(serviceName: string, forPoll: boolean): Promise<PipelineState | 'no-pipeline' | 'no-service'> {
  const output = await (forPoll ? pollClient() : protonClient()).send(new GetServiceCommand({ name: serviceName }), budget());
  if (!output.service) {
    return 'no-service';
  }
  return output.service.pipeline ? pipelineState(output.service.pipeline) : 'no-pipeline';
}

/** Asks Proton to cancel the in-progress pipeline deployment; `undefined` if the answer has no pipeline. */
export async function cancelPipelineDeployment(serviceName: string): Promise<PipelineState | undefined> {
  const output = await protonClient().send(new CancelServicePipelineDeploymentCommand({ serviceName }), budget());
  return output.pipeline && pipelineState(output.pipeline);
}

/** The status of the stack that holds the resource, e.g. `UPDATE_ROLLBACK_IN_PROGRESS`. */
export async function getStackStatus(stackId: string): Promise<string | undefined> {
  cloudFormation ??= new CloudFormationClient(CLIENT_CONFIG);
  const output = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackId }), budget());
  return output.Stacks?.[0]?.StackStatus;
}

/**
 * Starts the waiter's execution for a request. Its name is the request's id and
 * its input is made from the request alone, so a second start for the same
 * request while the first runs returns the same execution, and once it ended
 * is refused with `ExecutionAlreadyExists`: never a second waiter.
 */
export async function startWaiter(stateMachineArn: string, requestId: string, input: string): Promise<void> {
  stepFunctions ??= new SFNClient(CLIENT_CONFIG);
  await stepFunctions.send(new StartExecutionCommand({ stateMachineArn, name: requestId, input }), budget());
}

/**
 * Keeps a request's response URL as a `SecureString` parameter, readable only
 * by the provider's functions; in the standard tier, which costs nothing,
 * whatever the account's default tier. A parameter already there (a second
 * delivery of the request) is left as it is: its value is the same URL, and its
 * `LastModifiedDate` stays the time the request first arrived.
 *
 * @returns whether this call stored it (false: it was there already)
 */
export async function storeResponseUrl(name: string, responseUrl: string): Promise<boolean> {
  try {
    await ssmClient().send(new PutParameterCommand({ Name: name, Value: responseUrl, Type: 'SecureString', Tier: 'Standard', Overwrite: false }), budget());
    return true;
  } catch (error) {
    if ((error as Error).name !== 'ParameterAlreadyExists') {
      throw error;
    }
    return false;
  }
}

/** When the response URL was stored (the request's arrival), without decrypting it; `undefined` if it is gone. */
export async function responseUrlStoredAt(name: string): Promise<number | undefined> {
  const parameter = await getParameter(name, false);
  return parameter && (parameter.LastModifiedDate?.getTime() ?? Date.now());
}

/** The stored response URL, decrypted; `undefined` once it is removed (the request was answered). */
export async function readResponseUrl(name: string): Promise<string | undefined> {
  return (await getParameter(name, true))?.Value;
}

/** Removes a stored response URL; one already gone is fine. */
export async function removeResponseUrl(name: string): Promise<void> {
  try {
    await ssmClient().send(new DeleteParameterCommand({ Name: name }), budget());
  } catch (error) {
    if ((error as Error).name !== 'ParameterNotFound') {
      throw error;
    }
  }
}

async function getParameter(name: string, withDecryption: boolean) {
  try {
    return (await ssmClient().send(new GetParameterCommand({ Name: name, WithDecryption: withDecryption }), budget())).Parameter;
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') {
      return undefined;
    }
    throw error;
  }
}

function ssmClient(): SSMClient {
  parameterStore ??= new SSMClient(CLIENT_CONFIG);
  return parameterStore;
}

function budget() {
  return { abortSignal: AbortSignal.timeout(CALL_BUDGET_MS) };
}

/** The Proton client, made once per container. */
export function protonClient(): ProtonClient {
  proton ??= new ProtonClient(CLIENT_CONFIG);
  return proton;
}

/** The client of `isComplete`'s polls, made once per container. */
export function pollClient(): ProtonClient {
  pollProton ??= new ProtonClient(POLL_CLIENT_CONFIG);
  return pollProton;
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
