/**
 * What the handler tests share: requests as CloudFormation sends them, Proton
 * answers as the SDK returns them, AWS errors, the log lines, and a driver that
 * takes a request to its answer the way the waiter state machine does (a step,
 * then the poll interval, until the state holds an `Answer`).
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ProtonClient, type ServicePipeline } from '@aws-sdk/client-proton';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { ResourceEvent, step, WaiterState } from '../lambda/cancel';
import type { Answer } from '../lambda/respond';
import { timing } from '../lambda/retry';

// The SDK warns once per process that its releases from 2027 need Node 22; the package supports Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const SERVICE = 'my-service';
export const REGION = 'eu-west-1';
export const STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Stack/guid';
export const REQUEST_ID = 'd4c1b1e0-5f7a-4b0e-9a53-0d2a3c1c9f10';
export const RESPONSE_URL = 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/secret?X-Amz-Signature=abc';
export const PIPELINE_ARN = `arn:aws:proton:eu-west-1:123456789012:service/${SERVICE}/pipeline/a1b2`;
/** 2026-12-01T10:00:00Z: when the tests' requests reach the provider. */
export const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);

const SERVICE_TOKEN = 'arn:aws:lambda:eu-west-1:123456789012:function:onEvent';

export const PROPERTIES = {
  ServiceToken: SERVICE_TOKEN,
  ServiceName: SERVICE,
  WaitForFinalStatus: 'true',
  TimeoutSeconds: '1800',
  FailIfNothingToCancel: 'false',
  FailUnlessCancelled: 'false',
};

export type Properties = Partial<typeof PROPERTIES> & { Trigger?: string; ServiceTimeout?: string };

export function pipeline(deploymentStatus: string, extra: Partial<ServicePipeline> = {}): ServicePipeline {
  return {
    arn: PIPELINE_ARN,
    templateName: 'pipeline-template',
    templateMajorVersion: '1',
    templateMinorVersion: '3',
    createdAt: new Date('2026-11-01T10:00:00Z'),
    lastDeploymentAttemptedAt: new Date('2026-11-26T09:30:00Z'),
    lastDeploymentSucceededAt: new Date('2026-11-20T08:00:00Z'),
    deploymentStatus,
    spec: 'proton: ServiceSpec',
    ...extra,
  } as ServicePipeline;
}

/** A GetService answer; `undefined` status: a service without pipeline. */
export function service(deploymentStatus: string | undefined, extra: Partial<ServicePipeline> = {}, name = SERVICE) {
  return {
    service: {
      name,
      arn: `arn:aws:proton:eu-west-1:123456789012:service/${name}`,
      templateName: 'service-template',
      templateMajorVersion: '1',
      templateMinorVersion: '0',
      status: 'ACTIVE',
      spec: 'proton: ServiceSpec',
      createdAt: new Date('2026-11-01T10:00:00Z'),
      lastModifiedAt: new Date('2026-11-26T09:30:00Z'),
      pipeline: deploymentStatus ? pipeline(deploymentStatus, extra) : undefined,
    },
  } as never;
}

/** An error as the SDK throws it for an AWS error answer. */
export function awsError(name: string, httpStatusCode: number, message = `${name} from AWS`, attempts = 1) {
  return Object.assign(new Error(message), {
    name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode, attempts },
  });
}

/** A network error as Node reports it (no AWS answer at all). */
export function networkError(code: string, message = `connect ${code} 127.0.0.1:443`) {
  return Object.assign(new Error(message), { code, $metadata: {} });
}

/** The request CloudFormation sends (an Update's old properties: `old` over the defaults). */
export function event(requestType: 'Create' | 'Update' | 'Delete', properties: Properties = {}, old: Properties = { Trigger: 'old' }): ResourceEvent {
  const base = {
    ServiceToken: SERVICE_TOKEN,
    ResponseURL: RESPONSE_URL,
    StackId: STACK_ID,
    RequestId: REQUEST_ID,
    LogicalResourceId: 'Cancel',
    ResourceType: 'Custom::ProtonCancelPipelineDeployment',
    ResourceProperties: { ...PROPERTIES, ...properties },
  };
  switch (requestType) {
    case 'Create': return { ...base, RequestType: 'Create' } as ResourceEvent;
    case 'Update': return { ...base, RequestType: 'Update', PhysicalResourceId: SERVICE, OldResourceProperties: { ...PROPERTIES, ...old } } as ResourceEvent;
    case 'Delete': return { ...base, RequestType: 'Delete', PhysicalResourceId: SERVICE } as ResourceEvent;
  }
}

