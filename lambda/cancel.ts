/**
 * What a Create or Update of `Custom::ProtonCancelPipelineDeployment` does,
 * one waiter step at a time: `step` takes the waiter's state and returns it
 * with either the next `Progress` (poll again after the interval) or the
 * `Answer`, decided once. `index.ts` sends the answer.
 *
 * A transient fault never decides: a step that meets throttling, a server
 * fault or a dropped connection returns its progress unchanged and is taken
 * again at the next interval.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ATTRIBUTE, Attributes, DEFAULTS, ResourceProperties } from '../lib/contract';
import { firstStep, isFinal, isKnownStatus, toAttributes } from './decide';
import {
  Context, explainProtonError, invalidPropertyError, isFault, noPipelineError, timedOut, noServiceError, notCancelledError, nothingToCancelError, timeoutError,
} from './errors';
import type { Answer } from './respond';
import { retryKind, timing, withRetries } from './retry';
import { cancelPipelineDeployment, getPipeline, getStackStatus, PipelineState } from './sdk';
import { propertyProblem } from './validate';

export type ResourceEvent = CloudFormationCustomResourceEvent & { ResourceProperties: ResourceProperties };

/** A request as the waiter carries it: everything but its `ResponseURL`, which only the provider's functions may read. */
export type WaiterRequest = ResourceEvent extends infer E ? E extends unknown ? Omit<E, 'ResponseURL'> : never : never;

/** How far a request has come; kept in the waiter's state between steps. */
export interface Progress {
  /** Epoch milliseconds the request reached the provider: the wait's `timeout` counts from it. */
  readonly StartedAt: number;
  /** `start` until the first step (read, cancel) is done, then `wait`. */
  readonly Phase: 'start' | 'wait';
  /** A cancel went out and its answer never came back: Proton may have taken it. */
  readonly CancelMayHaveLanded?: boolean;
  /** From the first step, for the wait: whether this request's cancel was taken (the answer's `CancellationRequested`). */
  readonly CancellationRequested?: boolean;
}

/** The waiter's state: the request, its progress, and once decided, its answer (or the error the waiter caught). */
export type WaiterState = WaiterRequest & {
  readonly Progress?: Progress;
  readonly Answer?: Answer;
  readonly Error?: { readonly Error?: string; readonly Cause?: string };
};

/**
 * How long the first step is repeated after server faults and dropped
 * connections: long enough for a passing fault, short enough that a Proton
 * answering only faults fails the stack in minutes. Throttling is repeated
 * until the timeout; an endpoint that cannot be reached at all fails at once.
 */
export const FAULT_WINDOW_MS = 120_000;

/** Statuses a cancel of ours leads to: CANCELLING, then CANCELLED, or FAILED when the cancel fails. */
const AFTER_CANCEL = ['CANCELLING', 'CANCELLED', 'FAILED'];

interface Options extends Context {
  readonly waitForFinalStatus: boolean;
  readonly timeoutSeconds: number;
  readonly failIfNothingToCancel: boolean;
  readonly failUnlessCancelled: boolean;
  /** Epoch milliseconds past which the wait has timed out. */
  readonly deadline: number;
}

/** A step's outcome: wait and step again with this progress, or the answer. */
type Outcome = Progress | Answer;

/**
 * One step of the waiter for a Create or Update.
 *
 * @param arrivedAt when the request reached the provider (read once, at the first step)
 */
export async function step(state: WaiterState, arrivedAt: () => Promise<number | undefined>): Promise<WaiterState> {
  let progress = state.Progress;
  if (progress === undefined) {
    const startedAt = await startTime(arrivedAt);
    if (startedAt === 'gone') {
      // onEvent answered the request itself and removed its URL: nothing to do, nothing the answer task could send.
      log('request-already-answered', { requestId: state.RequestId });
      return { ...state, Answer: failure(state, 'The request was answered before its waiter took a step.') };
    }
    progress = { StartedAt: startedAt, Phase: 'start' };
  }
  const opts = options(state, progress);
  let outcome: Outcome;
  try {
    outcome = progress.Phase === 'start' ? await first(state, opts, progress) : await poll(opts, progress);
  } catch (error) {
    // A Create, or an Update read as a forward one: the failure is the answer.
    outcome = failure(state, (error as Error).message);
  }
  return isAnswer(outcome) ? { ...state, Progress: progress, Answer: outcome } : { ...state, Progress: outcome };
}

/**
 * The answer to a request that could not be taken to its end. A Create fails:
 * it gets the service name as its physical id when the name is valid (the
 * Delete of the rollback makes no call either way), else the request id. An
 * Update never fails without having read a forward update: it reports, with
 * empty attributes, so that no rollback can fail because of it.
 */
