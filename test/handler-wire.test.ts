import { checkComplete, handleEvent, ResourceEvent } from '../lambda/cancel';
import { timing } from '../lambda/retry';
import { LocalProton, SCENARIOS } from '../local/proton';

// The handler from source, over HTTP, against the local Proton endpoint: the
// real SDK's retries, error parsing and timestamps. Only the handler's own
// retry waits are shortened (a few real milliseconds each), on a clock that
// counts them as the full wait.

const KEY = 'AKIDHANDLERWIRE';
const SERVICE = 'wire-svc';

let proton: LocalProton;
let logs: string[];
let retryClockMs: number;
let sleeps: number[];
/** Runs during the handler's next retry wait, once. */
let duringNextWait: (() => void) | undefined;

function event(requestType: 'Create', properties: Record<string, string> = {}): ResourceEvent {
  return {
    RequestType: requestType, ServiceToken: 'token', ResponseURL: 'https://example.com/secret', StackId: 'stack', RequestId: 'r',
    LogicalResourceId: 'Cancel', ResourceType: 'Custom::ProtonCancelPipelineDeployment',
    ResourceProperties: { ServiceToken: 'token', ServiceName: SERVICE, ...properties },
  } as ResourceEvent;
}

/** Calls recorded before the current test. */
let earlier = 0;

function calls(): string[] {
  return proton.calls.slice(earlier).map(c => `${c.operation} ${c.status}`);
}

beforeAll(async () => {
  proton = await LocalProton.start({ timeScale: 0 });
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
    const response = await handleEvent(event('Create'));

    // THEN
    expect(calls()).toEqual(['GetService 403', 'GetService 200', 'CancelServicePipelineDeployment 200']);
    expect(sleeps).toEqual([1_000]);
    expect(response.Data).toMatchObject({ DeploymentStatus: 'CANCELLING', CancellationRequested: 'true' });
  });

  test('denied throughout: fails after 60 seconds of retries with the existing sentence', async () => {
    proton.addService(SERVICE, SCENARIOS['in-progress']);
    proton.allow(KEY, ['another-service']);

    await expect(handleEvent(event('Create'))).rejects.toThrow(
      new RegExp(`^Access denied to proton:GetService on Proton service '${SERVICE}' in us-east-1 \\(AWS Proton said: User: .* is not authorized .*\\); the provider's role allows it`));
    // The SDK does not retry a denial: one call per handler attempt.
    expect(calls()).toEqual(Array(8).fill('GetService 403'));
    expect(sleeps.reduce((a, b) => a + b, 0)).toBe(60_000);
  });
});

describe('errors and answers over the wire', () => {
  beforeEach(() => {
    proton.allow(KEY, [SERVICE]);
    proton.addService(SERVICE, SCENARIOS['in-progress']);
  });

  test('a poll is one HTTP attempt; a server fault is repeated at the next poll', async () => {
    proton.injectFaults('GetService', { kind: 'error', name: 'InternalServerException' });

    await expect(checkComplete({ ...event('Create'), PhysicalResourceId: SERVICE, WaitStartedAt: Date.now() })).resolves.toEqual({ IsComplete: false });
    expect(calls()).toEqual(['GetService 500']);
    expect(logs.map(l => JSON.parse(l).step)).toEqual(['poll-failed']);
  });

  test('a throttled poll is repeated at the next poll', async () => {
    proton.injectFaults('GetService', { kind: 'throttle' });

    await expect(checkComplete({ ...event('Create'), PhysicalResourceId: SERVICE, WaitStartedAt: Date.now() })).resolves.toEqual({ IsComplete: false });
    expect(calls()).toEqual(['GetService 429']);
  });

  test('the SDK marks a 500 as a server fault, which onEvent reports after its attempts', async () => {
    // Faults for this service only, for good: no other test uses it.
    proton.allow(KEY, ['broken-svc']);
    proton.addService('broken-svc', SCENARIOS['in-progress']);
    proton.injectFaults('GetService', { kind: 'error', name: 'InternalServerException', times: Infinity, serviceName: 'broken-svc' });

    await expect(handleEvent(event('Create', { ServiceName: 'broken-svc' }))).rejects.toThrow(
      "AWS Proton failed proton:GetService for Proton service 'broken-svc' in us-east-1 with HTTP 500 through every retry (AWS Proton said: Injected InternalServerException.); deploy again later.");
    expect(calls()).toEqual(Array(5).fill('GetService 500'));
  });

  test('epoch timestamps become ISO 8601 attributes', async () => {
    const attempted = new Date('2026-11-20T08:00:00.000Z');
    const succeeded = new Date('2026-11-19T07:30:15.250Z');
    proton.addService(SERVICE, { pipeline: { status: 'FAILED', lastDeploymentAttemptedAt: attempted, lastDeploymentSucceededAt: succeeded } });

    const response = await handleEvent(event('Create'));

    expect(response.Data).toMatchObject({
      DeploymentStatus: 'FAILED', LastDeploymentAttemptedAt: '2026-11-20T08:00:00.000Z', LastDeploymentSucceededAt: '2026-11-19T07:30:15.250Z',
    });
  });
});
