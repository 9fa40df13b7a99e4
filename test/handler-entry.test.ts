/**
 * The Lambda entry points (`lambda/index.ts`): `onEvent` answers a Delete
 * itself and, for a Create or Update, stores the response URL and starts the
 * waiter; `isComplete` takes a step, or sends the decided answer and removes
 * the URL. Parameter Store, Step Functions and Proton are mocked; the answer
 * goes to a local HTTP server standing in for CloudFormation's response URL.
 */
import { CancelServicePipelineDeploymentCommand, GetServiceCommand, ProtonClient } from '@aws-sdk/client-proton';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { ANSWER_MARGIN_MS, ANSWER_TASK_PUT_MS, isComplete, onEvent, ResourceEvent, THROTTLE_RETRY, WaiterState } from '../lambda';
import { defaultProvider } from '../lambda/credentials';
import { putTiming, responseBody } from '../lambda/respond';
import { timing } from '../lambda/retry';
import {
  awsError, captureLogs, event, fakeClocks, pipeline, Properties, REQUEST_ID, responseServer, service, SERVICE, T0, waiterState,
} from './handler-fixtures';

process.env.AWS_REGION = 'eu-west-1';
process.env.WAITER_STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Waiter';
process.env.RESPONSE_URL_PARAMETER_PREFIX = '/cdk-proton-cancel-pipeline-deployment/Stack/a1b2c3d4';

const PARAMETER = `/cdk-proton-cancel-pipeline-deployment/Stack/a1b2c3d4/${REQUEST_ID}`;

const proton = mockClient(ProtonClient);
const stepFunctions = mockClient(SFNClient);
const parameterStore = mockClient(SSMClient);

let cfn: Awaited<ReturnType<typeof responseServer>>;
let logs: ReturnType<typeof captureLogs>;
let clocks: ReturnType<typeof fakeClocks>;
/** The waits between PUT attempts. */
let putSleeps: number[];

beforeAll(async () => {
  cfn = await responseServer();
});

afterAll(() => cfn.close());

beforeEach(() => {
  proton.reset();
  stepFunctions.reset();
  parameterStore.reset();
  stepFunctions.on(StartExecutionCommand).resolves({ executionArn: 'arn:execution', startDate: new Date() });
  parameterStore.on(PutParameterCommand).resolves({ Version: 1 });
  parameterStore.on(DeleteParameterCommand).resolves({});
  cfn.puts.length = 0;
  cfn.statuses.length = 0;
  putSleeps = [];
  clocks = fakeClocks();
  logs = captureLogs();
  jest.spyOn(putTiming, 'sleep').mockImplementation(async (ms) => {
    putSleeps.push(ms);
    jest.setSystemTime(Date.now() + ms);
  });
});

afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

/** A request CloudFormation sends, answered at the local server. */
function request(requestType: 'Create' | 'Update' | 'Delete', properties: Properties = {}, old?: Properties): ResourceEvent {
  return { ...event(requestType, properties, old), ResponseURL: cfn.url };
}

/** A function with a minute left, as Lambda's context tells it. */
const MINUTE_LEFT = { getRemainingTimeInMillis: () => 60_000 };

/** Everything the handler wrote to its log, and every error or output it gave, must never hold the URL. */
function expectNoUrlIn(...texts: string[]): void {
  for (const text of [...texts, ...logs.lines]) {
    expect(text).not.toContain('X-Amz-Signature');
    expect(text).not.toContain('127.0.0.1');
  }
}

