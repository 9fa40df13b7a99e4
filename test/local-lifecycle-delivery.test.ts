import * as fs from 'fs';
import { Stack } from 'aws-cdk-lib';
import { LifecycleViolation, LocalCloudFormation, LocalCloudFormationOptions, LocalLambda, synthesize, Waits } from '../local/cloudformation';
import { EmulatedClock } from '../local/proton';
import { ssmProbeAsset, ssmProbeStack } from './ssm-probe-provider';

// Lambda as the lifecycle emulates it beyond one delivery per request: an
// asynchronous event delivered twice (after the answer, or at the same
// moment), as Lambda's at-least-once delivery allows, and other work of the
// account holding slots of its concurrency.

const START = new Date('2030-01-01T00:00:00.000Z');
const asset = ssmProbeAsset();
const assemblyDir = synthesize((app) => {
  // OnEvent answers at once, the same answer every time (or, with Nonce, never the same).
  ssmProbeStack(new Stack(app, 'Direct'), { asset, resources: { A: {}, B: {} } });
  ssmProbeStack(new Stack(app, 'Nonce'), { asset, resources: { A: { Nonce: true } } });
  // The waiter answers 30 s in.
  ssmProbeStack(new Stack(app, 'Waiter'), { asset, resources: { Waits: { WaitSeconds: 25 } } });
  ssmProbeStack(new Stack(app, 'WaiterOverwrite'), { asset, resources: { Waits: { WaitSeconds: 25, Overwrite: true } } });
});

