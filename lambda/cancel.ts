/**
 * What a request of `Custom::ProtonCancelPipelineDeployment` does:
 * `handleEvent` sends the cancel, `checkComplete` is one poll of the wait for
 * a final status. Both return data or throw; `index.ts` answers CloudFormation.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ATTRIBUTE, Attributes, DEFAULTS, ResourceProperties } from '../lib/contract';
import { firstStep, isFinal, isKnownStatus, toAttributes } from './decide';
import {
  Context, explainProtonError, invalidPropertyError, isTransient, noPipelineError, noServiceError, notCancelledError, nothingToCancelError, timeoutError,
} from './errors';
import { retryKind, timing, withRetries } from './retry';
import { cancelPipelineDeployment, getPipeline, getStackStatus, PipelineState } from './sdk';
import { propertyProblem } from './validate';

/**
 * How long `onEvent` keeps retrying throttled calls (first read, cancel), with
 * full jitter: long enough for 400 instances created at once to get through
 * Proton's rate limits, short enough to end inside the function's timeout.
 * An object so that the load test can compare windows.
 */
export const THROTTLE_RETRY = { onEventMs: 180_000 };

export type ResourceEvent = CloudFormationCustomResourceEvent & { ResourceProperties: ResourceProperties };

export interface OnEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Attributes;
  /** Epoch milliseconds; present when the waiter must poll for a final status. */
  readonly WaitStartedAt?: number;
}

export type IsCompleteRequest = ResourceEvent & Partial<OnEventResponse>;

export interface IsCompleteResponse {
  readonly IsComplete: boolean;
  /** Merged over the `handleEvent` data, whose `CancellationRequested` stands. */
  readonly Data?: Omit<Attributes, typeof ATTRIBUTE.cancellationRequested>;
}

interface Options extends Context {
  /** `timing.now()` until which throttled calls are retried in place. */
  readonly throttledUntil: number;
  readonly waitForFinalStatus: boolean;
  readonly timeoutSeconds: number;
  readonly failIfNothingToCancel: boolean;
  readonly failUnlessCancelled: boolean;
}

export async function handleEvent(event: ResourceEvent): Promise<OnEventResponse> {
  switch (event.RequestType) {
    case 'Create':
      return startCancel(valid(event, THROTTLE_RETRY.onEventMs));
    case 'Update':
      return update(event);
    case 'Delete':
      // Nothing to undo: a cancelled deployment stays cancelled.
      log('delete', { physicalResourceId: event.PhysicalResourceId });
      return { PhysicalResourceId: event.PhysicalResourceId };
  }
}

export async function checkComplete(event: IsCompleteRequest): Promise<IsCompleteResponse> {
  switch (event.RequestType) {
    case 'Create':
    case 'Update':
      // A throttled poll is repeated by the waiter, not retried in place.
      return event.WaitStartedAt === undefined ? { IsComplete: true } : poll(options(event, 0), event.WaitStartedAt);
    case 'Delete':
      return { IsComplete: true };
  }
}

/**
 * Update: cancels again only when `Trigger` changed and the stack is not
 * rolling back; every other Update reports the pipeline as it is, and the
 * changed options apply to the next cancel.
 */
async function update(event: ResourceEvent & { OldResourceProperties: Record<string, unknown> }): Promise<OnEventResponse> {
  const problem = propertyProblem(event.ResourceProperties);
  // A new service name comes as an Update too: the new physical id in the answer makes it a replacement.
  const cancelAsked = event.OldResourceProperties.Trigger !== event.ResourceProperties.Trigger
    || event.OldResourceProperties.ServiceName !== event.ResourceProperties.ServiceName;
  // The stack status is read only when it changes the outcome: a rollback never fails, never cancels.
  const rollingBack = (problem !== undefined || cancelAsked) && await isRollingBack(event.StackId);
  if (!rollingBack && problem !== undefined) {
    throw invalidPropertyError(options(event, 0), problem);
  }
  const opts = options(event, THROTTLE_RETRY.onEventMs);
  return cancelAsked && !rollingBack ? startCancel(opts) : reportOnly(opts, rollingBack ? 'rollback-read-failed' : 'report-read-failed');
}