describe('onEvent: a Delete', () => {
  test('is answered SUCCESS with its physical id, and calls nothing', async () => {
    await onEvent(request('Delete'), MINUTE_LEFT);

    expect(cfn.puts).toHaveLength(1);
    const { body, method, contentType, contentLength, raw } = cfn.puts[0];
    expect({ method, contentType }).toEqual({ method: 'PUT', contentType: '' });
    expect(Number(contentLength)).toBe(Buffer.byteLength(raw));
    expect(body).toEqual({ Status: 'SUCCESS', PhysicalResourceId: SERVICE, StackId: event('Delete').StackId, RequestId: REQUEST_ID, LogicalResourceId: 'Cancel' });
    expect(logs.steps()).toEqual([{ step: 'delete', physicalResourceId: SERVICE }, { step: 'answered', status: 'SUCCESS' }]);
    expect([proton.calls(), stepFunctions.calls(), parameterStore.calls()]).toEqual([[], [], []]);
  });

  test('after a failed Create keeps the physical id it was given', async () => {
    await onEvent({ ...request('Delete'), PhysicalResourceId: REQUEST_ID } as ResourceEvent, MINUTE_LEFT);

    expect(cfn.puts[0].body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: REQUEST_ID });
  });

  test('whose answer is not taken retries the PUT until 20 seconds before the timeout, then throws for Lambda to deliver again', async () => {
    // GIVEN a response URL that answers 503, and a minute left
    cfn.statuses.push(...Array(20).fill(503));

    // WHEN
    const failure = onEvent(request('Delete'), MINUTE_LEFT);

    // THEN: waits of 1, 2, 4 and 8 s; a fifth attempt at 15 s could end at 25 s, a sixth (after 16 s) past the 40 s left
    await expect(failure).rejects.toThrow("Could not send the SUCCESS answer to CloudFormation's response URL after 5 attempt(s): HTTP 503");
    expect(ANSWER_MARGIN_MS).toBe(20_000);
    expect(putSleeps).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(cfn.puts).toHaveLength(5);
    expect(logs.steps().slice(-1)).toEqual([{
      step: 'answer-failed', status: 'SUCCESS', error: "Could not send the SUCCESS answer to CloudFormation's response URL after 5 attempt(s): HTTP 503",
    }]);
  });

  test('without a context, retries as in a 6-minute function, waits capped at 30 seconds', async () => {
    cfn.statuses.push(...Array(50).fill(500));

    await expect(onEvent(request('Delete'))).rejects.toThrow('after 15 attempt(s): HTTP 500');

    expect(putSleeps).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, ...Array(9).fill(30_000)]);
    // The last attempt began at 301 s and may take 10 s: done before 340 s, 20 s before the timeout.
    expect(Date.now() - T0).toBe(301_000);
  });

  test('work that ends in time leaves no timer behind', async () => {
    await onEvent(request('Delete'), MINUTE_LEFT);

    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('onEvent: a Create or Update', () => {
  test('stores the response URL, then starts the waiter named after the request, and sends no answer', async () => {
    // GIVEN
    const order: string[] = [];
    parameterStore.on(PutParameterCommand).callsFake(async () => { order.push('store'); return {}; });
    stepFunctions.on(StartExecutionCommand).callsFake(async () => { order.push('start'); return {}; });

    // WHEN
    await onEvent(request('Create'), MINUTE_LEFT);

    // THEN
    expect(order).toEqual(['store', 'start']);
    expect(parameterStore.commandCalls(PutParameterCommand)[0].args[0].input).toEqual({ Name: PARAMETER, Value: cfn.url, Type: 'SecureString', Tier: 'Standard', Overwrite: false });
    const start = stepFunctions.commandCalls(StartExecutionCommand)[0].args[0].input;
    expect(start).toEqual({ stateMachineArn: process.env.WAITER_STATE_MACHINE_ARN, name: REQUEST_ID, input: expect.any(String) });
    expect(JSON.parse(start.input!)).toEqual(waiterState('Create'));
    expect(cfn.puts).toEqual([]);
    expect(proton.calls()).toHaveLength(0);
    expect(logs.steps()).toEqual([{ step: 'waiter-started', serviceName: SERVICE }]);
    expectNoUrlIn(start.input!);
  });

  test('the Parameter Store and Step Functions clients take the handler\'s bounds: 5 attempts, 25 s per call', async () => {
    const timeout = jest.spyOn(AbortSignal, 'timeout');

    await onEvent(request('Create'), MINUTE_LEFT);

    const clients = [parameterStore.call(0).thisValue, stepFunctions.call(0).thisValue] as Array<SSMClient | SFNClient>;
    await expect(Promise.all(clients.map(c => c.config.maxAttempts()))).resolves.toEqual([5, 5]);
    expect(timeout.mock.calls).toEqual([[25_000], [25_000]]);
    expect([(parameterStore.call(0).args as unknown[])[1], (stepFunctions.call(0).args as unknown[])[1]]).toEqual(timeout.mock.results.map(r => ({ abortSignal: r.value })));
  });

  test('an Update is started the same way, with its old properties and physical id', async () => {
    await onEvent(request('Update', { Trigger: 'new' }), MINUTE_LEFT);

    const input = JSON.parse(stepFunctions.commandCalls(StartExecutionCommand)[0].args[0].input.input!);
    expect(input).toEqual(waiterState('Update', { Trigger: 'new' }));
    expect(input).toMatchObject({ PhysicalResourceId: SERVICE, OldResourceProperties: { Trigger: 'old' } });
    expect(cfn.puts).toEqual([]);
  });

  test('a second delivery finds the URL stored and the waiter started, with the same input: still no answer', async () => {
    // GIVEN the first delivery stored the URL; Step Functions returns the running execution for the same name and input
    await onEvent(request('Create'), MINUTE_LEFT);
    parameterStore.on(PutParameterCommand).rejects(awsError('ParameterAlreadyExists', 400, 'The parameter already exists.'));
    jest.setSystemTime(Date.now() + 5_000);

    // WHEN
    await onEvent(request('Create'), MINUTE_LEFT);

    // THEN
    const inputs = stepFunctions.commandCalls(StartExecutionCommand).map(c => c.args[0].input);
    expect(inputs).toHaveLength(2);
    expect(inputs[1]).toEqual(inputs[0]);
    expect(cfn.puts).toEqual([]);
    expect(parameterStore.commandCalls(DeleteParameterCommand)).toHaveLength(0);
  });

  test('a delivery after the waiter ended (ExecutionAlreadyExists) removes the URL it stored again and sends nothing', async () => {
    stepFunctions.on(StartExecutionCommand).rejects(awsError('ExecutionAlreadyExists', 400, 'Execution Already Exists'));

    await onEvent(request('Create'), MINUTE_LEFT);

    expect(parameterStore.commandCalls(DeleteParameterCommand).map(c => c.args[0].input)).toEqual([{ Name: PARAMETER }]);
    expect(cfn.puts).toEqual([]);
    expect(logs.steps()).toEqual([{ step: 'waiter-already-ran', requestId: REQUEST_ID }]);
  });

  test('a URL that cannot be removed then is only logged', async () => {
    stepFunctions.on(StartExecutionCommand).rejects(awsError('ExecutionAlreadyExists', 400));
    parameterStore.on(DeleteParameterCommand).rejects(awsError('InternalServerError', 500, 'busy'));

    await expect(onEvent(request('Create'), MINUTE_LEFT)).resolves.toBeUndefined();

    expect(cfn.puts).toEqual([]);
    expect(logs.steps()[0]).toEqual({ step: 'response-url-not-removed', error: 'busy' });
  });

  test.each([
    ['Create', SERVICE],
  ] as const)('a %s whose waiter cannot start: the URL removed, one FAILED answer with the sentence', async (requestType, physicalResourceId) => {
    stepFunctions.on(StartExecutionCommand).rejects(awsError('StateMachineDoesNotExist', 400, `State Machine Does Not Exist: '${process.env.WAITER_STATE_MACHINE_ARN}'`));

    await onEvent(request(requestType), MINUTE_LEFT);

    expect(parameterStore.commandCalls(DeleteParameterCommand).map(c => c.args[0].input)).toEqual([{ Name: PARAMETER }]);
    expect(cfn.puts).toHaveLength(1);
    expect(cfn.puts[0].body).toMatchObject({
      Status: 'FAILED', PhysicalResourceId: physicalResourceId,
      Reason: "The cancel for Proton service 'my-service' in eu-west-1 was not started: AWS Step Functions refused or did not answer the start of its waiter (StateMachineDoesNotExist); deploy again later.",
    });
    expect(logs.steps().slice(-1)).toEqual([{ step: 'answered', status: 'FAILED', reason: cfn.puts[0].body.Reason }]);
  });

  test('an Update whose waiter cannot start reports, never fails: the stack status was not read', async () => {
    stepFunctions.on(StartExecutionCommand).rejects(awsError('StateMachineDoesNotExist', 400, 'State Machine Does Not Exist'));

    await onEvent(request('Update'), MINUTE_LEFT);

    expect(parameterStore.commandCalls(DeleteParameterCommand).map(c => c.args[0].input)).toEqual([{ Name: PARAMETER }]);
    expect(cfn.puts).toHaveLength(1);
    expect(cfn.puts[0].body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: SERVICE, Data: { DeploymentStatus: '', CancellationRequested: 'false' } });
    expect(logs.steps()).toContainEqual(expect.objectContaining({ step: 'update-reported', serviceName: SERVICE }));
  });

  test('a second delivery whose start fails leaves the request to the delivery that stored the URL: no answer, the URL kept, an error for Lambda to retry', async () => {
    parameterStore.on(PutParameterCommand).rejects(awsError('ParameterAlreadyExists', 400, 'The parameter already exists.'));
    stepFunctions.on(StartExecutionCommand).rejects(awsError('ServiceUnavailable', 503, 'unavailable'));

    await expect(onEvent(request('Create'), MINUTE_LEFT)).rejects.toThrow('unavailable');

    expect(cfn.puts).toEqual([]);
    expect(parameterStore.commandCalls(DeleteParameterCommand)).toHaveLength(0);
    expect(logs.steps()).toEqual([{ step: 'waiter-not-started', requestId: REQUEST_ID, error: 'unavailable' }]);
  });

  test('a Create with an invalid service name that cannot start fails under the request id', async () => {
    stepFunctions.on(StartExecutionCommand).rejects(awsError('InvalidExecutionInput', 400));

    await onEvent(request('Create', { ServiceName: 'not a name!' }), MINUTE_LEFT);

    expect(cfn.puts[0].body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: REQUEST_ID });
  });

  test('a URL that cannot be stored: one FAILED answer with the sentence, and no waiter', async () => {
    parameterStore.on(PutParameterCommand).rejects(awsError('ParameterLimitExceeded', 400, `You have exceeded the number of parameters; ${cfn.url}`));

    await onEvent(request('Create'), MINUTE_LEFT);

    expect(stepFunctions.calls()).toHaveLength(0);
    expect(cfn.puts).toHaveLength(1);
    expect(cfn.puts[0].body).toMatchObject({
      Status: 'FAILED', PhysicalResourceId: SERVICE,
      Reason: "The cancel for Proton service 'my-service' in eu-west-1 was not started: AWS Systems Manager Parameter Store, which keeps the request's response URL out of the waiter's history, refused or did not answer (ParameterLimitExceeded); deploy again later.",
    });
    expectNoUrlIn(cfn.puts[0].raw);
  });

  test('a FAILED answer not taken throws, for Lambda to deliver the request again', async () => {
    parameterStore.on(PutParameterCommand).rejects(awsError('InternalServerError', 500));
    cfn.statuses.push(...Array(10).fill(502));

    await expect(onEvent(request('Create'), MINUTE_LEFT)).rejects.toMatchObject({ name: 'AnswerNotSent' });
    expect(logs.steps().slice(-1)[0]).toMatchObject({ step: 'answer-failed', status: 'FAILED' });
  });

  describe('throttling (many instances at once)', () => {
    test('of the store and of the start is retried with full jitter', async () => {
      jest.spyOn(timing, 'random').mockReturnValue(0.5);
      parameterStore.on(PutParameterCommand).rejectsOnce(awsError('ThrottlingException', 400)).rejectsOnce(awsError('ThrottlingException', 400)).resolves({});
      stepFunctions.on(StartExecutionCommand).rejectsOnce(awsError('ThrottlingException', 400)).resolves({});

      await onEvent(request('Create'), MINUTE_LEFT);

      expect(clocks.sleeps).toEqual([500, 1_000, 500]);
      expect(cfn.puts).toEqual([]);
      expect(logs.steps()).toEqual([{ step: 'waiter-started', serviceName: SERVICE }]);
    });

    test('for the whole window fails with one answer, the window shared by the store and the start', async () => {
      jest.spyOn(timing, 'random').mockReturnValue(0.999);
      parameterStore.on(PutParameterCommand).callsFake(async () => {
        if (clocks.retryClockMs() < 100_000) {
          throw awsError('ThrottlingException', 400, 'Rate exceeded');
        }
        return {};
      });
      stepFunctions.on(StartExecutionCommand).rejects(awsError('ThrottlingException', 400, 'Rate exceeded'));

      await onEvent(request('Create'), { getRemainingTimeInMillis: () => 360_000 });

      expect(THROTTLE_RETRY.onEventMs).toBe(150_000);
      expect(clocks.retryClockMs()).toBe(150_000);
      expect(Math.max(...clocks.sleeps)).toBe(14_985);
      expect(cfn.puts).toHaveLength(1);
      expect(cfn.puts[0].body.Reason).toBe("The cancel for Proton service 'my-service' in eu-west-1 was not started: AWS Step Functions refused or did not answer the start of its waiter (ThrottlingException); deploy again later.");
    });

    test('a denial is retried for a minute, then fails', async () => {
      stepFunctions.on(StartExecutionCommand).rejects(awsError('AccessDeniedException', 400, 'not authorized to perform states:StartExecution'));

      await onEvent(request('Create'), MINUTE_LEFT);

      expect(clocks.retryClockMs()).toBe(60_000);
      expect(cfn.puts[0].body.Reason).toMatch(/the start of its waiter \(AccessDeniedException\); deploy again later\.$/);
    });
  });
});