afterAll(() => [assemblyDir, asset].forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

async function onStack<T>(stackName: string, fn: (cfn: LocalCloudFormation) => Promise<T>, options: Partial<LocalCloudFormationOptions> = {}): Promise<T> {
  const cfn = await LocalCloudFormation.start({ assemblyDir, stackName, protonEndpoint: 'http://127.0.0.1:9', clock: new EmulatedClock(0, START), ...options });
  try {
    return await fn(cfn);
  } finally {
    await cfn.stop();
  }
}

describe('an event delivered twice', () => {
  test('after the answer, for one request only: two deliveries, two byte-identical answers, which CloudFormation takes', async () => {
    await onStack('Direct', async (cfn) => {
      cfn.deliverTwice({ requestType: 'Create', logicalId: 'B', delivery: 'after-answer' });

      const { requests } = await cfn.createStack();
      const [a, b] = ['A', 'B'].map((id) => requests.find((r) => r.request.LogicalResourceId === id)!);

      expect(b.deliveries).toEqual(['ok', 'ok']);
      expect(b.invocations).toHaveLength(2);
      expect(b.responseAttempts.map((r) => r.status)).toEqual([200, 200]);
      expect(a.deliveries).toEqual(['ok']);
      expect(a.responseAttempts).toHaveLength(1);
    });
  });

  test('after the answer, a run that answers otherwise the second time is a violation; delivered once, the same run passes', async () => {
    await onStack('Nonce', async (cfn) => {
      await expect(cfn.createStack()).resolves.toMatchObject({ stackStatus: 'CREATE_COMPLETE' });
      await cfn.deleteStack();

      cfn.deliverTwice({ delivery: 'after-answer' });

      const failure = await cfn.createStack().then(() => undefined, (e: unknown) => e);
      expect(failure).toBeInstanceOf(LifecycleViolation);
      expect((failure as LifecycleViolation).problems).toEqual([expect.stringMatching(/^answers differ: 2 successful PUTs with 2 different bodies/)]);
    });
  });

  test('after the waiter answered: the second StartExecution finds the execution ended, nothing more is put, one answer', async () => {
    await onStack('Waiter', async (cfn) => {
      const create = await cfn.sendRequest('Create', 'Waits', {}, undefined, { delivery: 'after-answer' });

      expect(create.deliveries).toEqual(['ok', 'ok']);
      expect(cfn.stepFunctionsCalls.map((c) => `${c.status} ${c.errorType ?? ''}`.trim())).toEqual(['200', '400 ExecutionAlreadyExists']);
      expect(create.executions).toHaveLength(1);
      expect(cfn.parameterStore.calls.map((c) => c.operation)).toEqual(['PutParameter', 'GetParameter', 'DeleteParameter']);
      expect(create.responseAttempts).toHaveLength(1);
      expect(cfn.parameterStore.parameters()).toEqual([]);
    });
  });

  test.each([
    ['WaiterOverwrite', 'with Overwrite: both puts are taken', ['200', '200']],
    ['Waiter', 'without Overwrite: the second put is ParameterAlreadyExists', ['200', '400 ParameterAlreadyExists']],
  ])('at the same moment (%s), %s, one execution, one answer', async (stackName, _, puts) => {
    await onStack(stackName, async (cfn) => {
      const create = await cfn.sendRequest('Create', 'Waits', {}, undefined, { delivery: 'concurrent' });

      expect(create.deliveries).toEqual(['ok', 'ok']);
      expect(cfn.lambda.peakConcurrency).toBeGreaterThanOrEqual(2);
      expect(cfn.stepFunctionsCalls.map((c) => c.status)).toEqual([200, 200]);
      expect(create.executions).toHaveLength(1);
      const putCalls = cfn.parameterStore.calls.filter((c) => c.operation === 'PutParameter');
      expect(putCalls.map((c) => `${c.status} ${c.errorType ?? ''}`.trim())).toEqual(puts);
      expect(create.responseAttempts).toHaveLength(1);
      expect(cfn.parameterStore.parameters()).toEqual([]);
    });
  });

  test('the delivery option decides per request: here every Delete twice', async () => {
    await onStack('Direct', async (cfn) => {
      await cfn.createStack();
      const deletion = await cfn.deleteStack();

      expect(deletion.requests.map((r) => [r.request.RequestType, r.deliveries.length])).toEqual([['Delete', 2], ['Delete', 2]]);
    }, { delivery: (request) => request.RequestType === 'Delete' ? 'after-answer' : undefined });
  });
});

describe('other work holding Lambda concurrency', () => {
  const elapsedOf = async (lambdaConcurrency: number, prepare: (cfn: LocalCloudFormation) => void) => onStack('Waiter', async (cfn) => {
    prepare(cfn);
    const [create] = (await cfn.createStack()).requests;
    return { create, throttles: cfn.lambda.throttles, firstPutMs: cfn.parameterStore.calls[0].atMs - START.getTime() };
  }, { lambdaConcurrency });

  test('concurrency 1, its slot held for 10 minutes while a Create waits: the event waits in the queue, and the answer comes after', async () => {
    const free = await elapsedOf(1, () => undefined);
    const held = await elapsedOf(1, (cfn) => cfn.lambda.hold(1, 600));

    // Free, the event runs at once (the waiter's first poll, refused while OnEvent holds the one slot, is retried).
    expect(free.firstPutMs).toBe(0);
    expect(free.throttles.filter((t) => t.invocationType === 'Event')).toEqual([]);
    const queued = held.throttles.filter((t) => t.invocationType === 'Event');
    expect(queued.length).toBeGreaterThan(5);
    expect(queued.every((t) => t.atMs < START.getTime() + 600_000)).toBe(true);
    expect(held.firstPutMs).toBeGreaterThanOrEqual(600_000);
    expect(held.create.elapsedSeconds).toBeGreaterThanOrEqual(630);
    expect(held.create.response).toEqual({ ...free.create.response, RequestId: held.create.request.RequestId });
  });

  test('a hold from a later emulated time: the waiter\'s poll is refused meanwhile and retried by its Retry until the slot is free', async () => {
    const held = await elapsedOf(2, (cfn) => cfn.lambda.hold(2, 60, { atMs: START.getTime() + 5_000 }));

    expect(held.firstPutMs).toBe(0);
    expect(held.create.executions[0].events).toContainEqual({ kind: 'task-failed', state: 'Poll', error: 'Lambda.TooManyRequestsException' });
    expect(held.throttles.every((t) => t.invocationType === 'RequestResponse' && t.atMs >= START.getTime() + 5_000 && t.atMs < START.getTime() + 65_000)).toBe(true);
    expect(held.create.elapsedSeconds).toBeGreaterThanOrEqual(65);
  });

  test('a hold ended early frees its slot at once', async () => {
    const held = await elapsedOf(2, (cfn) => cfn.lambda.hold(2, 3600)());

    expect(held.throttles).toEqual([]);
    expect(held.create.elapsedSeconds).toBe(30);
  });

  test('a hold takes its slots for its span of emulated time, and is recorded', async () => {
    const clock = new EmulatedClock(0, START);
    const lambda = new LocalLambda({ clock, waits: new Waits(clock), concurrency: 3 });

    lambda.hold(2, 10);

    expect(lambda.freeSlots).toBe(1);
    expect(lambda.holds).toEqual([{ slots: 2, fromMs: START.getTime(), untilMs: START.getTime() + 10_000 }]);
    // Nothing else waits: the frozen clock jumps to the hold's end (as soon as the event loop is idle; a loaded machine may take a while).
    for (const giveUpAt = Date.now() + 10_000; lambda.freeSlots !== 3 && Date.now() < giveUpAt;) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(lambda.freeSlots).toBe(3);
    expect(clock.nowMs()).toBe(START.getTime() + 10_000);
  });

  test.each([
    [0, 10, /slots must be a whole number from 1 to the account's concurrency \(3\), got 0/],
    [4, 10, /got 4/],
    [1, 0, /seconds must be a finite number > 0, got 0/],
  ])('hold(%d, %d) is refused', (slots, seconds, message) => {
    const clock = new EmulatedClock(0, START);
    const lambda = new LocalLambda({ clock, waits: new Waits(clock), concurrency: 3 });

    expect(() => lambda.hold(slots, seconds)).toThrow(message);
  });
});