export function fallbackAnswer(request: WaiterRequest, reason: string): Answer {
  if (request.RequestType === 'Update') {
    const name = request.ResourceProperties.ServiceName;
    log('update-reported', { serviceName: String(name), instead: reason });
    return { status: 'SUCCESS', physicalResourceId: validName(name) ? name : request.PhysicalResourceId, data: emptyAttributes() };
  }
  return failure(request, reason);
}

/** A FAILED answer, with the physical id `fallbackAnswer` describes. */
function failure(request: WaiterRequest, reason: string): Answer {
  const name = request.ResourceProperties.ServiceName;
  const createdId = validName(name) ? name : request.RequestId;
  return { status: 'FAILED', physicalResourceId: request.RequestType === 'Create' ? createdId : request.PhysicalResourceId, reason };
}

function validName(name: unknown): name is string {
  return propertyProblem({ ServiceName: name as string }) === undefined;
}

/** The attributes of an Update that could not read the pipeline. */
function emptyAttributes(): Attributes {
  const empty = Object.fromEntries(Object.values(ATTRIBUTE).map(name => [name, ''])) as Attributes;
  return { ...empty, [ATTRIBUTE.cancellationRequested]: 'false' };
}

async function first(state: WaiterState, opts: Options, progress: Progress): Promise<Outcome> {
  switch (state.RequestType) {
    case 'Create': {
      const problem = propertyProblem(state.ResourceProperties);
      if (problem !== undefined) {
        throw invalidPropertyError(opts, problem);
      }
      return startCancel(opts, progress);
    }
    case 'Update':
      return update(state, opts, progress);
    case 'Delete':
      // onEvent answers Deletes itself; nothing to undo either way.
      return { status: 'SUCCESS', physicalResourceId: state.PhysicalResourceId };
  }
}

/**
 * Update: cancels again only when `Trigger` (or the service name) changed and
 * the stack status was read as a forward update. Every other Update reports
 * the pipeline as it is and never fails: a rollback, an unreadable stack
 * status, a change of options only.
 */
async function update(state: WaiterState & { OldResourceProperties: Record<string, unknown> }, opts: Options, progress: Progress): Promise<Outcome> {
  const problem = propertyProblem(state.ResourceProperties);
  // A new service name comes as an Update too: the new physical id in the answer makes it a replacement.
  const cancelAsked = state.OldResourceProperties.Trigger !== state.ResourceProperties.Trigger
    || state.OldResourceProperties.ServiceName !== state.ResourceProperties.ServiceName;
  if (problem === undefined && !cancelAsked) {
    return reportOnly(opts, progress);
  }
  let stackStatus: string | undefined;
  try {
    stackStatus = await getStackStatus(state.StackId);
  } catch (error) {
    if (isPassing(error, progress, opts)) {
      log('stack-status-repeat', { error: (error as Error).message });
      return progress;
    }
    log('stack-status-unknown', { error: (error as Error).message });
  }
  if (stackStatus !== 'UPDATE_IN_PROGRESS') {
    log('report-only', { serviceName: opts.serviceName, stackStatus: stackStatus ?? 'unknown' });
    return reportOnly(opts, progress);
  }
  if (problem !== undefined) {
    throw invalidPropertyError(opts, problem);
  }
  return startCancel(opts, progress);
}

/**
 * Create and Update: read the pipeline and cancel what is in progress. A
 * cancel that may have landed before a fault counts as ours when the
 * pipeline shows a cancel's course.
 */
async function startCancel(opts: Options, progress: Progress): Promise<Outcome> {
  let pipeline: PipelineState;
  try {
    pipeline = await read(opts);
  } catch (error) {
    return repeatOrThrow(error, opts, progress);
  }
  const ours = progress.CancelMayHaveLanded === true && AFTER_CANCEL.includes(pipeline.deploymentStatus);
  const next = ours ? 'ours' : firstStep(pipeline.deploymentStatus);
  log('read', { serviceName: opts.serviceName, deploymentStatus: pipeline.deploymentStatus, next, ...unknown(pipeline) });

  switch (next) {
    case 'ours':
      return settleOrWait(opts, progress, pipeline, true);
    case 'cancel': {
      let result: [PipelineState, boolean];
      try {
        result = await cancel(opts, progress);
      } catch (error) {
        const landed = progress.CancelMayHaveLanded || (error as { cancelMayHaveLanded?: boolean }).cancelMayHaveLanded === true;
        return repeatOrThrow(error, opts, { ...progress, ...(landed ? { CancelMayHaveLanded: true } : {}) });
      }
      return settleOrWait(opts, progress, ...result);
    }
    case 'wait':
      return settleOrWait(opts, progress, pipeline, false);
    case 'nothing-to-cancel':
      if (opts.failIfNothingToCancel) {
        throw nothingToCancelError(opts, pipeline.deploymentStatus);
      }
      return report(opts, pipeline, false);
  }
}

