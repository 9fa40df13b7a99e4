import * as fs from 'fs';
import * as http from 'http';
import { Duration, Stack } from 'aws-cdk-lib';
import { CancelPipelineDeployment, CancelPipelineDeploymentProvider } from '../lib';
import {
  CloudFormationRequest, hostProcess, LifecycleViolation, LocalCloudFormation, RequestResult, synthesize, violations, withDeployment,
} from '../local/cloudformation';
import { EmulatedClock, SCENARIOS } from '../local/proton';
import { cancelStack } from './cancel-stack';
import { probeAsset, probeStack } from './probe-provider';

// The local lifecycle's own rules, so that what the end-to-end tests show can be
// trusted: a probe provider built as the project's is (see probe-provider.ts)
// starts its waiter through the local Step Functions endpoint, the waiter runs
// as synthesized, functions see their own environment and the emulated clock,
// and responses are PUT to a local response URL and checked as CloudFormation
// checks them.

const START = new Date('2030-01-01T00:00:00.000Z');
const asset = probeAsset();

const assemblyDir = synthesize((app) => {
  // Answers 25 s after the request; the waiter polls every 10 s.
  probeStack(new Stack(app, 'Probe'), { asset, properties: { WaitSeconds: 25 } });
  probeStack(new Stack(app, 'PollFails'), { asset, properties: { WaitSeconds: 25, PollFails: true } });
  probeStack(new Stack(app, 'WaiterTimesOut'), { asset, properties: { WaitSeconds: 100 }, waiterTimeout: Duration.seconds(25) });
  // Each poll takes 10 s; the waiter's time limit falls during its second poll, which answers at 30 s.
  probeStack(new Stack(app, 'PollOutlivesWaiter'), { asset, properties: { WaitSeconds: 15, PollTakesSeconds: 10 }, waiterTimeout: Duration.seconds(25) });
  probeStack(new Stack(app, 'NotAllowed'), { asset, properties: { WaitSeconds: 25 }, allowStartExecution: false });
  for (const respond of ['twice', 'differ', 'chunked', 'post']) {
    probeStack(new Stack(app, `Respond-${respond}`), { asset, properties: { Respond: respond } });
  }
});

let libAssemblyDir: string | undefined;

/** Stacks of the project's own construct, synthesized on first use. */
function libAssembly(): string {
  libAssemblyDir ??= synthesize((app) => {
    const slow = new Stack(app, 'SlowPoll');
    cancelStack(slow, { serviceName: 'web-api', provider: new CancelPipelineDeploymentProvider(slow, 'Provider', { pollInterval: Duration.seconds(40) }) });

    // The second resource reads an attribute of the first, so depends on it.
    const chain = new Stack(app, 'Chain');
    const first = new CancelPipelineDeployment(chain, 'First', { serviceName: 'first' });
    new CancelPipelineDeployment(chain, 'Second', { serviceName: 'second', trigger: first.deploymentStatus });
  });
  return libAssemblyDir;
}

afterAll(() => [assemblyDir, asset, libAssemblyDir].forEach((dir) => dir && fs.rmSync(dir, { recursive: true, force: true })));

/** Runs `fn` with the probe stack `stackName` deployed on a frozen clock at START. */
async function onProbe<T>(stackName: string, fn: (cfn: LocalCloudFormation) => Promise<T>): Promise<T> {
  const cfn = await LocalCloudFormation.start({ assemblyDir, stackName, protonEndpoint: 'http://127.0.0.1:9', clock: new EmulatedClock(0, START) });
  try {
    return await fn(cfn);
  } finally {
    await cfn.stop();
  }
}

const logicalIdOf = (cfn: LocalCloudFormation, prefix: string) => Object.keys(cfn.template.Resources).find((id) => id.startsWith(prefix))!;

