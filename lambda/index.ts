/**
 * The provider's Lambda entry points for `Custom::ProtonCancelPipelineDeployment`.
 * No function of the provider invokes another synchronously, so a low Lambda
 * concurrency delays requests instead of failing them:
 *
 * - `onEvent` is the ServiceToken, invoked by CloudFormation asynchronously. It
 *   sends the cancel (`cancel.ts`) and answers CloudFormation itself, or, when
 *   a final status must be awaited, starts the waiter state machine.
 * - `isComplete` is the waiter's task: one poll per call. It answers
 *   CloudFormation at a final status, a failure or the timeout, and returns
 *   whether it did. Given the waiter's caught `Error`, it answers FAILED.
 */
import type { Context as LambdaContext } from 'aws-lambda';
import { Attributes, LIMITS } from '../lib/contract';
import { checkComplete, handleEvent, IsCompleteRequest, log, OnEventResponse, ResourceEvent } from './cancel';
import { Context, outOfTimeError, waiterFailedError, waiterNotStartedError } from './errors';
import { Answer, sendAnswer } from './respond';
import { startWaiter } from './sdk';

export type { ResourceEvent } from './cancel';

/** The waiter's input: the request, what `onEvent` found, and the waiter's caught error, if any. */
export type WaiterInput = IsCompleteRequest & {
  readonly PhysicalResourceId: string;
  readonly Data: Attributes;
  readonly WaitStartedAt: number;
  readonly Error?: { readonly Error?: string; readonly Cause?: string };
};

/**
 * Time kept at the end of the function's timeout for a FAILED answer, so that
 * a request never goes unanswered because the function timed out.
 */
export const ANSWER_MARGIN_MS = 20_000;

export async function onEvent(event: ResourceEvent, context?: Pick<LambdaContext, 'getRemainingTimeInMillis'>): Promise<void> {
  const budgetMs = context ? context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS : undefined;
  const outcome = await withinTime(handleEvent(event), budgetMs);
  let answer: Answer;
  if (outcome === 'out-of-time') {
    answer = failed(event, outOfTimeError(contextOf(event), budgetMs! / 1000).message);
  } else if ('error' in outcome) {
    answer = failed(event, (outcome.error as Error).message);
  } else if (outcome.value.WaitStartedAt === undefined) {
    answer = succeeded(outcome.value);
  } else {
    const started = await startWait(event, outcome.value);
    if (started === true) {
      return;
    }
    answer = failed(event, started.message);
  }
  await answerAndLog(event, answer);
}

export async function isComplete(input: WaiterInput): Promise<boolean> {
  let answer: Answer;
  if (input.Error) {
    answer = failed(input, waiterFailedError(contextOf(input), input.Error).message);
  } else {
    try {
      const result = await checkComplete(input);
      if (!result.IsComplete) {
        return false;
      }
      answer = { status: 'SUCCESS', physicalResourceId: input.PhysicalResourceId, data: { ...input.Data, ...result.Data } };
    } catch (error) {
      answer = failed(input, (error as Error).message);
    }
  }
  // A PUT that fails throws: the waiter catches it and tries a FAILED answer.
  await answerAndLog(input, answer);
  return true;
}

/** Starts the waiter: `true`, or the error to answer with. */
async function startWait(event: ResourceEvent, response: OnEventResponse): Promise<true | Error> {
  const input = { ...event, PhysicalResourceId: response.PhysicalResourceId, Data: response.Data, WaitStartedAt: response.WaitStartedAt };
  try {
    await startWaiter(process.env.WAITER_STATE_MACHINE_ARN!, event.RequestId, JSON.stringify(input));
  } catch (error) {
    if ((error as Error).name === 'ExecutionAlreadyExists') {
      // A retried invocation of a request whose waiter already runs: the waiter answers.
      log('waiter-already-started', { requestId: event.RequestId });
      return true;
    }
    return waiterNotStartedError(contextOf(event), error);
  }
  log('waiter-started', { serviceName: contextOf(event).serviceName });
  return true;
}

async function answerAndLog(request: ResourceEvent, answer: Answer): Promise<void> {
  try {
    await sendAnswer(request, answer);
  } catch (error) {
    log('answer-failed', { status: answer.status, error: (error as Error).message });
    throw error;
  }
  // A SUCCESS has no reason: JSON leaves the undefined out.
  log('answered', { status: answer.status, reason: (answer as { reason?: string }).reason });
}

function succeeded(response: OnEventResponse): Answer {
  return { status: 'SUCCESS', physicalResourceId: response.PhysicalResourceId, data: response.Data };
}

/**
 * A FAILED answer. A Create that fails gets the service name as its physical
 * id when the name is valid (the Delete of the rollback makes no call either
 * way), else the request id.
 */
function failed(request: ResourceEvent, reason: string): Answer {
  const name: unknown = request.ResourceProperties.ServiceName;
  const createdId = typeof name === 'string' && name.length <= LIMITS.serviceNameMaxLength && LIMITS.serviceNamePattern.test(name) ? name : request.RequestId;
  return { status: 'FAILED', physicalResourceId: request.RequestType === 'Create' ? createdId : request.PhysicalResourceId, reason };
}

function contextOf(request: ResourceEvent): Context {
  return { serviceName: String(request.ResourceProperties.ServiceName), region: process.env.AWS_REGION ?? 'an unknown region' };
}

/** The work's value or error, or `'out-of-time'` when `budgetMs` passed first. */
async function withinTime<T>(work: Promise<T>, budgetMs: number | undefined): Promise<{ value: T } | { error: unknown } | 'out-of-time'> {
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<'out-of-time'>(resolve => {
    if (budgetMs !== undefined) {
      timer = setTimeout(() => resolve('out-of-time'), budgetMs);
    }
  });
  try {
    return await Promise.race([work.then(value => ({ value }), error => ({ error })), outOfTime]);
  } finally {
    clearTimeout(timer);
  }
}
