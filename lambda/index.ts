/**
 * Provider handler for `Custom::ProtonCancelPipelineDeployment`, behind the
 * CDK provider framework: `onEvent` sends the cancel, `isComplete` polls until
 * the pipeline reaches a final status. Both return data or throw; the
 * framework answers CloudFormation.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ATTRIBUTE, Attributes, DEFAULTS, ResourceProperties } from '../lib/contract';
import { firstStep, isFinal, toAttributes } from './decide';
import { Context, explainProtonError, noPipelineError, notCancelledError, nothingToCancelError, timeoutError } from './errors';
import { cancelPipelineDeployment, getPipeline, getStackStatus, PipelineState } from './sdk';

export type ResourceEvent = CloudFormationCustomResourceEvent & { ResourceProperties: ResourceProperties };

export interface OnEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Attributes;
  /** Epoch milliseconds; present when `isComplete` must poll for a final status. */
  readonly WaitStartedAt?: number;
}

export type IsCompleteRequest = ResourceEvent & Partial<OnEventResponse>;

export interface IsCompleteResponse {
  readonly IsComplete: boolean;
  /** Merged by the framework over the `onEvent` data, whose `CancellationRequested` stands. */
  readonly Data?: Omit<Attributes, typeof ATTRIBUTE.cancellationRequested>;
}

interface Options extends Context {
  readonly waitForFinalStatus: boolean;
  readonly timeoutSeconds: number;
  readonly failIfNothingToCancel: boolean;
  readonly failUnlessCancelled: boolean;
}

export async function onEvent(event: ResourceEvent): Promise<OnEventResponse> {
  switch (event.RequestType) {
    case 'Create':
      return startCancel(options(event));
    case 'Update':
      return await isRollingBack(event.StackId) ? reportOnly(options(event)) : startCancel(options(event));
    case 'Delete':
      // Nothing to undo: a cancelled deployment stays cancelled.
      log('delete', { physicalResourceId: event.PhysicalResourceId });
      return { PhysicalResourceId: event.PhysicalResourceId };
  }
}

export async function isComplete(event: IsCompleteRequest): Promise<IsCompleteResponse> {
  switch (event.RequestType) {
    case 'Create':
    case 'Update':
      return event.WaitStartedAt === undefined ? { IsComplete: true } : poll(options(event), event.WaitStartedAt);
    case 'Delete':
      return { IsComplete: true };
  }
}

/** Create and Update: read the pipeline and cancel what is in progress. */
async function startCancel(opts: Options): Promise<OnEventResponse> {
  const pipeline = await read(opts);
  const next = firstStep(pipeline.deploymentStatus);
  log('read', { serviceName: opts.serviceName, deploymentStatus: pipeline.deploymentStatus, next });

  switch (next) {
    case 'cancel':
      return settleOrWait(opts, await cancel(opts), true);
    case 'wait':
      return settleOrWait(opts, pipeline, false);
    case 'nothing-to-cancel':
      if (opts.failIfNothingToCancel) {
        throw nothingToCancelError(opts, pipeline.deploymentStatus);
      }
      return respond(opts, pipeline, false);
  }
}

/** Reports a final status at once, or hands over to `isComplete` to poll. */
function settleOrWait(opts: Options, pipeline: PipelineState, cancellationRequested: boolean): OnEventResponse {
  const response = respond(opts, pipeline, cancellationRequested);
  if (isFinal(pipeline.deploymentStatus)) {
    checkOutcome(opts, pipeline.deploymentStatus);
    return response;
  }
  return opts.waitForFinalStatus ? { ...response, WaitStartedAt: Date.now() } : response;
}

/** One poll: complete at a final status, fail past the timeout, else ask to be called again. */
async function poll(opts: Options, waitStartedAt: number): Promise<IsCompleteResponse> {
  const pipeline = await read(opts);
  const waitedSeconds = (Date.now() - waitStartedAt) / 1000;
  log('poll', { serviceName: opts.serviceName, deploymentStatus: pipeline.deploymentStatus, waitedSeconds });

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
 * Update during a stack rollback: report the pipeline as it is and never fail,
 * so the rollback cannot end in UPDATE_ROLLBACK_FAILED because of this resource.
 */
async function reportOnly(opts: Options): Promise<OnEventResponse> {
  try {
    return respond(opts, await read(opts), false);
  } catch (error) {
    log('rollback-read-failed', { serviceName: opts.serviceName, error: (error as Error).message });
    const empty = Object.fromEntries(Object.values(ATTRIBUTE).map(name => [name, ''])) as Attributes;
    return { PhysicalResourceId: opts.serviceName, Data: { ...empty, [ATTRIBUTE.cancellationRequested]: 'false' } };
  }
}

async function read(opts: Options): Promise<PipelineState> {
  let pipeline: PipelineState | undefined;
  try {
    pipeline = await getPipeline(opts.serviceName);
  } catch (error) {
    throw explainProtonError(error, 'GetService', opts);
  }
  if (!pipeline) {
    throw noPipelineError(opts);
  }
  return pipeline;
}

/**
 * Sends the cancel. When Proton refuses because the deployment finished in
 * the meantime (the race the cancel can lose), reports the status it reached.
 */
async function cancel(opts: Options): Promise<PipelineState> {
  try {
    const pipeline = await cancelPipelineDeployment(opts.serviceName);
    log('cancel-sent', { serviceName: opts.serviceName, deploymentStatus: pipeline.deploymentStatus });
    return pipeline;
  } catch (error) {
    const refused = ['ValidationException', 'ConflictException'].includes((error as Error).name);
    const now = refused ? await read(opts) : undefined;
    if (now && now.deploymentStatus !== 'IN_PROGRESS') {
      log('cancel-lost-race', { serviceName: opts.serviceName, deploymentStatus: now.deploymentStatus });
      return now;
    }
    throw explainProtonError(error, 'CancelServicePipelineDeployment', opts);
  }
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

function options(event: ResourceEvent): Options {
  const props = event.ResourceProperties;
  return {
    serviceName: props.ServiceName,
    region: process.env.AWS_REGION ?? 'an unknown region',
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

/** One JSON line per step; never the spec, never the ResponseURL. */
function log(step: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ step, ...fields }));
}