/** Reports a final status at once, or goes on to wait for one. */
function settleOrWait(opts: Options, progress: Progress, pipeline: PipelineState, cancellationRequested: boolean): Outcome {
  const answer = report(opts, pipeline, cancellationRequested);
  if (isFinal(pipeline.deploymentStatus)) {
    checkOutcome(opts, pipeline.deploymentStatus);
    return answer;
  }
  return opts.waitForFinalStatus ? { StartedAt: progress.StartedAt, Phase: 'wait', CancellationRequested: cancellationRequested } : answer;
}

/**
 * One poll: the answer at a final status, a failure past the timeout, else the
 * same progress. A poll that is throttled, meets a server fault or a dropped
 * connection, or gets no answer in time, is repeated while the timeout allows
 * (the first step reached Proton: it was there); an endpoint that refuses the
 * connection or is not found any more fails the wait at once.
 */
async function poll(opts: Options, progress: Progress): Promise<Outcome> {
  let pipeline: PipelineState;
  try {
    pipeline = await read(opts, true);
  } catch (error) {
    const cause = (error as Error).cause;
    if ((retryKind(cause) === 'throttled' || isFault(cause, false) || timedOut(cause)) && Date.now() < opts.deadline) {
      log('poll-failed', { serviceName: opts.serviceName, waitedSeconds: waited(progress), error: (error as Error).message });
      return progress;
    }
    throw error;
  }
  log('poll', { serviceName: opts.serviceName, deploymentStatus: pipeline.deploymentStatus, waitedSeconds: waited(progress), ...unknown(pipeline) });

  if (isFinal(pipeline.deploymentStatus)) {
    checkOutcome(opts, pipeline.deploymentStatus);
    // CancellationRequested is the first step's: only the pipeline moved since.
    return report(opts, pipeline, progress.CancellationRequested === true);
  }
  if (Date.now() >= opts.deadline) {
    throw timeoutError(opts, pipeline.deploymentStatus, waited(progress));
  }
  return progress;
}

/**
 * An Update that does not cancel: report the pipeline as it is and never
 * fail, so that neither a change of options nor a rollback can fail because
 * of this resource. A passing fault is waited out like any other.
 */
async function reportOnly(opts: Options, progress: Progress): Promise<Outcome> {
  try {
    return report(opts, await read(opts), false);
  } catch (error) {
    if (isPassing((error as Error).cause, progress, opts)) {
      log('report-repeat', { serviceName: opts.serviceName, error: (error as Error).message });
      return progress;
    }
    log('report-read-failed', { serviceName: opts.serviceName, error: (error as Error).message });
    return { status: 'SUCCESS', physicalResourceId: opts.serviceName, data: emptyAttributes() };
  }
}