/**
 * Create and Update: read the pipeline and cancel what is in progress. When
 * the read stays throttled (many instances at once), sends the cancel without
 * it: Proton accepts a cancel only for an IN_PROGRESS deployment, which is the
 * rule the read would apply, and a refused cancel is followed by a read.
 */
async function startCancel(opts: Options): Promise<OnEventResponse> {
  let pipeline: PipelineState;
  try {
    pipeline = await read({ ...opts, throttledUntil: timing.now() });
  } catch (error) {
    if (retryKind((error as Error).cause) !== 'throttled') {
      throw error;
    }
    log('read-throttled', { serviceName: opts.serviceName, next: 'cancel' });
    return settleOrWait(opts, ...await cancel(opts));
  }
  const next = firstStep(pipeline.deploymentStatus);
  log('read', { serviceName: opts.serviceName, deploymentStatus: pipeline.deploymentStatus, next, ...unknown(pipeline) });

  switch (next) {
    case 'cancel':
      return settleOrWait(opts, ...await cancel(opts));
    case 'wait':
      return settleOrWait(opts, pipeline, false);
    case 'nothing-to-cancel':
      if (opts.failIfNothingToCancel) {
        throw nothingToCancelError(opts, pipeline.deploymentStatus);
      }
      return respond(opts, pipeline, false);
  }
}

/** Reports a final status at once, or hands over to the waiter to poll. */
function settleOrWait(opts: Options, pipeline: PipelineState, cancellationRequested: boolean): OnEventResponse {
  const response = respond(opts, pipeline, cancellationRequested);
  if (isFinal(pipeline.deploymentStatus)) {
    checkOutcome(opts, pipeline.deploymentStatus);
    return response;
  }
  return opts.waitForFinalStatus ? { ...response, WaitStartedAt: Date.now() } : response;
}

/**
 * One poll: complete at a final status, fail past the timeout, else ask to be
 * called again. A poll that is throttled, or meets a server fault or an
 * unreachable endpoint, is a poll to repeat while the timeout allows.
 */
async function poll(opts: Options, waitStartedAt: number): Promise<IsCompleteResponse> {
  let pipeline: PipelineState;
  try {
    pipeline = await read(opts, true);
  } catch (error) {
    const waitedSeconds = (Date.now() - waitStartedAt) / 1000;
    if (isRepeatable((error as Error).cause) && waitedSeconds < opts.timeoutSeconds) {
      log('poll-failed', { serviceName: opts.serviceName, waitedSeconds, error: (error as Error).message });
      return { IsComplete: false };
    }
    throw error;
  }
  const waitedSeconds = (Date.now() - waitStartedAt) / 1000;
  log('poll', { serviceName: opts.serviceName, deploymentStatus: pipeline.deploymentStatus, waitedSeconds, ...unknown(pipeline) });

  if (isFinal(pipeline.deploymentStatus)) {
    checkOutcome(opts, pipeline.deploymentStatus);
    // Keep CancellationRequested from onEvent: only the status moved.
    const { [ATTRIBUTE.cancellationRequested]: _, ...data } = toAttributes(pipeline, false);
    return { IsComplete: true, Data: data };
  }
  if (waitedSeconds >= opts.timeoutSeconds) {
    throw timeoutError(opts, pipeline.deploymentStatus, waitedSeconds);
  }
  return { IsComplete: false };
}

/**
 * An Update that does not cancel (no `Trigger` change, or a stack rollback):
 * report the pipeline as it is and never fail, so that neither a change of
 * options nor a rollback can fail because of this resource.
 */
async function reportOnly(opts: Options, failedStep: string): Promise<OnEventResponse> {
  try {
    return respond(opts, await read(opts), false);
  } catch (error) {
    log(failedStep, { serviceName: opts.serviceName, error: (error as Error).message });
    const empty = Object.fromEntries(Object.values(ATTRIBUTE).map(name => [name, ''])) as Attributes;
    return { PhysicalResourceId: opts.serviceName, Data: { ...empty, [ATTRIBUTE.cancellationRequested]: 'false' } };
  }
}

