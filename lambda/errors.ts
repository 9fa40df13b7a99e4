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

/** A connection the other side closed without an answer: the endpoint is there, the call may be repeated. */
const DROPPED_CODES = ['ECONNRESET', 'EPIPE'];

/** Network failures the SDK reports when it cannot get an answer at all. */
const UNREACHABLE_CODES = [...DROPPED_CODES, 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'];

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
  if (isFault(error, false)) {
    return new DeploymentError(`AWS Proton failed proton:${operation} for ${service} with ${status ? `HTTP ${status}` : `a server fault (${name})`} through every retry${said}; deploy again later.`);
  }
  // A 200 whose body the SDK could not read carries that status; an error answer that says "parse" is Proton's own.
  if ((status === undefined || status === 200) && (name === 'SyntaxError' || /Deserialization|parse/i.test(message))) {
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

/**
 * Whether a call met a fault that may pass: a server fault or a dropped
 * connection, and with `orUnreachable`, an endpoint that did not answer at all.
 */
export function isFault(error: unknown, orUnreachable: boolean): boolean {
  const { name, code, status, serverFault } = describe(error);
  return serverFault || (status !== undefined && status >= 500) || DROPPED_CODES.includes(code) || (orUnreachable && unreachable(name, code));
}

/** Whether a call got no answer in time (a request or connection timeout): the endpoint may be there, only slow. */
export function timedOut(error: unknown): boolean {
  const { name, code } = describe(error);
  return name === 'TimeoutError' || name === 'AbortError' || code === 'ETIMEDOUT';
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

export function waiterNotStartedError(context: Context, error: unknown): DeploymentError {
  const { name } = describe(error);
  return new DeploymentError(`The cancel for Proton service '${context.serviceName}' in ${context.region} was not started: AWS Step Functions refused or did not answer the start of its waiter (${name}); deploy again later.`);
}

/**
 * A step of the waiter failed in AWS Lambda itself (a timeout, an error the
 * handler did not expect) after the state machine's retries. Only the error's
 * name is quoted: its cause holds JSON, a trace and request ids.
 */
export function waiterFailedError(context: Context, failure: { readonly Error?: string; readonly Cause?: string }): DeploymentError {
  const error = failure.Error ?? 'an unknown error';
  return new DeploymentError(`The wait for the pipeline deployment of Proton service '${context.serviceName}' in ${context.region} stopped: its step failed in AWS Lambda with ${error}; deploy again later, and if it persists, look for the step's error in the provider's log group.`);
}

export function responseUrlNotStoredError(context: Context, error: unknown): DeploymentError {
  const { name } = describe(error);
  return new DeploymentError(`The cancel for Proton service '${context.serviceName}' in ${context.region} was not started: AWS Systems Manager Parameter Store, which keeps the request's response URL out of the waiter's history, refused or did not answer (${name}); deploy again later.`);
}