/** Reads the pipeline; a failed call throws our sentence, with the SDK's error as `cause`. */
async function read(opts: Options, forPoll = false): Promise<PipelineState> {
  let pipeline: Awaited<ReturnType<typeof getPipeline>>;
  try {
    // Throttling is not retried in place: the step is taken again at the next interval.
    pipeline = await withRetries(() => getPipeline(opts.serviceName, forPoll), timing.now());
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
 * lose), reports the status it reached, not accepted; when it refuses after an
 * earlier attempt of ours went unanswered, and the pipeline shows a cancel's
 * course, that attempt was taken. An error thrown says, as
 * `cancelMayHaveLanded`, whether Proton may have taken an attempt.
 */
async function cancel(opts: Options, progress: Progress): Promise<[state: PipelineState, accepted: boolean]> {
  let answer: PipelineState | undefined;
  try {
    answer = await withRetries(() => cancelPipelineDeployment(opts.serviceName), timing.now());
  } catch (error) {
    const refused = ['ValidationException', 'ConflictException'].includes((error as Error).name);
    const earlierUnanswered = attemptsOf(error) > 1 || progress.CancelMayHaveLanded === true;
    const landedMark = { cancelMayHaveLanded: earlierUnanswered || !(refused || retryKind(error) === 'throttled') };
    if (refused) {
      const now = await readMarked(opts, landedMark);
      if (earlierUnanswered && AFTER_CANCEL.includes(now.deploymentStatus)) {
        log('cancel-landed-earlier', { serviceName: opts.serviceName, deploymentStatus: now.deploymentStatus });
        return [now, true];
      }
      if (now.deploymentStatus !== 'IN_PROGRESS') {
        log('cancel-lost-race', { serviceName: opts.serviceName, deploymentStatus: now.deploymentStatus });
        return [now, false];
      }
    }
    throw Object.assign(explainProtonError(error, 'CancelServicePipelineDeployment', opts), { cause: error }, landedMark);
  }
  // An accepted cancel whose answer lacks the pipeline: read it.
  const state = answer ?? await readMarked(opts, { cancelMayHaveLanded: true });
  log('cancel-sent', { serviceName: opts.serviceName, deploymentStatus: state.deploymentStatus });
  return [state, true];
}

/** A read after a cancel: a failure carries what is known of the cancel. */
async function readMarked(opts: Options, mark: { cancelMayHaveLanded: boolean }): Promise<PipelineState> {
  try {
    return await read(opts);
  } catch (error) {
    throw Object.assign(error as Error, mark);
  }
}

/** The first step after a failed call: the same progress when the fault is passing, else the error. */
function repeatOrThrow(error: unknown, opts: Options, progress: Progress): Progress {
  if (isPassing((error as Error).cause, progress, opts)) {
    log('step-repeat', { serviceName: opts.serviceName, error: (error as Error).message });
    return progress;
  }
  throw error;
}

/**
 * Whether a failed call of the first step is repeated: throttling until the
 * timeout, a server fault or dropped connection within `FAULT_WINDOW_MS`.
 */
function isPassing(cause: unknown, progress: Progress, opts: Options): boolean {
  const now = Date.now();
  if (now >= opts.deadline) {
    return false;
  }
  return retryKind(cause) === 'throttled' || (isFault(cause, false) && now - progress.StartedAt < FAULT_WINDOW_MS);
}

function checkOutcome(opts: Options, deploymentStatus: string): void {
  if (opts.failUnlessCancelled && deploymentStatus !== 'CANCELLED') {
    throw notCancelledError(opts, deploymentStatus);
  }
}

function report(opts: Options, pipeline: PipelineState, cancellationRequested: boolean): Answer {
  // Stable for a service: a new service name replaces the resource.
  return { status: 'SUCCESS', physicalResourceId: opts.serviceName, data: toAttributes(pipeline, cancellationRequested) };
}

function options(request: WaiterRequest, progress: Progress): Options {
  const props = request.ResourceProperties;
  // An invalid timeout fails a Create or a forward Update; anything else (a rollback reporting) waits the default.
  const timeoutSeconds = props.TimeoutSeconds !== undefined && propertyProblem({ ServiceName: 's', TimeoutSeconds: props.TimeoutSeconds }) === undefined
    ? Number(props.TimeoutSeconds) : DEFAULTS.timeoutSeconds;
  return {
    serviceName: props.ServiceName,
    region: process.env.AWS_REGION ?? 'an unknown region',
    waitForFinalStatus: flag(props.WaitForFinalStatus, DEFAULTS.waitForFinalStatus),
    timeoutSeconds,
    failIfNothingToCancel: flag(props.FailIfNothingToCancel, DEFAULTS.failIfNothingToCancel),
    failUnlessCancelled: flag(props.FailUnlessCancelled, DEFAULTS.failUnlessCancelled),
    deadline: progress.StartedAt + timeoutSeconds * 1000,
  };
}

/**
 * When the request arrived; now, if that cannot be read (the wait then counts
 * from now); `gone` when the request's response URL is no longer stored.
 */
async function startTime(arrivedAt: () => Promise<number | undefined>): Promise<number | 'gone'> {
  try {
    return await arrivedAt() ?? 'gone';
  } catch (error) {
    log('arrival-unknown', { error: (error as Error).message });
    return Date.now();
  }
}

/** A boolean property: CloudFormation passes 'true' or 'false'; absent means the default. */
function flag(value: string | undefined, defaultValue: boolean): boolean {
  return value === undefined ? defaultValue : value === 'true';
}

function waited(progress: Progress): number {
  return (Date.now() - progress.StartedAt) / 1000;
}

function attemptsOf(error: unknown): number {
  return (error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
}

function isAnswer(outcome: Outcome): outcome is Answer {
  return 'status' in outcome;
}

/** Marks, on a log line, a status outside the published model (reported as final). */
function unknown(pipeline: PipelineState): { unknownStatus?: true } {
  return isKnownStatus(pipeline.deploymentStatus) ? {} : { unknownStatus: true };
}

/** One JSON line per step; never the spec, never the ResponseURL. */
export function log(step: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ step, ...fields }));
}
