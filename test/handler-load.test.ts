import { CancelServicePipelineDeploymentCommand, GetServiceCommand, ProtonClient } from '@aws-sdk/client-proton';
import { mockClient } from 'aws-sdk-client-mock';
import { checkComplete, handleEvent, ResourceEvent, THROTTLE_RETRY } from '../lambda/cancel';
import { timing } from '../lambda/retry';

// Many instances created at once against a Proton that throttles per
// operation (token buckets), in virtual time: each instance runs the handler's
// handleEvent, then checkComplete every poll interval as the provider's
// waiter does. The SDK's own retries (standard mode: up to 5 attempts, full
// jitter from a 500 ms throttling base, 20 s cap) are emulated in the mock,
// since the mock replaces the SDK's middleware.

process.env.AWS_REGION = 'us-east-1';

const proton = mockClient(ProtonClient);

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

interface LoadResult {
  readonly completed: number;
  readonly failed: string[];
  readonly calls: number;
  readonly throttled: number;
  /** Highest number of accepted calls in one emulated second. */
  readonly peakPerSecond: number;
  /** Emulated seconds until the last instance finished. */
  readonly seconds: number;
}

/**
 * Runs `count` Creates at once against Proton at `getRate`/`cancelRate` requests
 * per second (burst twice that); every service is IN_PROGRESS and a cancel
 * takes 120 s.
 */
async function load(count: number, getRate: number, cancelRate: number, pollSeconds = 15): Promise<LoadResult> {
  const buckets = { GetService: new Bucket(getRate, 2 * getRate), CancelServicePipelineDeployment: new Bucket(cancelRate, 2 * cancelRate) };
  const cancelledAt = new Map<string, number>();
  let calls = 0;
  let throttled = 0;
  const perSecond = new Map<number, number>();

  /** One HTTP request as the wire would see it. */
  function request(operation: keyof typeof buckets): void {
    calls++;
    if (!buckets[operation].take()) {
      throttled++;
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 429 } });
    }
    const second = Math.floor(nowMs / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }

  /** The SDK's standard retry mode around one request, with the client's maxAttempts. */
  async function send<T>(client: ProtonClient, operation: keyof typeof buckets, answer: () => T): Promise<T> {
    const maxAttempts = await client.config.maxAttempts();
    for (let attempt = 1; ; attempt++) {
      try {
        request(operation);
        return answer();
      } catch (error) {
        if (attempt >= maxAttempts) {
          throw error;
        }
        await sleep(Math.floor(Math.random() * Math.min(20_000, 500 * 2 ** attempt)));
      }
    }
  }

  function status(name: string): string {
    const at = cancelledAt.get(name);
    return at === undefined ? 'IN_PROGRESS' : nowMs - at >= 120_000 ? 'CANCELLED' : 'CANCELLING';
  }
  function pipeline(name: string) {
    return { arn: `arn:aws:proton:us-east-1:123456789012:service/${name}/pipeline`, templateName: 't', templateMajorVersion: '1', templateMinorVersion: '0', deploymentStatus: status(name) };
  }

  nowMs = 0;
  timers = [];
  proton.reset();
  proton.on(GetServiceCommand).callsFake((input, client) => send(client(), 'GetService', () => ({ service: { name: input.name, pipeline: pipeline(input.name) } })));
  proton.on(CancelServicePipelineDeploymentCommand).callsFake((input, client) => send(client(), 'CancelServicePipelineDeployment', () => {
    cancelledAt.set(input.serviceName, nowMs);
    return { pipeline: pipeline(input.serviceName) };
  }));

  const failed: string[] = [];
  let finishedAt = 0;
  async function instance(i: number): Promise<void> {
    const event = {
      RequestType: 'Create', ServiceToken: 'token', ResponseURL: 'url', StackId: 'stack', RequestId: `r${i}`,
      LogicalResourceId: `Cancel${i}`, ResourceType: 'Custom::ProtonCancelPipelineDeployment',
      ResourceProperties: { ServiceToken: 'token', ServiceName: `svc-${i}` },
    } as ResourceEvent;
    try {
      const started = await handleEvent(event);
      for (let done = started.WaitStartedAt === undefined; !done;) {
        await sleep(pollSeconds * 1000);
        done = (await checkComplete({ ...event, ...started })).IsComplete;
      }
    } catch (error) {
      failed.push((error as Error).message);
    }
    finishedAt = Math.max(finishedAt, nowMs);
  }

  const all = Promise.all(Array.from({ length: count }, (_, i) => instance(i)));
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
  return {
    completed: count - failed.length, failed, calls, throttled,
    peakPerSecond: Math.max(...perSecond.values()), seconds: Math.round(finishedAt / 1000),
  };
}

let window: number;
beforeEach(() => {
  window = THROTTLE_RETRY.onEventMs;
  jest.spyOn(Date, 'now').mockImplementation(() => nowMs);
  jest.spyOn(timing, 'now').mockImplementation(() => nowMs);
  jest.spyOn(timing, 'sleep').mockImplementation(sleep);
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterEach(() => {
  THROTTLE_RETRY.onEventMs = window;
  jest.restoreAllMocks();
});

describe('many instances created at once against a throttling Proton', () => {
  test('400 at 10 GetService and 5 cancels per second (burst twice that): all complete, in under 5 minutes', async () => {
    const result = await load(400, 10, 5);

    // The run's figures (calls, throttled, peak, seconds) show in the diff when it fails.
    expect({ ...result, failed: result.failed.slice(0, 3) }).toMatchObject({ failed: [], completed: 400 });
    // Every cancel is sent, and the last one ends 120 s later: the whole run is bounded.
    expect(result.seconds).toBeLessThan(300);
  });

  test('without the throttling retries of onEvent, 400 at once lose most of their cancels', async () => {
    // GIVEN the handler's own throttling retries turned off: the SDK's 5 attempts alone
    THROTTLE_RETRY.onEventMs = 0;

    const result = await load(400, 10, 5);

    expect(result.failed.length).toBeGreaterThan(100);
    expect(result.failed[0]).toMatch(
      /^AWS Proton kept throttling proton:CancelServicePipelineDeployment for Proton service 'svc-\d+' in us-east-1 through every retry; deploy again later/);
  });
});