describe('a request whose provider waits', () => {
  let cfn: LocalCloudFormation;
  let create: RequestResult;

  beforeAll(async () => {
    hostProcess.env.LIFECYCLE_HOST_ONLY = 'leaked';
    cfn = await LocalCloudFormation.start({ assemblyDir, stackName: 'Probe', protonEndpoint: 'http://127.0.0.1:9', clock: new EmulatedClock(0, START) });
    create = (await cfn.createStack()).requests[0];
  });

  afterAll(async () => {
    delete hostProcess.env.LIFECYCLE_HOST_ONLY;
    await cfn.stop();
  });

  test('OnEvent starts the waiter through its own SDK client and AWS_ENDPOINT_URL_SFN, named by the RequestId, as its role\'s policy allows', () => {
    const onEvent = cfn.lambda.get(String(create.request.ResourceProperties.ServiceToken));
    expect(onEvent.environment.AWS_ENDPOINT_URL_SFN).toBe(cfn.stepFunctionsEndpoint);

    expect(cfn.stepFunctionsCalls).toEqual([expect.objectContaining({ operation: 'StartExecution', status: 200, accessKeyId: onEvent.environment.AWS_ACCESS_KEY_ID })]);
    expect(create.executions).toHaveLength(1);
    expect(create.executions[0]).toMatchObject({ name: create.request.RequestId, tag: create.request.RequestId, status: 'SUCCEEDED' });
    expect(create.executions[0].stateMachineArn).toBe(onEvent.environment.WAITER_STATE_MACHINE_ARN);
  });

  test('the waiter polls IsComplete at its Wait interval on the emulated clock until it answers, and its answer is the one response', () => {
    // GIVEN an answer due 25 s in, and polls every 10 s: at 0, 10, 20 and 30 s
    const poll = { kind: 'task', state: 'Poll', attempt: 1 };
    const notYet = [poll, { kind: 'choice', state: 'Answered?', next: 'Wait' }, { kind: 'wait', state: 'Wait', seconds: 10 }];
    expect(create.executions[0].events).toEqual([...notYet, ...notYet, ...notYet, poll, { kind: 'choice', state: 'Answered?', next: 'Done' }]);

    expect(create.elapsedSeconds).toBe(30);
    expect(create.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'probe', Data: { AnsweredAt: '2030-01-01T00:00:30.000Z' } });
  });

  test('functions see their own environment and the emulated clock, and properties arrive as strings', () => {
    expect(create.response.Data).toEqual({
      Region: 'us-east-1',
      HostOnly: 'absent',
      Now: '2030-01-01T00:00:00.000Z',
      FunctionName: expect.stringMatching(/^Probe-OnEvent/),
      PropertyTypes: 'string,string',
      AnsweredAt: '2030-01-01T00:00:30.000Z',
    });
  });

  test('the request\'s invocations and logs are those of its OnEvent and of its waiter\'s polls', () => {
    const onEvent = logicalIdOf(cfn, 'OnEvent');
    const isComplete = logicalIdOf(cfn, 'IsComplete');

    expect(create.invocations.map((i) => [i.functionLogicalId, i.tag, i.outcome])).toEqual([
      [onEvent, create.request.RequestId, 'ok'],
      ...Array(4).fill([isComplete, create.request.RequestId, 'ok']),
    ]);
    expect(create.logs.every((l) => l.tag === create.request.RequestId)).toBe(true);
  });

  test('the handler functions are those whose code is the ServiceToken function\'s, grouped by role', () => {
    const onEvent = cfn.lambda.get(String(create.request.ResourceProperties.ServiceToken));

    expect(cfn.handlerRoles()).toEqual([{
      accessKeyId: onEvent.environment.AWS_ACCESS_KEY_ID,
      functionLogicalIds: [logicalIdOf(cfn, 'OnEvent'), logicalIdOf(cfn, 'IsComplete')],
      statements: expect.arrayContaining([{ effect: 'Allow', actions: ['states:StartExecution'], resources: [onEvent.environment.WAITER_STATE_MACHINE_ARN] }]),
    }]);
  });

  test('a response URL is open only while its request is: a later PUT is refused with 403', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(create.request.ResponseURL, { method: 'PUT', headers: { 'content-length': 2 } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end('{}');
    });

    expect(status).toBe(403);
    expect(cfn.refusedResponses).toEqual([{ method: 'PUT', path: expect.stringContaining(create.request.RequestId) }]);
  });
});

