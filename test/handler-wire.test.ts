import * as http from 'http';
import { AddressInfo } from 'net';
import { step, WaiterState } from '../lambda/cancel';
import { timing } from '../lambda/retry';
import { LocalProton, SCENARIOS } from '../local/proton';

// The waiter's steps from source, over HTTP, against the local Proton
// endpoint: the real SDK's retries, error parsing and timestamps. Only the
// handler's own retry waits are shortened (a few real milliseconds each), on a
// clock that counts them as the full wait.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const KEY = 'AKIDHANDLERWIRE';
const SERVICE = 'wire-svc';

let proton: LocalProton;
let logs: string[];
let retryClockMs: number;
let sleeps: number[];
/** Runs during the handler's next retry wait, once. */
let duringNextWait: (() => void) | undefined;

function request(properties: Record<string, string> = {}): WaiterState {
  return {
    RequestType: 'Create', ServiceToken: 'token', StackId: 'stack', RequestId: 'r',
    LogicalResourceId: 'Cancel', ResourceType: 'Custom::ProtonCancelPipelineDeployment',
    ResourceProperties: { ServiceToken: 'token', ServiceName: SERVICE, ...properties },
  } as WaiterState;
}

/** A first step, the request having arrived `agoMs` before. */
function firstStep(state: WaiterState, agoMs = 0): Promise<WaiterState> {
  return step(state, async () => Date.now() - agoMs);
}

/** A poll, in a wait that began now. */
function poll(): Promise<WaiterState> {
  return step({ ...request(), Progress: { StartedAt: Date.now(), Phase: 'wait' } }, async () => Date.now());
}

/** Calls recorded before the current test. */
let earlier = 0;

function calls(): string[] {
  return proton.calls.slice(earlier).map(c => `${c.operation} ${c.status ?? 'dropped'}`);
}

function steps(): string[] {
  return logs.map(l => JSON.parse(l).step);
}

beforeAll(async () => {
  // The clock is frozen, so a rate limit's bucket would never refill: no rate limits here (the load tests have them).
  proton = await LocalProton.start({ timeScale: 0, rateLimits: false });
  process.env.AWS_ENDPOINT_URL_PROTON = proton.endpoint;
  process.env.AWS_REGION = proton.region;
  process.env.AWS_ACCESS_KEY_ID = KEY;
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
});

afterAll(async () => {
  await proton.stop();
});