/** The waiter's first state for a request: the request less its URL, as onEvent starts it. */
export function waiterState(requestType: 'Create' | 'Update' | 'Delete', properties: Properties = {}, old?: Properties): WaiterState {
  const { ResponseURL: _, ...request } = event(requestType, properties, old);
  return request as WaiterState;
}

/** Captures the handler's log lines; `steps()` gives them parsed. */
export function captureLogs(): { lines: string[]; steps: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  jest.spyOn(console, 'log').mockImplementation((line: string) => { lines.push(line); });
  return { lines, steps: () => lines.map(line => JSON.parse(line)) };
}

/**
 * Fake time for a test: the wall clock (`Date.now()`, from `T0`) and the
 * retries' monotonic clock, both moved only by the retries' sleeps and by
 * `advance`. `sleeps` records each wait of `withRetries`.
 */
export function fakeClocks(): { sleeps: number[]; retryClockMs: () => number; advance: (ms: number) => void } {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'], now: T0 });
  let retryClockMs = 0;
  const sleeps: number[] = [];
  const advance = (ms: number) => {
    retryClockMs += ms;
    jest.setSystemTime(Date.now() + ms);
  };
  jest.spyOn(timing, 'now').mockImplementation(() => retryClockMs);
  jest.spyOn(timing, 'sleep').mockImplementation(async (ms) => {
    sleeps.push(ms);
    advance(ms);
  });
  return { sleeps, retryClockMs: () => retryClockMs, advance };
}

/** What `drive` saw: the answer, the steps taken, and every state the waiter held. */
export interface Driven {
  readonly answer: Answer;
  readonly steps: number;
  readonly states: WaiterState[];
  /** Milliseconds from the first step to the answer. */
  readonly tookMs: number;
}

/**
 * Takes a request to its answer as the waiter does: `step`, and while the
 * state holds no `Answer`, waits the poll interval (on the fake clock) and
 * steps again. Fails the test if no answer comes within `maxSteps`. Needs
 * `fakeClocks` (it moves the wall clock with `jest.setSystemTime`).
 */
export async function drive(
  start: WaiterState,
  options: { pollSeconds?: number; maxSteps?: number; arrivedAt?: () => Promise<number | undefined>; beforeStep?: (n: number) => void } = {},
): Promise<Driven> {
  const arrivedAt = options.arrivedAt ?? (async () => T0);
  const maxSteps = options.maxSteps ?? 500;
  const began = Date.now();
  const states: WaiterState[] = [];
  let state = start;
  for (let n = 1; n <= maxSteps; n++) {
    options.beforeStep?.(n);
    state = await step(state, arrivedAt);
    states.push(state);
    if (state.Answer) {
      return { answer: state.Answer, steps: n, states, tookMs: Date.now() - began };
    }
    jest.setSystemTime(Date.now() + (options.pollSeconds ?? 15) * 1000);
  }
  throw new Error(`no answer after ${maxSteps} steps; last state: ${JSON.stringify(state)}`);
}

/** One PUT received by `responseServer`. */
export interface Put {
  readonly method?: string;
  readonly path?: string;
  readonly contentType?: string;
  readonly contentLength?: string;
  readonly raw: string;
  readonly body: Record<string, unknown>;
}

/**
 * A local HTTP server standing in for CloudFormation's response URL: it
 * records each PUT and answers it with the next of `statuses` (200 when none
 * is left).
 */
export async function responseServer(): Promise<{ url: string; puts: Put[]; statuses: number[]; close: () => Promise<void> }> {
  const puts: Put[] = [];
  const statuses: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', chunk => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      puts.push({
        method: req.method, path: req.url, contentType: req.headers['content-type'], contentLength: req.headers['content-length'], raw, body: JSON.parse(raw),
      });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/response?X-Amz-Signature=abc`,
    puts,
    statuses,
    close: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/**
 * What a test file of the waiter's steps works with: the Proton and
 * CloudFormation clients mocked, and before each test, the mocks reset, fresh
 * fake clocks and captured logs; real timers and mocks restored after it.
 */
export function stepTestBed(): {
  readonly proton: AwsClientStub<ProtonClient>;
  readonly cloudFormation: AwsClientStub<CloudFormationClient>;
  readonly logs: ReturnType<typeof captureLogs>;
  readonly clocks: ReturnType<typeof fakeClocks>;
  } {
  const proton = mockClient(ProtonClient);
  const cloudFormation = mockClient(CloudFormationClient);
  let logs: ReturnType<typeof captureLogs>;
  let clocks: ReturnType<typeof fakeClocks>;
  beforeEach(() => {
    proton.reset();
    cloudFormation.reset();
    clocks = fakeClocks();
    logs = captureLogs();
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });
  return { proton, cloudFormation, get logs() { return logs; }, get clocks() { return clocks; } };
}