describe('isComplete', () => {
  beforeEach(() => {
    parameterStore.on(GetParameterCommand).callsFake(async input => ({
      Parameter: { Name: input.Name, Type: 'SecureString', Value: input.WithDecryption ? cfn.url : 'AQICAHh…', LastModifiedDate: new Date(T0) },
    }));
  });

  function answered(answer: WaiterState['Answer'], requestType: 'Create' | 'Update' = 'Create'): WaiterState {
    return { ...waiterState(requestType), Progress: { StartedAt: T0, Phase: 'start' }, Answer: answer };
  }

  const SUCCESS = { status: 'SUCCESS', physicalResourceId: SERVICE, data: { DeploymentStatus: 'CANCELLED' } } as WaiterState['Answer'];

  describe('without an answer, takes a step', () => {
    test('whose wait counts from when the URL was stored, and sends nothing', async () => {
      proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
      proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });
      jest.setSystemTime(T0 + 7_000);

      const state = await isComplete(waiterState('Create'));

      expect(parameterStore.calls().map(c => c.args[0].input)).toEqual([{ Name: PARAMETER, WithDecryption: false }]);
      expect(state).toMatchObject({ Progress: { StartedAt: T0, Phase: 'wait' } });
      expect(cfn.puts).toEqual([]);
      expectNoUrlIn(JSON.stringify(state));
    });

    test('a later step does not read Parameter Store', async () => {
      proton.on(GetServiceCommand).resolves(service('CANCELLING'));

      await isComplete({ ...waiterState('Create'), Progress: { StartedAt: T0, Phase: 'wait' } });

      expect(parameterStore.calls()).toHaveLength(0);
    });

    // A waiter whose first step finds no stored URL belongs to a request onEvent already answered (e.g. it
    // answered "was not started" after every StartExecution answer was lost, and removed the URL): it must not act.
    test('a first step that finds no stored URL (the request was answered) calls no Proton', async () => {
      parameterStore.on(GetParameterCommand).rejects(awsError('ParameterNotFound', 400));
      proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
      proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

      const state = await isComplete(waiterState('Create'));

      expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
      // An answer for the history, which the answer task then finds no URL to send.
      expect(state).toMatchObject({ Answer: { status: 'FAILED', reason: 'The request was answered before its waiter took a step.' } });
      expect(logs.steps()).toEqual([{ step: 'request-already-answered', requestId: REQUEST_ID }]);
    });

    test('a stored URL without a modification date counts the wait from now', async () => {
      parameterStore.on(GetParameterCommand).resolves({ Parameter: { Name: PARAMETER, Type: 'SecureString', Value: 'ciphertext' } });
      proton.on(GetServiceCommand).resolves(service('CANCELLING'));

      const state = await isComplete(waiterState('Create')) as WaiterState;

      expect(state.Progress?.StartedAt).toBe(Date.now());
      expect(logs.steps().map(step => step.step)).not.toContain('arrival-unknown');
    });
  });

  describe('with the answer', () => {
    test('reads the URL, PUTs the answer once, removes the URL, and calls no Proton', async () => {
      const state = answered(SUCCESS);

      const output = await isComplete(state);

      expect(output).toEqual({ Answered: 'SUCCESS' });
      expect(parameterStore.calls().map(c => [c.args[0].constructor.name, c.args[0].input])).toEqual([
        ['GetParameterCommand', { Name: PARAMETER, WithDecryption: true }],
        ['DeleteParameterCommand', { Name: PARAMETER }],
      ]);
      expect(cfn.puts.map(p => p.raw)).toEqual([responseBody({ ...state, ResponseURL: cfn.url }, SUCCESS!)]);
      expect(cfn.puts[0].body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: SERVICE, RequestId: REQUEST_ID, Data: { DeploymentStatus: 'CANCELLED' } });
      expect(proton.calls()).toHaveLength(0);
      expect(logs.steps()).toEqual([{ step: 'answered', status: 'SUCCESS' }]);
    });

    test('already answered (the URL is gone): sends nothing', async () => {
      parameterStore.on(GetParameterCommand).rejects(awsError('ParameterNotFound', 400));

      await expect(isComplete(answered(SUCCESS))).resolves.toEqual({ Answered: 'SUCCESS' });

      expect(cfn.puts).toEqual([]);
      expect(parameterStore.commandCalls(DeleteParameterCommand)).toHaveLength(0);
      expect(logs.steps()).toEqual([{ step: 'already-answered', status: 'SUCCESS' }]);
    });

    test('a URL that cannot be read: AnswerNotSent, for the state machine to retry, and nothing sent', async () => {
      parameterStore.on(GetParameterCommand).rejects(awsError('ThrottlingException', 400, 'Rate exceeded'));

      const failure = isComplete(answered(SUCCESS));

      await expect(failure).rejects.toMatchObject({ name: 'AnswerNotSent', refused: false, message: 'Could not read the response URL from Parameter Store: ThrottlingException' });
      expect(cfn.puts).toEqual([]);
      expect(logs.steps()).toEqual([{ step: 'answer-failed', status: 'SUCCESS', error: 'Rate exceeded' }]);
    });

    test('a URL removed in the meantime (ParameterNotFound on removal) is removed: nothing logged', async () => {
      parameterStore.on(GetParameterCommand).resolves({ Parameter: { Name: PARAMETER, Type: 'SecureString', Value: cfn.url } });
      parameterStore.on(DeleteParameterCommand).rejects(awsError('ParameterNotFound', 400, 'gone'));

      await isComplete(answered(SUCCESS));

      expect(logs.steps()).toEqual([{ step: 'answered', status: 'SUCCESS' }]);
    });

    test('a 5xx is retried in place for 30 seconds, then AnswerNotSent (never quoting the URL), the URL kept for the retry', async () => {
      // GIVEN a response URL that answers 503 throughout
      cfn.statuses.push(...Array(20).fill(503));

      // WHEN
      const error = await isComplete(answered(SUCCESS)).then(() => { throw new Error('expected a failure'); }, (e: Error) => e);

      // THEN: attempts at 0, 1, 3, 7 and 15 s; a sixth after 16 s more could end past 30 s
      expect(ANSWER_TASK_PUT_MS).toBe(30_000);
      expect(putSleeps).toEqual([1_000, 2_000, 4_000, 8_000]);
      expect(error).toMatchObject({ name: 'AnswerNotSent', refused: false, message: "Could not send the SUCCESS answer to CloudFormation's response URL after 5 attempt(s): HTTP 503" });
      expectNoUrlIn(error.message, String(error.stack));
      expect(parameterStore.commandCalls(DeleteParameterCommand)).toHaveLength(0);
      expect(new Set(cfn.puts.map(p => p.raw)).size).toBe(1);
    });

    test('the state machine\'s retry of the task sends the same body', async () => {
      cfn.statuses.push(503);
      const state = answered({ status: 'FAILED', physicalResourceId: SERVICE, reason: 'Nothing to cancel.' });

      await isComplete(JSON.parse(JSON.stringify(state)));
      await isComplete(JSON.parse(JSON.stringify(state)));

      expect(cfn.puts).toHaveLength(3);
      expect(new Set(cfn.puts.map(p => p.raw)).size).toBe(1);
    });

    test('a 4xx: AnswerRefused (not retried), one attempt, the URL removed', async () => {
      cfn.statuses.push(403);

      const failure = isComplete(answered(SUCCESS));

      await expect(failure).rejects.toMatchObject({
        name: 'AnswerRefused', refused: true, message: "Could not send the SUCCESS answer to CloudFormation's response URL after 1 attempt(s): HTTP 403",
      });
      expect(cfn.puts).toHaveLength(1);
      expect(parameterStore.commandCalls(DeleteParameterCommand).map(c => c.args[0].input)).toEqual([{ Name: PARAMETER }]);
    });

    test('a URL that cannot be removed after the answer went through does not fail the answer', async () => {
      parameterStore.on(DeleteParameterCommand).rejects(awsError('InternalServerError', 500, 'busy'));

      await expect(isComplete(answered(SUCCESS))).resolves.toEqual({ Answered: 'SUCCESS' });

      expect(cfn.puts).toHaveLength(1);
      expect(logs.steps()).toEqual([{ step: 'answered', status: 'SUCCESS' }, { step: 'response-url-not-removed', error: 'busy' }]);
    });
  });

  describe('with the error the waiter caught', () => {
    const CAUGHT = {
      Error: 'Sandbox.Timedout',
      Cause: JSON.stringify({
        errorType: 'Sandbox.Timedout', errorMessage: 'RequestId: 0f7c8a1e-2b3d-4c5e-8f90-1a2b3c4d5e6f Error: Task timed out after 360.00 seconds',
        trace: ['Error: x', '    at Runtime.handler (/var/task/index.js:1:2345)'],
      }),
    };

    test('without AWS_REGION, the sentence says the region is unknown', async () => {
      const region = process.env.AWS_REGION;
      delete process.env.AWS_REGION;
      try {
        await isComplete({ ...waiterState('Create'), Error: CAUGHT });
      } finally {
        process.env.AWS_REGION = region;
      }

      expect(cfn.puts[0].body.Reason).toMatch(/^The wait for the pipeline deployment of Proton service 'my-service' in an unknown region stopped/);
    });

    test('answers FAILED with one sentence: the error\'s name, no JSON, trace or request id', async () => {
      await expect(isComplete({ ...waiterState('Create'), Error: CAUGHT })).resolves.toEqual({ Answered: 'FAILED' });

      expect(cfn.puts).toHaveLength(1);
      const reason = cfn.puts[0].body.Reason as string;
      expect(cfn.puts[0].body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: SERVICE });
      expect(reason).toBe("The wait for the pipeline deployment of Proton service 'my-service' in eu-west-1 stopped: its step failed in AWS Lambda with Sandbox.Timedout; "
        + "deploy again later, and if it persists, look for the step's error in the provider's log group.");
      expect(reason).not.toMatch(/[{}[\]]|0f7c8a1e|index\.js|RequestId/);
      expect(proton.calls()).toHaveLength(0);
    });

    test('an Update reports instead (its stack status was not read as a forward update), under the new name or else its physical id', async () => {
      await isComplete({ ...waiterState('Update'), PhysicalResourceId: 'kept-id', Error: { Error: 'Lambda.Unknown' } } as WaiterState);
      await isComplete({ ...waiterState('Update', { ServiceName: 'not a name!' }), PhysicalResourceId: 'kept-id', Error: { Error: 'Lambda.Unknown' } } as WaiterState);

      expect(cfn.puts.map(p => [p.body.Status, p.body.PhysicalResourceId, (p.body.Data as Record<string, string> | undefined)?.CancellationRequested])).toEqual([
        ['SUCCESS', SERVICE, 'false'], ['SUCCESS', 'kept-id', 'false'],
      ]);
    });

    test('an error without a name still makes a sentence', async () => {
      await isComplete({ ...waiterState('Create'), Error: {} } as WaiterState);

      expect(cfn.puts[0].body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: SERVICE });
      expect(cfn.puts[0].body.Reason).toBe("The wait for the pipeline deployment of Proton service 'my-service' in eu-west-1 stopped: its step failed in AWS Lambda with an unknown error; "
        + "deploy again later, and if it persists, look for the step's error in the provider's log group.");
    });
  });
});