test('a poll that fails goes through the waiter\'s Catch to the failure answer, with the error at $.Error', async () => {
  await onProbe('PollFails', async (cfn) => {
    const [create] = (await cfn.createStack()).requests;

    expect(create.response.Status).toBe('FAILED');
    expect(create.response.Reason).toMatch(/^Error: \{"errorType":"Error","errorMessage":"the poll failed"/);
    expect(create.executions[0].events).toEqual([
      { kind: 'task', state: 'Poll', attempt: 1 },
      { kind: 'task-failed', state: 'Poll', error: 'Error' },
      { kind: 'caught', state: 'Poll', error: 'Error', next: 'Answer failure' },
      { kind: 'task', state: 'Answer failure', attempt: 1 },
    ]);
  });
});

test('a waiter that times out before the answer ends TIMED_OUT, and CloudFormation gets no response', async () => {
  await onProbe('WaiterTimesOut', async (cfn) => {
    const failure = await cfn.createStack().then(() => undefined, (e: unknown) => e);

    expect(failure).toBeInstanceOf(LifecycleViolation);
    expect((failure as LifecycleViolation).problems).toEqual([expect.stringMatching(/^no response/)]);
    expect(cfn.stepFunctions.executions).toEqual([expect.objectContaining({ status: 'TIMED_OUT', error: 'States.Timeout' })]);
    // Polls at 0, 10 and 20 s, then the 25-second limit ends the execution during its third wait.
    expect(cfn.stepFunctions.executions[0].events.filter((e) => e.kind === 'task')).toHaveLength(3);
    expect(cfn.clock.nowMs() - START.getTime()).toBe(25_000);
  });
});

test('a poll still running when its execution times out is waited for: its late answer is the response', async () => {
  await onProbe('PollOutlivesWaiter', async (cfn) => {
    const [create] = (await cfn.createStack()).requests;

    expect(create.executions).toEqual([expect.objectContaining({ status: 'TIMED_OUT' })]);
    expect(create.response).toMatchObject({ Status: 'SUCCESS', Data: { AnsweredAt: '2030-01-01T00:00:30.000Z' } });
    expect(create.elapsedSeconds).toBe(30);
  });
});

test('a role whose policies do not allow states:StartExecution: the endpoint refuses, Lambda retries the event twice, no response', async () => {
  await onProbe('NotAllowed', async (cfn) => {
    const failure = await cfn.createStack().then(() => undefined, (e: unknown) => e);

    expect(failure).toBeInstanceOf(LifecycleViolation);
    expect(cfn.stepFunctionsCalls.map((c) => `${c.status} ${c.errorType}`)).toEqual(Array(3).fill('400 AccessDeniedException'));
    expect(cfn.lambda.invocations.map((i) => i.outcome)).toEqual(Array(3).fill('AccessDeniedException'));
    expect(cfn.stepFunctions.executions).toEqual([]);
  });
});

test('the same answer PUT twice is taken: CloudFormation reads one object, whichever PUT wrote it', async () => {
  await onProbe('Respond-twice', async (cfn) => {
    const [create] = (await cfn.createStack()).requests;

    expect(create.responseAttempts.map((a) => a.status)).toEqual([200, 200]);
    expect(create.response.Status).toBe('SUCCESS');
  });
});

test.each([
  ['differ', /answers differ: 2 successful PUTs with 2 different bodies/],
  ['chunked', /not a PUT with its Content-Length \(PUT, undefined\)/],
  ['post', /not a PUT with its Content-Length \(POST, /],
])('a response sent %s is one CloudFormation would not take', async (respond, problem) => {
  await onProbe(`Respond-${respond}`, async (cfn) => {
    await expect(cfn.createStack()).rejects.toThrow(problem);
  });
});

test('the waiter polls at a provider\'s own interval', async () => {
  await withDeployment(libAssembly(), 'SlowPoll', async ({ proton, cfn }) => {
    proton.addService('web-api', SCENARIOS['in-progress']);

    const [create] = (await cfn.createStack()).requests;

    expect(create.response).toMatchObject({ Status: 'SUCCESS', Data: { DeploymentStatus: 'CANCELLED' } });
    const waits = create.executions[0].events.filter((e) => e.kind === 'wait').map((e) => e.kind === 'wait' && e.seconds);
    expect(waits).toEqual([40, 40, 40]);
    expect(create.elapsedSeconds).toBe(120);
  });
});

test('resources run in dependency order: Creates after what they reference, Deletes before it', async () => {
  await withDeployment(libAssembly(), 'Chain', async ({ proton, cfn }) => {
    proton.addService('first', SCENARIOS.succeeded);
    proton.addService('second', SCENARIOS.succeeded);
    const order = (requests: readonly RequestResult[]) => requests.map((r) => `${r.request.RequestType} ${r.request.ResourceProperties.ServiceName}`);

    const creation = await cfn.createStack();
    const deletion = await cfn.deleteStack();

    expect(order(creation.requests)).toEqual(['Create first', 'Create second']);
    expect(creation.requests[1].request.ResourceProperties.Trigger).toBe('SUCCEEDED');
    expect(order(deletion.requests)).toEqual(['Delete second', 'Delete first']);
  });
});

describe('what CloudFormation would not take', () => {
  const request = { RequestType: 'Create', StackId: 'stack', RequestId: 'r1', LogicalResourceId: 'Res' } as CloudFormationRequest;
  const body = (fields: object = {}) => JSON.stringify({ Status: 'SUCCESS', StackId: 'stack', RequestId: 'r1', LogicalResourceId: 'Res', PhysicalResourceId: 'p', Data: { A: '1' }, ...fields });
  const check = (responses: string[], more: Partial<Parameters<typeof violations>[0]> = {}) =>
    violations({ request, responses, elapsedSeconds: 10, serviceTimeoutSeconds: 60, attributesRead: ['A'], ...more });

  test('one good response in time passes', () => {
    expect(check([body()])).toEqual([]);
  });

  test('the same answer twice passes, byte for byte', () => {
    expect(check([body(), body()])).toEqual([]);
  });

  test.each([
    ['no response', [], {}, /no response/],
    ['two answers that differ', [body(), body({ Status: 'FAILED', Reason: 'r' })], {}, /answers differ: 2 successful PUTs with 2 different bodies/],
    ['the same answer with other whitespace', [body(), ` ${body()}`], {}, /answers differ/],
    ['a body over 4,096 bytes', [body({ Data: { A: 'x'.repeat(4_000) } })], {}, /over CloudFormation's 4096-byte limit/],
    ['a response after the ServiceTimeout', [body()], { elapsedSeconds: 61 }, /ServiceTimeout of 60 s/],
    ['another request id', [body({ RequestId: 'r2' })], {}, /RequestId r2 is not the request's/],
    ['no physical id', [body({ PhysicalResourceId: '' })], {}, /no PhysicalResourceId/],
    ['a missing attribute that the template reads', [body({ Data: {} })], {}, /Data lacks A/],
  ])('fails on %s', (_, responses, more, problem) => {
    expect(check(responses as string[], more).join('; ')).toMatch(problem as RegExp);
  });
});
