import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { FunctionDefinition, LocalCloudFormation, LocalLambda, LocalStepFunctions, synthesize, TooManyRequestsException, Waits } from '../local/cloudformation';
import { EmulatedClock } from '../local/proton';
import { probeAsset, probeStack } from './probe-provider';

// Lambda's account concurrency in the local lifecycle: an invocation holds a slot
// while it runs (in emulated time); a synchronous invoke over the limit is refused
// with TooManyRequestsException (429), an asynchronous one waits in the queue;
// Step Functions surfaces a refused task as Lambda.TooManyRequestsException.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'limits-handler-'));
// Holds its slot for 10 emulated seconds (its own setTimeout runs on the emulated clock).
fs.writeFileSync(path.join(dir, 'index.js'), `
exports.slow = async () => { await new Promise((resolve) => setTimeout(resolve, 10000)); return 'done'; };
exports.quick = async () => 'quick';
`);

const asset = probeAsset();
// A provider built as the project's: OnEvent starts the waiter, whose polls retry a refused invoke.
const assemblyDir = synthesize((app) => probeStack(new Stack(app, 'Probe'), { asset, properties: { WaitSeconds: 25 } }));

afterAll(() => [assemblyDir, dir, asset].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const SLOW_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:slow';
const QUICK_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:quick';

/** A LocalLambda on a frozen clock with the one slow function. */
function localLambda(concurrency: number, invocationOverheadMs?: number): { lambda: LocalLambda; clock: EmulatedClock; waits: Waits } {
  const clock = new EmulatedClock(0, new Date('2030-01-01T00:00:00Z'));
  const waits = new Waits(clock);
  const local = new LocalLambda({ clock, waits, concurrency, invocationOverheadMs });
  const slow: FunctionDefinition = {
    logicalId: 'Slow', functionName: 'slow', arn: SLOW_ARN, handler: 'index.slow', codeDirectory: dir,
    runtime: 'nodejs22.x', timeoutSeconds: 60, memorySize: 128, environment: {},
  };
  local.add(slow);
  local.add({ ...slow, logicalId: 'Quick', functionName: 'quick', arn: QUICK_ARN, handler: 'index.quick' });
  return { lambda: local, clock, waits };
}

describe('Lambda concurrency', () => {
  test('an invocation overhead holds the slot for that long on the emulated clock, even for a handler that returns at once', async () => {
    // GIVEN one slot and 250 ms of overhead per invocation
    const { lambda: local, clock } = localLambda(1, 250);
    const startMs = clock.nowMs();

    // WHEN a handler that returns at once runs, and another invoke comes meanwhile
    const running = local.invoke(QUICK_ARN, '{}');
    const refused = await local.invoke(QUICK_ARN, '{}').then(() => undefined, (e: unknown) => e);

    // THEN the second is refused, and the first ends 250 ms later
    expect(refused).toBeInstanceOf(TooManyRequestsException);
    await expect(running).resolves.toMatchObject({ StatusCode: 200 });
    expect(clock.nowMs() - startMs).toBe(250);
    // AND without overhead, the same handler takes no emulated time
    const { lambda: free, clock: freeClock } = localLambda(1);
    const freeStart = freeClock.nowMs();
    await free.invoke(QUICK_ARN, '{}');
    expect(freeClock.nowMs() - freeStart).toBe(0);
  });

  test('a synchronous invoke over the limit is refused with TooManyRequestsException, HTTP 429', async () => {
    // GIVEN one slot, held by a 10-second invocation
    const { lambda: local } = localLambda(1);
    const running = local.invoke(SLOW_ARN, '{}');

    // WHEN another invoke comes while it runs
    const refused = await local.invoke(SLOW_ARN, '{}').then(() => undefined, (e: unknown) => e);

    // THEN Lambda refuses it as its API does
    expect(refused).toBeInstanceOf(TooManyRequestsException);
    expect(refused).toMatchObject({ name: 'TooManyRequestsException', message: 'Rate Exceeded.', $metadata: { httpStatusCode: 429 } });
    expect((refused as Error).stack).toMatch(/^TooManyRequestsException: Rate Exceeded\./);
    expect(local.throttles).toEqual([expect.objectContaining({ functionLogicalId: 'Slow', invocationType: 'RequestResponse' })]);
    expect(Buffer.from((await running).Payload).toString()).toBe('"done"');
    // AND the slot is free again once the invocation ended
    await expect(local.invoke(SLOW_ARN, '{}')).resolves.toMatchObject({ StatusCode: 200 });
  });

  test('an asynchronous invoke over the limit waits in the queue and runs once a slot is free', async () => {
    // GIVEN one slot, held for 10 emulated seconds
    const { lambda: local, clock } = localLambda(1);
    const startMs = clock.nowMs();
    const running = local.invoke(SLOW_ARN, '{}');

    // WHEN an event arrives meanwhile
    const outcome = await local.invokeAsync(SLOW_ARN, '{}');

    // THEN it was sent back to the queue (with backoff) until the slot was free, then ran to the end
    expect(outcome).toBe('ok');
    await running;
    const queued = local.throttles.filter((t) => t.invocationType === 'Event');
    expect(queued.length).toBeGreaterThanOrEqual(2);
    expect(queued.every((t) => t.atMs < startMs + 10_000)).toBe(true);
    expect(local.invocations.map((i) => i.outcome)).toEqual(['ok', 'ok']);
    // The second ran after the first ended: two 10-second runs in a row, plus the queue's backoff.
    expect((clock.nowMs() - startMs) / 1000).toBeGreaterThanOrEqual(20);
    expect(local.peakConcurrency).toBe(1);
  });

  test('Step Functions surfaces a refused task as Lambda.TooManyRequestsException to the Retry', async () => {
    // GIVEN a state machine that retries the throttle, and the one slot held for 10 s
    const { lambda: local, waits } = localLambda(1);
    const stepFunctions = new LocalStepFunctions(local, waits);
    stepFunctions.add('arn:aws:states:us-east-1:123456789012:stateMachine:m', {
      StartAt: 'Call',
      States: {
        Call: {
          Type: 'Task', Resource: SLOW_ARN, End: true,
          Retry: [{ ErrorEquals: ['Lambda.TooManyRequestsException'], IntervalSeconds: 4, MaxAttempts: 5, BackoffRate: 1 }],
        },
      },
    });
    const running = local.invoke(SLOW_ARN, '{}');

    // WHEN an execution starts meanwhile
    stepFunctions.startExecution({ stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:m' });
    const execution = stepFunctions.executions[0];
    await execution.done;
    await running;

    // THEN the throttled attempts went through the Retry until the slot was free (at 10 s: attempts at 0, 4, 8, 12 s)
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.events.filter((e) => e.kind === 'task-failed')).toEqual([
      { kind: 'task-failed', state: 'Call', error: 'Lambda.TooManyRequestsException' },
      { kind: 'task-failed', state: 'Call', error: 'Lambda.TooManyRequestsException' },
      { kind: 'task-failed', state: 'Call', error: 'Lambda.TooManyRequestsException' },
    ]);
  });
});

describe('a provider that invokes no function synchronously, under a low concurrency', () => {
  test('one slot: the waiter\'s first poll, refused while OnEvent holds the slot, goes through its Retry, and the Create succeeds', async () => {
    // Each invocation holds its slot a second longer than its code runs, so OnEvent still holds
    // it when the execution it started runs its first Poll.
    const cfn = await LocalCloudFormation.start({ assemblyDir, stackName: 'Probe', protonEndpoint: 'http://127.0.0.1:9', lambdaConcurrency: 1, invocationOverheadMs: 1000 });
    try {
      const [create] = (await cfn.createStack()).requests;

      expect(create.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'probe' });
      expect(cfn.lambda.peakConcurrency).toBe(1);
      // OnEvent starts the execution while it runs: the first poll finds the slot taken.
      const [execution] = create.executions;
      expect(execution.events.slice(0, 3)).toEqual([
        { kind: 'task', state: 'Poll', attempt: 1 },
        { kind: 'task-failed', state: 'Poll', error: 'Lambda.TooManyRequestsException' },
        { kind: 'retry-wait', state: 'Poll', seconds: expect.any(Number) },
      ]);
      expect(cfn.lambda.throttles.length).toBeGreaterThanOrEqual(1);
      expect(cfn.lambda.throttles.every((t) => t.invocationType === 'RequestResponse' && t.functionLogicalId.startsWith('IsComplete'))).toBe(true);
      expect(cfn.lambda.invocations.map((i) => i.outcome).every((o) => o === 'ok')).toBe(true);
    } finally {
      await cfn.stop();
    }
  });

  test('the default concurrency is Lambda\'s default quota, 1,000', async () => {
    const cfn = await LocalCloudFormation.start({ assemblyDir, stackName: 'Probe', protonEndpoint: 'http://127.0.0.1:9' });
    try {
      expect(cfn.lambda.concurrency).toBe(1000);
    } finally {
      await cfn.stop();
    }
  });
});