/** Reads the pipeline; a failed call throws our sentence, with the SDK's error as `cause`. */
async function read(opts: Options, forPoll = false): Promise<PipelineState> {
  let pipeline: Awaited<ReturnType<typeof getPipeline>>;
  try {
    pipeline = await withRetries(() => getPipeline(opts.serviceName, forPoll), opts.throttledUntil);
  } catch (error) {
    throw Object.assign(explainProtonError(error, 'GetService', opts), { cause: error });
  }
  if (pipeline === 'no-service') {
    throw noServiceError(opts);
  }
  if (pipeline === 'no-pipeline') {
    throw noPipelineError(opts);
  }
  return pipeline;
}

/**
 * Sends the cancel; `accepted` says whether Proton took it. When Proton refuses
 * because the deployment finished in the meantime (the race the cancel can
 * lose), reports the status it reached, not accepted.
 */
async function cancel(opts: Options): Promise<[state: PipelineState, accepted: boolean]> {
  let answer: PipelineState | undefined;
  try {
    answer = await withRetries(() => cancelPipelineDeployment(opts.serviceName), opts.throttledUntil);
  } catch (error) {
    const refused = ['ValidationException', 'ConflictException'].includes((error as Error).name);
    const now = refused ? await read(opts) : undefined;
    if (now && now.deploymentStatus !== 'IN_PROGRESS') {
      log('cancel-lost-race', { serviceName: opts.serviceName, deploymentStatus: now.deploymentStatus });
      return [now, false];
    }
    throw explainProtonError(error, 'CancelServicePipelineDeployment', opts);
  }
  // An accepted cancel whose answer lacks the pipeline: read it.
  const state = answer ?? await read(opts);
  log('cancel-sent', { serviceName: opts.serviceName, deploymentStatus: state.deploymentStatus });
  return [state, true];
}

function checkOutcome(opts: Options, deploymentStatus: string): void {
  if (opts.failUnlessCancelled && deploymentStatus !== 'CANCELLED') {
    throw notCancelledError(opts, deploymentStatus);
  }
}

function respond(opts: Options, pipeline: PipelineState, cancellationRequested: boolean): OnEventResponse {
  // Stable for a service: a new service name replaces the resource.
  return { PhysicalResourceId: opts.serviceName, Data: toAttributes(pipeline, cancellationRequested) };
}

async function isRollingBack(stackId: string): Promise<boolean> {
  try {
    return await getStackStatus(stackId) === 'UPDATE_ROLLBACK_IN_PROGRESS';
  } catch (error) {
    // Without the stack status, treat the update as a forward one.
    log('stack-status-unknown', { error: (error as Error).message });
    return false;
  }
}

/** The options of a Create, checked before any Proton call. */
function valid(event: ResourceEvent, throttleRetryMs: number): Options {
  const opts = options(event, throttleRetryMs);
  const problem = propertyProblem(event.ResourceProperties);
  if (problem !== undefined) {
    throw invalidPropertyError(opts, problem);
  }
  return opts;
}

function options(event: ResourceEvent, throttleRetryMs: number): Options {
  const props = event.ResourceProperties;
  return {
    serviceName: props.ServiceName,
    region: process.env.AWS_REGION ?? 'an unknown region',
    throttledUntil: timing.now() + throttleRetryMs,
    waitForFinalStatus: flag(props.WaitForFinalStatus, DEFAULTS.waitForFinalStatus),
    timeoutSeconds: props.TimeoutSeconds ? Number(props.TimeoutSeconds) : DEFAULTS.timeoutSeconds,
    failIfNothingToCancel: flag(props.FailIfNothingToCancel, DEFAULTS.failIfNothingToCancel),
    failUnlessCancelled: flag(props.FailUnlessCancelled, DEFAULTS.failUnlessCancelled),
  };
}

/** A boolean property: CloudFormation passes 'true' or 'false'; absent means the default. */
function flag(value: string | undefined, defaultValue: boolean): boolean {
  return value === undefined ? defaultValue : value === 'true';
}

/** Whether a failed poll is repeated: throttling, a server fault, an unreachable endpoint. */
function isRepeatable(error: unknown): boolean {
  return retryKind(error) === 'throttled' || isTransient(error);
}

/** Marks, on a log line, a status outside the published model (reported as final). */
function unknown(pipeline: PipelineState): { unknownStatus?: true } {
  return isKnownStatus(pipeline.deploymentStatus) ? {} : { unknownStatus: true };
}

/** One JSON line per step; never the spec, never the ResponseURL. */
export function log(step: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ step, ...fields }));
}
