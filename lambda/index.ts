/**
 * The provider's Lambda entry points for `Custom::ProtonCancelPipelineDeployment`.
 * Every request gets one answer, decided once:
 *
 * - `onEvent` is the ServiceToken, invoked by CloudFormation asynchronously
 *   (at least once). A Delete it answers itself: the answer follows from the
 *   request alone. For a Create or Update it keeps the request's response URL
 *   in Parameter Store and starts the waiter state machine, named after the
 *   request, with the request less its URL. A second delivery finds both done.
 * - `isComplete` is the waiter's task. It takes a step (read, cancel, poll) and
 *   returns the waiter's state, with the answer once it is decided; given the
 *   answer (or the error the waiter caught), it sends it, the same body at each
 *   retry, and removes the stored URL.
 */
import type { Context as LambdaContext } from 'aws-lambda';
import { fallbackAnswer, log, ResourceEvent, step, WaiterRequest, WaiterState } from './cancel';
import { Context, responseUrlNotStoredError, waiterFailedError, waiterNotStartedError } from './errors';
import { Answer, AnswerNotSent, sendAnswer } from './respond';
import { timing, withRetries } from './retry';
import { readResponseUrl, removeResponseUrl, responseUrlStoredAt, startWaiter, storeResponseUrl } from './sdk';

export type { ResourceEvent, WaiterState } from './cancel';

/**
 * How long `onEvent` retries throttled calls (store, start), with full jitter:
 * long enough for 400 instances created at once to get through the services'
 * rate limits, short enough to end inside the function's timeout.
 */
export const THROTTLE_RETRY = { onEventMs: 150_000 };

/** Time kept at the end of `onEvent`'s timeout, past its last PUT attempt. */
export const ANSWER_MARGIN_MS = 20_000;

/** How long the waiter's answer task retries a failed PUT in place; the state machine then retries the task. */
export const ANSWER_TASK_PUT_MS = 30_000;

export async function onEvent(event: ResourceEvent, context?: Pick<LambdaContext, 'getRemainingTimeInMillis'>): Promise<void> {
  const remainingMs = context ? context.getRemainingTimeInMillis() : 6 * 60_000;
  const answerUntil = Date.now() + remainingMs - ANSWER_MARGIN_MS;
  if (event.RequestType === 'Delete') {
    // Nothing to undo: a cancelled deployment stays cancelled. An answer not sent throws, and Lambda delivers again.
    log('delete', { physicalResourceId: event.PhysicalResourceId });
    return answerAndLog(event, { status: 'SUCCESS', physicalResourceId: event.PhysicalResourceId }, answerUntil);
  }
  const name = parameterName(event.RequestId);
  const throttledUntil = timing.now() + THROTTLE_RETRY.onEventMs;
  let storedHere: boolean;
  try {
    storedHere = await withRetries(() => storeResponseUrl(name, event.ResponseURL), throttledUntil);
  } catch (error) {
    return answerAndLog(event, fallbackAnswer(event, responseUrlNotStoredError(contextOf(event), error).message), answerUntil);
  }
  try {
    await withRetries(() => startWaiter(process.env.WAITER_STATE_MACHINE_ARN!, event.RequestId, JSON.stringify(waiterInput(event))), throttledUntil);
  } catch (error) {
    if ((error as Error).name === 'ExecutionAlreadyExists') {
      // A delivery after the waiter ended: it has answered.
      await removeQuietly(name);
      log('waiter-already-ran', { requestId: event.RequestId });
      return;
    }
    if (!storedHere) {
      // Another delivery of this request stored the URL: the request is its to start or answer.
      log('waiter-not-started', { requestId: event.RequestId, error: (error as Error).message });
      throw error;
    }
    await removeQuietly(name);
    return answerAndLog(event, fallbackAnswer(event, waiterNotStartedError(contextOf(event), error).message), answerUntil);
  }
  log('waiter-started', { serviceName: contextOf(event).serviceName });
}

/** The waiter's task: a step until the answer is decided, then the answer. */
export async function isComplete(state: WaiterState): Promise<WaiterState | { readonly Answered: string }> {
  if (state.Answer === undefined && state.Error === undefined) {
    return step(state, () => responseUrlStoredAt(parameterName(state.RequestId)));
  }
  const answer = state.Answer ?? fallbackAnswer(state, waiterFailedError(contextOf(state), state.Error!).message);
  const name = parameterName(state.RequestId);
  let responseUrl: string | undefined;
  try {
    responseUrl = await readResponseUrl(name);
  } catch (error) {
    log('answer-failed', { status: answer.status, error: (error as Error).message });
    throw new AnswerNotSent(`Could not read the response URL from Parameter Store: ${(error as Error).name}`, false);
  }
  if (responseUrl === undefined) {
    // Removed after a PUT that went through, by an earlier try of this task.
    log('already-answered', { status: answer.status });
    return { Answered: answer.status };
  }
  try {
    await answerAndLog({ ...state, ResponseURL: responseUrl }, answer, Date.now() + ANSWER_TASK_PUT_MS);
  } catch (error) {
    if ((error as AnswerNotSent).refused) {
      await removeQuietly(name);
    }
    throw error;
  }
  await removeQuietly(name);
  return { Answered: answer.status };
}

/** The request as the waiter gets it: without its response URL, and the same at every delivery. */
export function waiterInput(event: ResourceEvent): WaiterRequest {
  const { ResponseURL: _, ...request } = event;
  return request;
}

/** The Parameter Store name of a request's response URL, under this provider's prefix. */
export function parameterName(requestId: string): string {
  return `${process.env.RESPONSE_URL_PARAMETER_PREFIX}/${requestId}`;
}

async function answerAndLog(request: ResourceEvent, answer: Answer, untilMs: number): Promise<void> {
  try {
    await sendAnswer(request, answer, untilMs);
  } catch (error) {
    log('answer-failed', { status: answer.status, error: (error as Error).message });
    throw error;
  }
  // A SUCCESS has no reason: JSON leaves the undefined out.
  log('answered', { status: answer.status, reason: (answer as { reason?: string }).reason });
}

/** Removes a stored response URL; a failure is logged, never the answer's. */
async function removeQuietly(name: string): Promise<void> {
  try {
    await removeResponseUrl(name);
  } catch (error) {
    log('response-url-not-removed', { error: (error as Error).message });
  }
}

function contextOf(request: WaiterRequest): Context {
  return { serviceName: String(request.ResourceProperties.ServiceName), region: process.env.AWS_REGION ?? 'an unknown region' };
}