describe('a request from onEvent to its answer, through the waiter', () => {
  /** Parameter Store in memory: name -> value and when it was stored. */
  let parameters: Map<string, { value: string; at: Date }>;

  beforeEach(() => {
    parameters = new Map();
    parameterStore.on(PutParameterCommand).callsFake(async (input) => {
      if (parameters.has(input.Name)) {
        throw awsError('ParameterAlreadyExists', 400);
      }
      parameters.set(input.Name, { value: input.Value, at: new Date(Date.now()) });
      return { Version: 1 };
    });
    parameterStore.on(GetParameterCommand).callsFake(async (input) => {
      const parameter = parameters.get(input.Name);
      if (!parameter) {
        throw awsError('ParameterNotFound', 400);
      }
      return { Parameter: { Name: input.Name, Value: input.WithDecryption ? parameter.value : 'AQICAHh…', LastModifiedDate: parameter.at } };
    });
    parameterStore.on(DeleteParameterCommand).callsFake(async (input) => {
      parameters.delete(input.Name);
      return {};
    });
  });

  /**
   * The waiter state machine (lib/provider.ts): Step, then Answer once `$.Answer` is present,
   * else Wait and Step again; a Step that fails goes to Answer with `$.Error`.
   * `failStep` makes the given step fail in Lambda.
   */
  async function runWaiter(input: string, failStep?: number): Promise<unknown> {
    let state = JSON.parse(input) as WaiterState;
    for (let n = 1; n <= 500; n++) {
      try {
        if (n === failStep) {
          throw Object.assign(new Error('Task timed out after 360.00 seconds'), { name: 'Sandbox.Timedout' });
        }
        state = await isComplete(state) as WaiterState;
      } catch (error) {
        state = { ...state, Error: { Error: (error as Error).name, Cause: JSON.stringify({ errorMessage: (error as Error).message }) } };
        break;
      }
      if (state.Answer !== undefined) {
        break;
      }
      jest.setSystemTime(Date.now() + 15_000);
    }
    return isComplete(state);
  }

  beforeEach(() => {
    let cancelledAt: number | undefined;
    const status = () => cancelledAt === undefined ? 'IN_PROGRESS' : Date.now() - cancelledAt >= 60_000 ? 'CANCELLED' : 'CANCELLING';
    proton.on(GetServiceCommand).callsFake(async () => service(status()));
    proton.on(CancelServicePipelineDeploymentCommand).callsFake(async () => {
      cancelledAt = Date.now();
      return { pipeline: pipeline(status()) };
    });
  });

  test('a Create delivered twice: one waiter, one answer, the URL removed', async () => {
    // WHEN CloudFormation delivers the request twice, and the waiter runs
    await onEvent(request('Create'), MINUTE_LEFT);
    await onEvent(request('Create'), MINUTE_LEFT);
    const [first, second] = stepFunctions.commandCalls(StartExecutionCommand).map(c => c.args[0].input.input!);
    const output = await runWaiter(first);

    // THEN
    expect(second).toBe(first);
    expect(output).toEqual({ Answered: 'SUCCESS' });
    expect(cfn.puts).toHaveLength(1);
    expect(cfn.puts[0].body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: SERVICE, Data: { DeploymentStatus: 'CANCELLED', CancellationRequested: 'true' } });
    expect(parameters.size).toBe(0);
    expect(Date.now() - T0).toBe(60_000);
    expectNoUrlIn(first, JSON.stringify(output));
  });

  test('a delivery after the waiter answered starts nothing and sends nothing', async () => {
    await onEvent(request('Create'), MINUTE_LEFT);
    await runWaiter(stepFunctions.commandCalls(StartExecutionCommand)[0].args[0].input.input!);
    stepFunctions.on(StartExecutionCommand).rejects(awsError('ExecutionAlreadyExists', 400));

    await onEvent(request('Create'), MINUTE_LEFT);

    expect(cfn.puts).toHaveLength(1);
    expect(parameters.size).toBe(0);
  });

  test('a step that fails in Lambda: the waiter answers FAILED with the sentence', async () => {
    await onEvent(request('Create'), MINUTE_LEFT);

    const output = await runWaiter(stepFunctions.commandCalls(StartExecutionCommand)[0].args[0].input.input!, 2);

    expect(output).toEqual({ Answered: 'FAILED' });
    expect(cfn.puts).toHaveLength(1);
    expect(cfn.puts[0].body.Reason).toMatch(/^The wait for the pipeline deployment of Proton service 'my-service' in eu-west-1 stopped: its step failed in AWS Lambda with Sandbox\.Timedout;/);
  });
});

describe('the bundle\'s credentials', () => {
  test('come from the environment, where Lambda puts the role\'s', async () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' });
      await expect(defaultProvider()()).resolves.toMatchObject({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' });
      delete process.env.AWS_ACCESS_KEY_ID;
      await expect(defaultProvider()()).rejects.toThrow(/environment/i);
    } finally {
      process.env = saved;
    }
  });
});
