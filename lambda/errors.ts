/**
 * Every failure the handler reports, as one clear sentence naming the service
 * and region. It is the status reason of the CloudFormation event.
 */
import { formatDuration, truncate } from './decide';
import { retryKind } from './retry';
import { CALL_BUDGET_MS } from './sdk';

/** Where a failure happened, for the message. */
export interface Context {
  readonly serviceName: string;
  readonly region: string;
}

/** Longest part of an AWS error message quoted in ours. */
const MAX_QUOTED_BYTES = 300;

/** Network failures the SDK reports when it cannot get an answer at all. */
const UNREACHABLE_CODES = ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'];

/**
 * An error meant for the person reading the stack events. Its stack is just the
 * message, so the status reason holds the sentence and no minified trace.
 */
export class DeploymentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeploymentError';
    this.stack = message;
  }
}

/** Turns an error from a Proton API call into a clear sentence. */
export function explainProtonError(error: unknown, operation: string, context: Context): DeploymentError {
  const { name, code, status, message } = describe(error);
  const kind = retryKind(error);
  const service = `Proton service '${context.serviceName}' in ${context.region}`;
  const said = message ? ` (AWS Proton said: ${truncate(message, MAX_QUOTED_BYTES)})` : '';

  if (name === 'ResourceNotFoundException') {
    return new DeploymentError(`${service} was not found${said}; check serviceName and that the stack deploys to the account and region of the service.`);
  }
  if (kind === 'denied') {
    return new DeploymentError(`Access denied to proton:${operation} on ${service}${said}; the provider's role allows it for this service, so look for a service control policy or permissions boundary that denies it.`);
  }
  if (kind === 'throttled') {
    return new DeploymentError(`AWS Proton kept throttling proton:${operation} for ${service} through every retry; deploy again later, or deploy fewer stacks at once.`);
  }
  if (unreachable(name, code)) {
    return new DeploymentError(`Could not reach AWS Proton for ${service} (${code || name}, after retrying for up to ${CALL_BUDGET_MS / 1000} seconds); AWS Proton reached end of support on October 7, 2026, so if the API is gone for good, remove this construct from the stack (Delete makes no Proton call).`);
  }
  if (isTransient(error)) {
    return new DeploymentError(`AWS Proton failed proton:${operation} for ${service} with ${status ? `HTTP ${status}` : `a server fault (${name})`} through every retry${said}; deploy again later.`);
  }
  if (!status && (name === 'SyntaxError' || /Deserialization|parse/i.test(message))) {
    return new DeploymentError(`AWS Proton sent an answer to proton:${operation} for ${service} that is not valid Proton JSON; deploy again later.`);
  }
  return new DeploymentError(`AWS Proton refused proton:${operation} for ${service}: ${name}${said}.`);
}

export function noServiceError(context: Context): DeploymentError {
  return new DeploymentError(`AWS Proton answered proton:GetService for Proton service '${context.serviceName}' in ${context.region} without the service; deploy again later, and check the service in the Proton console if it persists.`);
}

export function invalidPropertyError(context: Context, problem: string): DeploymentError {
  return new DeploymentError(`Invalid property of the cancel for Proton service '${context.serviceName}' in ${context.region}: ${problem}.`);
}

export function noPipelineError(context: Context): DeploymentError {
  return new DeploymentError(`Proton service '${context.serviceName}' in ${context.region} has no service pipeline, so it has no pipeline deployment to cancel; use this construct only with services created with a pipeline.`);
}

export function nothingToCancelError(context: Context, deploymentStatus: string): DeploymentError {
  return new DeploymentError(`Nothing to cancel: the pipeline deployment of Proton service '${context.serviceName}' in ${context.region} is ${deploymentStatus}, not IN_PROGRESS, and failIfNothingToCancel is set.`);
}

export function notCancelledError(context: Context, deploymentStatus: string): DeploymentError {
  return new DeploymentError(`The pipeline deployment of Proton service '${context.serviceName}' in ${context.region} ended ${deploymentStatus}, not CANCELLED, and failUnlessCancelled is set.`);
}

export function timeoutError(context: Context, lastStatus: string, waitedSeconds: number): DeploymentError {
  return new DeploymentError(`Timed out after ${formatDuration(waitedSeconds)} waiting for the pipeline deployment of Proton service '${context.serviceName}' in ${context.region} to reach a final status; last status: ${lastStatus}. Raise the timeout, or check the pipeline in the Proton console.`);
}

/** Whether the call failed on Proton's side or on the way: a server fault, or no answer at all. */
export function isTransient(error: unknown): boolean {
  const { name, code, status, serverFault } = describe(error);
  return serverFault || (status !== undefined && status >= 500) || unreachable(name, code);
}

function unreachable(name: string, code: string): boolean {
  return UNREACHABLE_CODES.includes(code) || name === 'TimeoutError' || name === 'AbortError';
}

function describe(error: unknown): { name: string; code: string; status?: number; serverFault: boolean; message: string } {
  const e = (error ?? {}) as { name?: string; code?: string; message?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
  // A network error the SDK wraps may keep its code only in the message.
  const code = e.code ?? UNREACHABLE_CODES.find(c => e.message?.includes(c)) ?? '';
  return {
    name: e.name ?? 'Error',
    code,
    status: e.$metadata?.httpStatusCode,
    serverFault: e.$fault === 'server',
    message: e.message ?? String(error),
  };
}

export function outOfTimeError(context: Context, seconds: number): DeploymentError {
  return new DeploymentError(`The cancel for Proton service '${context.serviceName}' in ${context.region} did not finish within the handler's ${formatDuration(seconds)}: AWS Proton answered too slowly; deploy again later.`);
}

export function waiterNotStartedError(context: Context, error: unknown): DeploymentError {
  const { name, message } = describe(error);
  return new DeploymentError(`The cancel for Proton service '${context.serviceName}' in ${context.region} was sent, but the wait for its final status could not start (AWS Step Functions said ${name}: ${truncate(message, MAX_QUOTED_BYTES)}); deploy again later.`);
}

/** The waiter's poll failed in AWS Lambda itself, through every retry of the state machine. */
export function waiterFailedError(context: Context, failure: { readonly Error?: string; readonly Cause?: string }): DeploymentError {
  const error = failure.Error ?? 'an unknown error';
  const wait = `The wait for the pipeline deployment of Proton service '${context.serviceName}' in ${context.region} stopped`;
  if (error === 'Lambda.TooManyRequestsException') {
    return new DeploymentError(`${wait}: AWS Lambda refused to run its poll for want of concurrency (${error}) through every retry; raise the account's Lambda concurrency quota, or set maxConcurrentInstances on the provider so that fewer instances run at once.`);
  }
  const cause = failure.Cause ? ` (${truncate(failure.Cause, MAX_QUOTED_BYTES)})` : '';
  return new DeploymentError(`${wait}: its poll failed in AWS Lambda with ${error}${cause}; deploy again later.`);
}
