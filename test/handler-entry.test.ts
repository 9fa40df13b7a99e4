/**
 * The Lambda entry points (`lambda/index.ts`): what each request ends in, an
 * answer PUT to a local HTTP server standing in for CloudFormation's response
 * URL, or a started waiter. Proton and Step Functions are mocked here; the
 * lifecycle tests run the same code against the local endpoints.
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import { CancelServicePipelineDeploymentCommand, GetServiceCommand, ProtonClient, ServicePipeline } from '@aws-sdk/client-proton';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { ANSWER_MARGIN_MS, isComplete, onEvent, ResourceEvent, WaiterInput } from '../lambda';
import { defaultProvider } from '../lambda/credentials';
import { MAX_RESPONSE_BYTES, PUT_ATTEMPTS, putTiming, responseBody } from '../lambda/respond';
import { timing } from '../lambda/retry';

process.env.AWS_REGION = 'eu-west-1';
process.env.WAITER_STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Waiter';

const proton = mockClient(ProtonClient);
const stepFunctions = mockClient(SFNClient);

const SERVICE = 'my-service';

interface Put {
  readonly method?: string;
  readonly contentType?: string;
  readonly contentLength?: string;
  readonly body: Record<string, unknown>;
}

/** CloudFormation's side: the answers received, and the status to give each attempt (200 unless told). */
let puts: Put[];
let statuses: number[];
let server: http.Server;
let responseUrl: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', chunk => chunks.push(chunk));
    req.on('end', () => {
      puts.push({
        method: req.method,
        contentType: req.headers['content-type'],
        contentLength: req.headers['content-length'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  responseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response?X-Amz-Signature=abc`;
});

afterAll(() => new Promise<void>(resolve => server.close(() => resolve())));

let logs: string[];
let sleeps: number[];
beforeEach(() => {
  proton.reset();
  stepFunctions.reset();
  stepFunctions.on(StartExecutionCommand).resolves({ executionArn: 'arn:execution', startDate: new Date() });
  puts = [];
  statuses = [];
  sleeps = [];
  logs = [];
  jest.spyOn(console, 'log').mockImplementation((line: string) => { logs.push(line); });
  jest.spyOn(putTiming, 'sleep').mockImplementation(async ms => { sleeps.push(ms); });
  // The Proton retries of onEvent take no time here.
  jest.spyOn(timing, 'sleep').mockImplementation(async () => undefined);
});

afterEach(() => {
  jest.restoreAllMocks();
});

function pipeline(deploymentStatus: string): ServicePipeline {
  return {
    arn: `arn:aws:proton:eu-west-1:123456789012:service/${SERVICE}/pipeline/a1b2`,
    templateName: 'pipeline-template',
    templateMajorVersion: '1',
    templateMinorVersion: '3',
    createdAt: new Date('2026-11-01T10:00:00Z'),
    lastDeploymentAttemptedAt: new Date('2026-11-26T09:30:00Z'),
    deploymentStatus,
    spec: 'proton: ServiceSpec',
  } as ServicePipeline;
}

function service(deploymentStatus: string) {
  return { service: { name: SERVICE, arn: `arn:aws:proton:eu-west-1:123456789012:service/${SERVICE}`, pipeline: pipeline(deploymentStatus) } } as never;
}

function event(requestType: 'Create' | 'Update' | 'Delete', properties: Record<string, string> = {}): ResourceEvent {
  const base = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:onEvent',
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Stack/guid',
    RequestId: 'd4c1b1e0-5f7a-4b0e-9a53-0d2a3c1c9f10',
    LogicalResourceId: 'Cancel',
    ResourceType: 'Custom::ProtonCancelPipelineDeployment',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:onEvent', ServiceName: SERVICE, ...properties },
  };
  switch (requestType) {
    case 'Create': return { ...base, RequestType: 'Create' } as ResourceEvent;
    case 'Update': return { ...base, RequestType: 'Update', PhysicalResourceId: SERVICE, OldResourceProperties: { ...base.ResourceProperties, Trigger: 'old' } } as ResourceEvent;
    case 'Delete': return { ...base, RequestType: 'Delete', PhysicalResourceId: SERVICE } as ResourceEvent;
  }
}

/** The handler's log lines, parsed. */
function steps(): Array<Record<string, unknown>> {
  return logs.map(line => JSON.parse(line));
}

/** The input onEvent gave the waiter. */
function waiterInput(): WaiterInput {
  const calls = stepFunctions.commandCalls(StartExecutionCommand);
  expect(calls).toHaveLength(1);
  return JSON.parse(calls[0].args[0].input.input!);
}

describe('onEvent', () => {
  test('an in-progress deployment: the cancel is sent and the waiter started for this request, with no answer yet', async () => {
    // GIVEN
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

    // WHEN
    await onEvent(event('Create'));

    // THEN
    expect(puts).toEqual([]);
    const start = stepFunctions.commandCalls(StartExecutionCommand)[0].args[0].input;
    expect(start.stateMachineArn).toBe(process.env.WAITER_STATE_MACHINE_ARN);
    expect(start.name).toBe(event('Create').RequestId);
    const input = waiterInput();
    expect(input).toMatchObject({ ...event('Create'), PhysicalResourceId: SERVICE, Data: { DeploymentStatus: 'CANCELLING', CancellationRequested: 'true' } });
    expect(typeof input.WaitStartedAt).toBe('number');
    expect(steps().slice(-1)).toEqual([{ step: 'waiter-started', serviceName: SERVICE }]);
  });

  test('without the wait: one SUCCESS PUT with the attributes, and no waiter', async () => {
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

    await onEvent(event('Create', { WaitForFinalStatus: 'false' }));

    expect(stepFunctions.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(puts).toHaveLength(1);
    const { body, method, contentType, contentLength } = puts[0];
    expect({ method, contentType }).toEqual({ method: 'PUT', contentType: '' });
    expect(Number(contentLength)).toBe(Buffer.byteLength(JSON.stringify(body)));
    expect(body).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: SERVICE,
      StackId: event('Create').StackId,
      RequestId: event('Create').RequestId,
      LogicalResourceId: 'Cancel',
      Data: expect.objectContaining({ DeploymentStatus: 'CANCELLING', CancellationRequested: 'true', PipelineArn: pipeline('x').arn }),
    });
  });

  test('a Delete answers SUCCESS with its physical id and calls nothing', async () => {
    await onEvent(event('Delete'));

    expect(puts.map(p => [p.body.Status, p.body.PhysicalResourceId])).toEqual([['SUCCESS', SERVICE]]);
    expect(puts[0].body).not.toHaveProperty('Data');
    expect(steps()).toEqual([{ step: 'delete', physicalResourceId: SERVICE }, { step: 'answered', status: 'SUCCESS' }]);
    expect(proton.calls()).toHaveLength(0);
    expect(stepFunctions.calls()).toHaveLength(0);
  });

  test('a failed Create answers FAILED with the sentence, under the service name as physical id', async () => {
    proton.on(GetServiceCommand).resolves(service('SUCCEEDED'));

    await onEvent(event('Create', { FailIfNothingToCancel: 'true' }));

    expect(puts).toHaveLength(1);
    expect(puts[0].body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: SERVICE });
    expect(puts[0].body.Reason).toMatch(/^Nothing to cancel: the pipeline deployment of Proton service 'my-service' in eu-west-1 is SUCCEEDED/);
    expect(steps().slice(-1)).toEqual([{ step: 'answered', status: 'FAILED', reason: puts[0].body.Reason }]);
  });

  test.each([
    ['a name of 100 characters', 'a'.repeat(100), 'a'.repeat(100)],
    ['a name of 101 characters', 'a'.repeat(101), 'request id'],
    ['a number', 42, 'request id'],
  ])('a failed Create with %s as ServiceName has the physical id it would have', async (_, name, expected) => {
    proton.on(GetServiceCommand).resolves(service('SUCCEEDED'));

    await onEvent({ ...event('Create', { FailIfNothingToCancel: 'true' }), ResourceProperties: { ...event('Create').ResourceProperties, ServiceName: name, FailIfNothingToCancel: 'true' } } as unknown as ResourceEvent);

    expect(puts[0].body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: expected === 'request id' ? event('Create').RequestId : expected });
  });

  test('a failed rename keeps the old physical id, not the new name', async () => {
    proton.on(GetServiceCommand).rejects(Object.assign(new Error('no such service'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } }));

    await onEvent(event('Update', { ServiceName: 'new-name' }));

    expect(puts[0].body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: SERVICE });
  });

  test('work that ends in time leaves no timer behind', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      await onEvent(event('Delete'), { getRemainingTimeInMillis: () => 60_000 });
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  test('a Create with an invalid service name fails under the request id, before any call', async () => {
    await onEvent(event('Create', { ServiceName: 'not a name!' }));

    expect(puts[0].body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: event('Create').RequestId });
    expect(puts[0].body.Reason).toMatch(/^Invalid property of the cancel for Proton service 'not a name!'/);
    expect(proton.calls()).toHaveLength(0);
  });

  test('a failed Update keeps the physical id CloudFormation has', async () => {
    proton.on(GetServiceCommand).rejects(Object.assign(new Error('no such service'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } }));

    await onEvent(event('Update', { Trigger: 'new' }));

    expect(puts[0].body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: SERVICE });
    expect(puts[0].body.Reason).toMatch(/was not found/);
  });

  test('a waiter that cannot start answers FAILED, saying the cancel was sent', async () => {
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });
    stepFunctions.on(StartExecutionCommand).rejects(Object.assign(new Error('not authorized to perform states:StartExecution'), { name: 'AccessDeniedException' }));

    await onEvent(event('Create'));

    expect(puts).toHaveLength(1);
    expect(puts[0].body.Status).toBe('FAILED');
    expect(puts[0].body.Reason).toBe("The cancel for Proton service 'my-service' in eu-west-1 was sent, but the wait for its final status could not start "
      + '(AWS Step Functions said AccessDeniedException: not authorized to perform states:StartExecution); deploy again later.');
  });

  test('a retried invocation whose waiter already runs leaves the answer to that waiter', async () => {
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });
    stepFunctions.on(StartExecutionCommand).rejects(Object.assign(new Error('Execution Already Exists'), { name: 'ExecutionAlreadyExists' }));

    await onEvent(event('Create'));

    expect(puts).toEqual([]);
    expect(steps().slice(-1)).toEqual([{ step: 'waiter-already-started', requestId: event('Create').RequestId }]);
  });

  test('work that outlasts the function answers FAILED before the function times out', async () => {
    // GIVEN a Proton that never answers, and a function with 30 seconds left
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      proton.on(GetServiceCommand).callsFake(() => new Promise(() => undefined));
      const context = { getRemainingTimeInMillis: () => 30_000 };

      // WHEN
      const done = onEvent(event('Create'), context);
      await jest.advanceTimersByTimeAsync(30_000 - ANSWER_MARGIN_MS - 1);
      expect(puts).toEqual([]);
      await jest.advanceTimersByTimeAsync(1);
      jest.useRealTimers();
      await done;
    } finally {
      jest.useRealTimers();
    }

    // THEN
    expect(puts).toHaveLength(1);
    expect(puts[0].body.Status).toBe('FAILED');
    expect(puts[0].body.Reason).toBe("The cancel for Proton service 'my-service' in eu-west-1 did not finish within the handler's 10s: AWS Proton answered too slowly; deploy again later.");
  });
});

describe('isComplete', () => {
  function input(extra: Partial<WaiterInput> = {}): WaiterInput {
    return {
      ...event('Create'),
      PhysicalResourceId: SERVICE,
      Data: { DeploymentStatus: 'CANCELLING', CancellationRequested: 'true' } as WaiterInput['Data'],
      WaitStartedAt: Date.now(),
      ...extra,
    } as WaiterInput;
  }

  test('a status not yet final: no answer, and the waiter is told to wait', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLING'));

    await expect(isComplete(input())).resolves.toBe(false);
    expect(puts).toEqual([]);
  });

  test('a final status: one SUCCESS answer with the new status, keeping CancellationRequested from onEvent', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLED'));

    await expect(isComplete(input())).resolves.toBe(true);

    expect(puts).toHaveLength(1);
    expect(puts[0].body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: SERVICE, Data: { DeploymentStatus: 'CANCELLED', CancellationRequested: 'true' } });
  });

  test('past the timeout: FAILED with the timeout sentence', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLING'));

    await expect(isComplete(input({ WaitStartedAt: Date.now() - 1801_000 }))).resolves.toBe(true);

    expect(puts[0].body.Status).toBe('FAILED');
    expect(puts[0].body.Reason).toMatch(/^Timed out after 30m 1s waiting for the pipeline deployment of Proton service 'my-service'/);
  });

  test('the waiter\'s caught concurrency refusal: FAILED naming Lambda concurrency and the fix, with no Proton call', async () => {
    await expect(isComplete(input({ Error: { Error: 'Lambda.TooManyRequestsException', Cause: 'Rate Exceeded.' } }))).resolves.toBe(true);

    expect(puts[0].body.Status).toBe('FAILED');
    expect(puts[0].body.Reason).toBe("The wait for the pipeline deployment of Proton service 'my-service' in eu-west-1 stopped: AWS Lambda refused to run its poll "
      + "for want of concurrency (Lambda.TooManyRequestsException) through every retry; raise the account's Lambda concurrency quota, "
      + 'or set maxConcurrentInstances on the provider so that fewer instances run at once.');
    expect(proton.calls()).toHaveLength(0);
  });

  test('any other caught error: FAILED quoting the error and its cause', async () => {
    await isComplete(input({ Error: { Error: 'Sandbox.Timedout', Cause: 'Task timed out after 360.00 seconds' } }));

    expect(puts[0].body.Reason).toBe("The wait for the pipeline deployment of Proton service 'my-service' in eu-west-1 stopped: its poll failed in AWS Lambda "
      + 'with Sandbox.Timedout (Task timed out after 360.00 seconds); deploy again later.');
  });

  test('a caught error with neither name nor cause still says the poll failed', async () => {
    await isComplete(input({ Error: {} }));

    expect(puts[0].body.Reason).toBe("The wait for the pipeline deployment of Proton service 'my-service' in eu-west-1 stopped: its poll failed in AWS Lambda "
      + 'with an unknown error; deploy again later.');
  });

  test('an answer CloudFormation refuses throws, for the waiter to catch', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLED'));
    statuses = [403];

    await expect(isComplete(input())).rejects.toThrow("Could not send the SUCCESS answer to CloudFormation's response URL after 1 attempt(s): HTTP 403");
    expect(puts).toHaveLength(1);
  });
});

describe('the answer', () => {
  const request = { StackId: 'stack', RequestId: 'request', LogicalResourceId: 'Cancel', ResponseURL: 'https://example.com' };

  test('a reason too long for CloudFormation\'s 4,096 bytes is shortened to fit exactly', () => {
    const body = responseBody(request, { status: 'FAILED', physicalResourceId: SERVICE, reason: 'é'.repeat(5000) });

    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    expect(Buffer.byteLength(body)).toBeGreaterThan(MAX_RESPONSE_BYTES - 4);
    expect(JSON.parse(body).Reason).toMatch(/^é+…$/);
  });

  test('a short reason is sent whole, and a SUCCESS has no reason', () => {
    expect(JSON.parse(responseBody(request, { status: 'FAILED', physicalResourceId: SERVICE, reason: 'Short.' })).Reason).toBe('Short.');
    expect(JSON.parse(responseBody(request, { status: 'SUCCESS', physicalResourceId: SERVICE })).Reason).toBeUndefined();
  });

  test('a server error is retried with waits of 1, 2, 4 and 8 seconds, then given up with a sentence', async () => {
    statuses = Array(PUT_ATTEMPTS).fill(503);

    await expect(onEvent(event('Delete'))).rejects.toThrow(`Could not send the SUCCESS answer to CloudFormation's response URL after ${PUT_ATTEMPTS} attempt(s): HTTP 503`);

    expect(puts).toHaveLength(PUT_ATTEMPTS);
    expect(sleeps).toEqual([1000, 2000, 4000, 8000]);
  });

  test('a redirect is a refusal, not retried', async () => {
    statuses = [300];

    await expect(onEvent(event('Delete'))).rejects.toThrow("Could not send the SUCCESS answer to CloudFormation's response URL after 1 attempt(s): HTTP 300");
    expect(steps().slice(-1)).toEqual([{
      step: 'answer-failed', status: 'SUCCESS', error: "Could not send the SUCCESS answer to CloudFormation's response URL after 1 attempt(s): HTTP 300",
    }]);
  });

  test('an attempt with no answer is given up after its timeout, and retried', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve));
    const timeoutBefore = putTiming.attemptTimeoutMs;
    putTiming.attemptTimeoutMs = 50;
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/slow`;
      await expect(onEvent({ ...event('Delete'), ResponseURL: url } as ResourceEvent))
        .rejects.toThrow(`after ${PUT_ATTEMPTS} attempt(s): no answer from CloudFormation's response URL within 0.05 seconds`);
      expect(sleeps).toHaveLength(PUT_ATTEMPTS - 1);
    } finally {
      putTiming.attemptTimeoutMs = timeoutBefore;
      silent.closeAllConnections();
      await new Promise<void>(resolve => silent.close(() => resolve()));
    }
  });

  test('an https URL is sent with TLS: to a plain HTTP server, the handshake fails', async () => {
    const url = responseUrl.replace('http://', 'https://');

    await expect(onEvent({ ...event('Delete'), ResponseURL: url } as ResourceEvent)).rejects.toThrow(/after 5 attempt\(s\): .*(SSL|TLS|EPROTO|wrong version)/i);
    expect(puts).toEqual([]);
  });

  test('the wait between attempts is real time', async () => {
    jest.restoreAllMocks();
    const started = Date.now();
    await putTiming.sleep(30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  test('a server error then a success is one answer received', async () => {
    statuses = [500];

    await onEvent(event('Delete'));

    expect(puts.map(p => p.body.Status)).toEqual(['SUCCESS', 'SUCCESS']);
    expect(sleeps).toEqual([1000]);
    expect(logs.map(line => JSON.parse(line).step)).toContain('answered');
  });

  test('a URL nobody answers at is retried, then given up', async () => {
    const closed = http.createServer();
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>(resolve => closed.close(() => resolve()));

    await expect(onEvent({ ...event('Delete'), ResponseURL: `http://127.0.0.1:${port}/gone` } as ResourceEvent)).rejects.toThrow(/after 5 attempt\(s\): .*ECONNREFUSED/);
    expect(sleeps).toHaveLength(PUT_ATTEMPTS - 1);
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
