import { CancelServicePipelineDeploymentCommand, GetServiceCommand, ProtonClient } from '@aws-sdk/client-proton';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { onEvent, THROTTLE_RETRY } from '../lambda';
import { ResourceEvent, step, WaiterState } from '../lambda/cancel';
import * as respond from '../lambda/respond';
import { timing } from '../lambda/retry';

// Many instances created at once against services that throttle per operation
// (token buckets), in virtual time: each instance runs onEvent, or the waiter's
// steps every poll interval as the provider's state machine does. The SDK's
// own retries (standard mode: up to the client's maxAttempts, full jitter from
// a 500 ms throttling base, 20 s cap) are emulated in the mock, since the mock
// replaces the SDK's middleware.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.AWS_REGION = 'us-east-1';
process.env.WAITER_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:Waiter';
process.env.RESPONSE_URL_PARAMETER_PREFIX = '/cdk-proton-cancel-pipeline-deployment/Stack/a1b2c3d4';

const proton = mockClient(ProtonClient);
const parameterStore = mockClient(SSMClient);
const stepFunctions = mockClient(SFNClient);

/** Emulated time, milliseconds. Advanced by the driver, never by the code under test. */
let nowMs = 0;

interface Timer { readonly at: number; readonly resolve: () => void }
let timers: Timer[] = [];

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => timers.push({ at: nowMs + ms, resolve }));
}

/** A token bucket: `rate` per second, holding at most `burst`. */
class Bucket {
  private tokens: number;
  private last = 0;
  constructor(private readonly rate: number, private readonly burst: number) {
    this.tokens = burst;
  }
  take(): boolean {
    this.tokens = Math.min(this.burst, this.tokens + (nowMs - this.last) * this.rate / 1000);
    this.last = nowMs;
    if (this.tokens < 1) {
      return false;
    }
    this.tokens -= 1;
    return true;
  }
}

/** Counts the calls throttled in one run. */
class Meter {
  throttled = 0;

  /** One HTTP request as the wire would see it: throws ThrottlingException when the bucket is empty. */
  request(bucket: Bucket): void {
    if (!bucket.take()) {
      this.throttled++;
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    }
  }
}

/** The SDK's standard retry mode around one request, with the client's maxAttempts. */
async function send<T>(meter: Meter, bucket: Bucket, maxAttempts: number, answer: () => T): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      meter.request(bucket);
      return answer();
    } catch (error) {
      if (attempt >= maxAttempts) {
        throw error;
      }
      await sleep(Math.floor(Math.random() * Math.min(20_000, 500 * 2 ** attempt)));
    }
  }
}

/** Runs `count` instances at once until each has finished; returns when the last did (emulated seconds). */
async function runAll(count: number, instance: (i: number) => Promise<void>): Promise<number> {
  nowMs = 0;
  timers = [];
  let finishedAt = 0;
  const all = Promise.all(Array.from({ length: count }, async (_, i) => {
    await instance(i);
    finishedAt = Math.max(finishedAt, nowMs);
  }));
  let running = true;
  void all.finally(() => { running = false; });
  while (running) {
    // Let every ready continuation run, then move the clock to the next timer.
    await new Promise(resolve => setImmediate(resolve));
    if (!running) {
      break;
    }
    timers.sort((a, b) => a.at - b.at);
    const next = timers.shift();
    if (next) {
      nowMs = Math.max(nowMs, next.at);
      next.resolve();
    }
  }
  await all;
  return Math.round(finishedAt / 1000);
}

function request(i: number, properties: Record<string, string> = {}): ResourceEvent {
  return {
    RequestType: 'Create', ServiceToken: 'token', ResponseURL: 'https://example.com/secret', StackId: 'stack', RequestId: `r${i}`,
    LogicalResourceId: `Cancel${i}`, ResourceType: 'Custom::ProtonCancelPipelineDeployment',
    ResourceProperties: { ServiceToken: 'token', ServiceName: `svc-${i}`, ...properties },
  } as ResourceEvent;
}