beforeEach(() => {
  earlier = proton.calls.length;
  retryClockMs = 0;
  sleeps = [];
  duringNextWait = undefined;
  logs = [];
  jest.spyOn(console, 'log').mockImplementation((line: string) => { logs.push(line); });
  jest.spyOn(timing, 'now').mockImplementation(() => retryClockMs);
  jest.spyOn(timing, 'sleep').mockImplementation(async (ms) => {
    sleeps.push(ms);
    retryClockMs += ms;
    duringNextWait?.();
    duringNextWait = undefined;
    await new Promise(resolve => setTimeout(resolve, 5));
  });
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('access denied over the wire', () => {
  test('denied, then allowed (the policy took effect): the cancel goes through', async () => {
    // GIVEN the handler's key denied this service until its first retry wait
    proton.addService(SERVICE, SCENARIOS['in-progress']);
    proton.allow(KEY, ['another-service']);
    duringNextWait = () => proton.allow(KEY, [SERVICE]);

    // WHEN
    const state = await firstStep(request());

    // THEN
    expect(calls()).toEqual(['GetService 403', 'GetService 200', 'CancelServicePipelineDeployment 200']);
    expect(sleeps).toEqual([1_000]);
    expect(state.Progress).toMatchObject({ Phase: 'wait', CancellationRequested: true });
  });

  test('denied throughout: fails after 60 seconds of retries with the existing sentence', async () => {
    proton.addService(SERVICE, SCENARIOS['in-progress']);
    proton.allow(KEY, ['another-service']);

    const state = await firstStep(request());

    expect(state.Answer).toMatchObject({
      status: 'FAILED',
      reason: expect.stringMatching(new RegExp(`^Access denied to proton:GetService on Proton service '${SERVICE}' in us-east-1 \\(AWS Proton said: User: .* is not authorized .*\\); the provider's role allows it`)),
    });
    // The SDK does not retry a denial: one call per handler attempt.
    expect(calls()).toEqual(Array(8).fill('GetService 403'));
    expect(sleeps.reduce((a, b) => a + b, 0)).toBe(60_000);
  });
});

describe('faults over the wire', () => {
  beforeEach(() => {
    proton.allow(KEY, [SERVICE]);
    proton.addService(SERVICE, SCENARIOS['in-progress']);
  });

  test('a poll is one HTTP attempt; a server fault is repeated at the next poll', async () => {
    proton.injectFaults('GetService', { kind: 'error', name: 'InternalServerException' });

    const state = await poll();

    expect(state.Answer).toBeUndefined();
    expect(calls()).toEqual(['GetService 500']);
    expect(steps()).toEqual(['poll-failed']);
  });

  test('a throttled poll is repeated at the next poll', async () => {
    proton.injectFaults('GetService', { kind: 'throttle' });

    const state = await poll();

    expect(state.Answer).toBeUndefined();
    expect(calls()).toEqual(['GetService 429']);
  });

  test('a 500 through the SDK\'s attempts repeats the first step within its window, and fails it past the window', async () => {
    proton.injectFaults('GetService', { kind: 'error', name: 'InternalServerException', times: 10 });

    const inside = await firstStep(request());
    const past = await firstStep(request(), 120_000);

    expect(inside).toEqual({ ...request(), Progress: { StartedAt: expect.any(Number), Phase: 'start' } });
    expect(past.Answer).toMatchObject({
      status: 'FAILED',
      reason: "AWS Proton failed proton:GetService for Proton service 'wire-svc' in us-east-1 with HTTP 500 through every retry (AWS Proton said: Injected InternalServerException.); deploy again later.",
    });
    expect(calls()).toEqual(Array(10).fill('GetService 500'));
  });

  test('a load balancer\'s bare 503 is a passing fault', async () => {
    proton.injectFaults('GetService', { kind: 'unavailable', times: 5 });

    const state = await firstStep(request());

    expect(state.Answer).toBeUndefined();
    expect(calls()).toEqual(Array(5).fill('GetService 503'));
    expect(steps()).toEqual(['step-repeat']);
  });

  // A dropped connection is not tested here: under Jest, Node's socket errors come from another realm, and the
  // SDK's retry middleware wraps them as `Error('AWS SDK error wrapper for TimeoutError: socket hang up')`,
  // losing `code: 'ECONNRESET'`. In Lambda the handler gets the SDK's own shape (name TimeoutError, code
  // ECONNRESET), which handler-faults tests.

  // The SDK's deserialization error carries the answer's status (200): it is still "not valid Proton JSON",
  // never a refusal quoting the SDK's hint.
  test('a 200 that is not JSON fails at once, saying so', async () => {
    proton.injectFaults('GetService', { kind: 'malformed' });

    const state = await firstStep(request());

    expect(state.Answer).toMatchObject({
      status: 'FAILED', reason: "AWS Proton sent an answer to proton:GetService for Proton service 'wire-svc' in us-east-1 that is not valid Proton JSON; deploy again later.",
    });
  });

  test('an endpoint that is gone decides at once: "could not reach"', async () => {
    await proton.shutDown();
    try {
      const state = await firstStep(request());

      expect(state.Answer).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/^Could not reach AWS Proton for Proton service 'wire-svc' in us-east-1 \(ECONNREFUSED, /) });
    } finally {
      await proton.resume();
    }
  });

  test('epoch timestamps become ISO 8601 attributes', async () => {
    const attempted = new Date('2026-11-20T08:00:00.000Z');
    const succeeded = new Date('2026-11-19T07:30:15.250Z');
    proton.addService(SERVICE, { pipeline: { status: 'FAILED', lastDeploymentAttemptedAt: attempted, lastDeploymentSucceededAt: succeeded } });

    const state = await firstStep(request());

    expect(state.Answer).toMatchObject({
      status: 'SUCCESS',
      data: { DeploymentStatus: 'FAILED', LastDeploymentAttemptedAt: '2026-11-20T08:00:00.000Z', LastDeploymentSucceededAt: '2026-11-19T07:30:15.250Z' },
    });
  });
});

describe('a cancel whose answer is lost on the way back', () => {
  /** A front that passes calls to Proton, and drops the connection instead of passing back the first cancel's answer. */
  async function losingFront(target: string): Promise<{ url: string; close: () => Promise<void> }> {
    let lost = false;
    const server = http.createServer((req, res) => {
      const loseThis = !lost && String(req.headers['x-amz-target']).endsWith('.CancelServicePipelineDeployment');
      lost ||= loseThis;
      const url = new URL(target);
      const upstream = http.request({ host: url.hostname, port: url.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        if (loseThis) {
          answer.resume();
          answer.on('end', () => res.socket?.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise(resolve => { server.closeAllConnections(); server.close(() => resolve()); }),
    };
  }

  test('the SDK\'s retry is refused, and the cancel counts as ours', async () => {
    // GIVEN a handler whose Proton client reaches Proton through the front
    proton.allow(KEY, [SERVICE]);
    proton.addService(SERVICE, SCENARIOS['in-progress']);
    const front = await losingFront(proton.endpoint);
    const endpoint = process.env.AWS_ENDPOINT_URL_PROTON;
    process.env.AWS_ENDPOINT_URL_PROTON = front.url;
    try {
      let fresh!: typeof import('../lambda/cancel');
      jest.isolateModules(() => {
        /* eslint-disable @typescript-eslint/no-require-imports */
        fresh = require('../lambda/cancel');
        /* eslint-enable @typescript-eslint/no-require-imports */
      });

      // WHEN
      const state = await fresh.step(request(), async () => Date.now());

      // THEN: the first cancel went through, its answer was lost; the SDK's second attempt was refused
      expect(calls()).toEqual(['GetService 200', 'CancelServicePipelineDeployment 200', 'CancelServicePipelineDeployment 400', 'GetService 200']);
      expect(proton.status(SERVICE)).toBe('CANCELLING');
      expect(state.Progress).toMatchObject({ Phase: 'wait', CancellationRequested: true });
      expect(steps()).toContain('cancel-landed-earlier');
    } finally {
      process.env.AWS_ENDPOINT_URL_PROTON = endpoint;
      await front.close();
    }
  });
});