/** A seeded generator (mulberry32) in place of Math.random: a run is the same at every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6D2B79F5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let window: number;
beforeEach(() => {
  window = THROTTLE_RETRY.onEventMs;
  jest.spyOn(Math, 'random').mockImplementation(seeded(1));
  proton.reset();
  parameterStore.reset();
  stepFunctions.reset();
  jest.spyOn(Date, 'now').mockImplementation(() => nowMs);
  jest.spyOn(timing, 'now').mockImplementation(() => nowMs);
  jest.spyOn(timing, 'sleep').mockImplementation(sleep);
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterEach(() => {
  THROTTLE_RETRY.onEventMs = window;
  jest.restoreAllMocks();
});

describe('many waiters at once against a throttling Proton', () => {
  /**
   * Runs `count` Creates' waiters at once against Proton at `getRate`/`cancelRate`
   * requests per second (burst twice that); every service is IN_PROGRESS and a
   * cancel takes 120 s. Each waiter steps every `pollSeconds` until its answer.
   */
  async function load(count: number, getRate: number, cancelRate: number, properties: Record<string, string> = {}, pollSeconds = 15) {
    const buckets = { get: new Bucket(getRate, 2 * getRate), cancel: new Bucket(cancelRate, 2 * cancelRate) };
    const meter = new Meter();
    const cancelledAt = new Map<string, number>();
    const cancels = new Map<string, number>();
    const status = (name: string) => {
      const at = cancelledAt.get(name);
      return at === undefined ? 'IN_PROGRESS' : nowMs - at >= 120_000 ? 'CANCELLED' : 'CANCELLING';
    };
    const pipeline = (name: string) => ({
      arn: `arn:aws:proton:us-east-1:123456789012:service/${name}/pipeline`, templateName: 't', templateMajorVersion: '1', templateMinorVersion: '0', deploymentStatus: status(name),
    });
    proton.on(GetServiceCommand).callsFake(async (input, client) =>
      send(meter, buckets.get, await client().config.maxAttempts(), () => ({ service: { name: input.name, pipeline: pipeline(input.name) } })));
    proton.on(CancelServicePipelineDeploymentCommand).callsFake(async (input, client) =>
      send(meter, buckets.cancel, await client().config.maxAttempts(), () => {
        cancels.set(input.serviceName, (cancels.get(input.serviceName) ?? 0) + 1);
        cancelledAt.set(input.serviceName, nowMs);
        return { pipeline: pipeline(input.serviceName) };
      }));

    const answers: Array<NonNullable<WaiterState['Answer']>> = [];
    const seconds = await runAll(count, async (i) => {
      const { ResponseURL: _, ...input } = request(i, properties);
      let state = input as WaiterState;
      const arrivedAt = nowMs;
      for (;;) {
        state = await step(state, async () => arrivedAt);
        if (state.Answer) {
          answers.push(state.Answer);
          return;
        }
        await sleep(pollSeconds * 1000);
      }
    });
    const failed = answers.filter(a => a.status === 'FAILED').map(a => (a as { reason: string }).reason);
    return { answers, failed, seconds, throttled: meter.throttled, cancels: [...cancels.values()] };
  }

  // Seeds 1 to 5 end at 263 to 313 emulated seconds: the polls of 400 waiters every 15 s ask for about
  // 27 GetService per second of the 10 allowed, so a poll is often throttled and repeated at the next interval.
  test('400 at 10 GetService and 5 cancels per second (burst twice that): all cancelled, each once, in under 6 minutes', async () => {
    const result = await load(400, 10, 5);

    expect(result.failed).toEqual([]);
    expect(result.answers).toHaveLength(400);
    expect(result.answers.every(a => a.status === 'SUCCESS' && a.data?.DeploymentStatus === 'CANCELLED' && a.data.CancellationRequested === 'true')).toBe(true);
    // A throttled step is repeated, never decided: every service's cancel is sent exactly once.
    expect(result.cancels).toEqual(Array(400).fill(1));
    expect(result.throttled).toBeGreaterThan(0);
    expect(result.seconds).toBeLessThan(360);
  });

  test('a Proton too slow for the timeout fails the rest with a sentence within a minute of their timeout: none hangs', async () => {
    // GIVEN 400 cancels at 0.5 per second: 800 s, past the 300-second timeout
    const result = await load(400, 10, 0.5, { TimeoutSeconds: '300' });

    // THEN every instance has its answer; those that failed say why
    expect(result.answers).toHaveLength(400);
    expect(result.failed.length).toBeGreaterThan(100);
    const sentence = new RegExp('^(AWS Proton kept throttling proton:(GetService|CancelServicePipelineDeployment) for Proton service \'svc-\\d+\' in us-east-1 through every retry; '
      + 'deploy again later, or deploy fewer stacks at once\\.|Timed out after 5m \\d+s waiting for the pipeline deployment of Proton service \'svc-\\d+\' .*)$');
    expect(result.failed.filter(reason => !sentence.test(reason))).toEqual([]);
    // The last answer: a first step begun just before the timeout (its read's and cancel's SDK retries), a poll interval, one more step.
    expect(result.seconds).toBeLessThanOrEqual(360);
  });
});

describe('many onEvents at once against throttling Parameter Store and Step Functions', () => {
  /** Runs `count` onEvents at once; PutParameter and StartExecution at `rate` per second (burst twice that). */
  async function load(count: number, rate: number) {
    const buckets = { store: new Bucket(rate, 2 * rate), start: new Bucket(rate, 2 * rate) };
    const meter = new Meter();
    const started: string[] = [];
    parameterStore.on(PutParameterCommand).callsFake(async () => send(meter, buckets.store, 5, () => ({ Version: 1 })));
    stepFunctions.on(StartExecutionCommand).callsFake(async (input) => send(meter, buckets.start, 5, () => {
      started.push(input.name!);
      return { executionArn: `arn:execution:${input.name}`, startDate: new Date(nowMs) };
    }));
    // The answers onEvent sends (a FAILED one for each waiter that could not start).
    const answered: string[] = [];
    jest.spyOn(respond, 'sendAnswer').mockImplementation(async (_request, answer) => {
      answered.push((answer as { reason: string }).reason);
    });
    const seconds = await runAll(count, (i) => onEvent(request(i)));
    return { started, answered, seconds, throttled: meter.throttled };
  }

  test('400 at 5 per second each (burst twice that): every waiter starts within the 150-second window', async () => {
    const result = await load(400, 5);

    expect(THROTTLE_RETRY.onEventMs).toBe(150_000);
    expect(result.answered).toEqual([]);
    expect(new Set(result.started).size).toBe(400);
    expect(result.throttled).toBeGreaterThan(0);
    expect(result.seconds).toBeLessThan(150);
  });

  test('without the window (the SDK\'s 5 attempts alone), most of the 400 fail to start', async () => {
    THROTTLE_RETRY.onEventMs = 0;

    const result = await load(400, 5);

    expect(result.started.length).toBeLessThan(200);
    expect(result.answered).toHaveLength(400 - result.started.length);
    expect(result.answered[0]).toMatch(/^The cancel for Proton service 'svc-\d+' in us-east-1 was not started: AWS (Systems Manager Parameter Store|Step Functions).* \(ThrottlingException\); deploy again later\.$/);
  });
});
