/**
 * A transient fault never changes the answer: each case runs twice through the
 * local lifecycle (the stack's own functions and waiter, the real SDK clients
 * over HTTP), once without a fault and once with one, and CloudFormation must
 * read the same answer. fast-check draws the pairs; `FAULT_PAIRS` sets how many
 * (`npm run test:faults` runs a long series).
 */
import * as fs from 'fs';
import { Stack } from 'aws-cdk-lib';
import fc from 'fast-check';
import { CancelPipelineDeployment } from '../lib';
import { LocalCloudFormation, RequestResult, synthesize } from '../local/cloudformation';
import { LocalProton, SCENARIOS, ServiceOptions } from '../local/proton';

const PAIRS = Number(process.env.FAULT_PAIRS ?? 30);
/** Services of the stack; each run takes the next, so that nothing of one run reaches another. */
const SERVICES = Array.from({ length: 8 }, (_, i) => `svc-${i}`);

/**
 * Every deployment status of the published model, and the cases around them.
 * A pipeline here changes only in answer to the cancel, or after the longest
 * delay a fault below can cause: a fault delays when the pipeline is read, and
 * a pipeline that moves on its own meanwhile (a deployment that ends by itself
 * seconds later, the race the lifecycle tests cover) is read as it then is,
 * with or without this provider.
 */
const BASES: Record<string, ServiceOptions | undefined> = {
  'IN_PROGRESS, cancelled in 2 minutes': SCENARIOS['in-progress'],
  'IN_PROGRESS, the cancel ends FAILED': SCENARIOS['cancel-fails'],
  'IN_PROGRESS, the cancel never ends': SCENARIOS['cancel-hangs'],
  'CANCELLING, cancelled in 15 minutes': { pipeline: { status: 'CANCELLING', cancelTakes: 900 } },
  'SUCCEEDED': SCENARIOS.succeeded,
  'FAILED': SCENARIOS.failed,
  'CANCELLED': SCENARIOS.cancelled,
  'DELETE_IN_PROGRESS': { pipeline: { status: 'DELETE_IN_PROGRESS' } },
  'DELETE_COMPLETE': { pipeline: { status: 'DELETE_COMPLETE' } },
  'DELETE_FAILED': { pipeline: { status: 'DELETE_FAILED', deploymentStatusMessage: 'Deletion failed.' } },
  'no pipeline': SCENARIOS['no-pipeline'],
  'no service': undefined,
};

interface Base {
  readonly pipeline: string;
  readonly requestType: 'Create' | 'Update';
  readonly waitForFinalStatus: boolean;
  readonly failIfNothingToCancel: boolean;
  readonly failUnlessCancelled: boolean;
  readonly timeoutSeconds: number;
}

type Fault =
  | { readonly kind: 'proton'; readonly on: 'first read' | 'cancel' | 'polls'; readonly fault: 'throttle' | 'error' | 'unavailable' | 'drop'; readonly times: number }
  | { readonly kind: 'cancel answer lost' }
  | { readonly kind: 'put'; readonly answer: 'SlowDown' | 'InternalError' | 'drop'; readonly seconds: number }
  | { readonly kind: 'delivered twice'; readonly delivery: 'after-answer' | 'concurrent' }
  | { readonly kind: 'lambda held'; readonly from: 'the request' | 'the first step'; readonly seconds: number };

const base: fc.Arbitrary<Base> = fc.record({
  pipeline: fc.constantFrom(...Object.keys(BASES)),
  requestType: fc.constantFrom('Create' as const, 'Update' as const),
  waitForFinalStatus: fc.boolean(),
  failIfNothingToCancel: fc.boolean(),
  failUnlessCancelled: fc.boolean(),
  timeoutSeconds: fc.constantFrom(1200, 1800),
});

const fault: fc.Arbitrary<Fault> = fc.oneof(
  fc.record({
    kind: fc.constant('proton' as const),
    on: fc.constantFrom('first read' as const, 'cancel' as const, 'polls' as const),
    fault: fc.constantFrom('throttle' as const, 'error' as const, 'unavailable' as const, 'drop' as const),
    times: fc.integer({ min: 1, max: 8 }),
  }),
  fc.constant({ kind: 'cancel answer lost' as const }),
  fc.record({ kind: fc.constant('put' as const), answer: fc.constantFrom('SlowDown' as const, 'InternalError' as const, 'drop' as const), seconds: fc.integer({ min: 1, max: 180 }) }),
  fc.record({ kind: fc.constant('delivered twice' as const), delivery: fc.constantFrom('after-answer' as const, 'concurrent' as const) }),
  // Held from the request, OnEvent's event also waits out Lambda's queue backoff (up to about as long again).
  fc.record({ kind: fc.constant('lambda held' as const), from: fc.constantFrom('the request' as const, 'the first step' as const), seconds: fc.integer({ min: 30, max: 240 }) }),
);

/** What CloudFormation reads, with what differs between two runs by design: the service, times relative to the service's start, durations. */
interface Reading {
  readonly Status: string;
  readonly PhysicalResourceId: string;
  readonly Reason?: string;
  readonly Data?: Record<string, string>;
}

let proton: LocalProton;
/** The account's Lambda concurrency: the default, and 1 for the runs whose slot other work holds. */
let roomy: LocalCloudFormation;
let tight: LocalCloudFormation;
let assemblyDir: string;
let next = 0;

beforeAll(async () => {
  assemblyDir = synthesize((app) => {
    const stack = new Stack(app, 'Faults', { env: { account: '123456789012', region: 'us-east-1' } });
    SERVICES.forEach((serviceName, i) => new CancelPipelineDeployment(stack, `Cancel${i}`, { serviceName }));
  });
  proton = await LocalProton.start({ timeScale: 0, rateLimits: false });
  const options = { assemblyDir, protonEndpoint: proton.endpoint, clock: proton.clock, region: proton.region, account: proton.account, protonIam: proton };
  roomy = await LocalCloudFormation.start(options);
  tight = await LocalCloudFormation.start({ ...options, lambdaConcurrency: 1 });
}, 60_000);

afterAll(async () => {
  await Promise.all([roomy?.stop(), tight?.stop()]);
  await proton?.stop();
  fs.rmSync(assemblyDir, { recursive: true, force: true });
});

/** Runs one case, with or without a fault, and returns what CloudFormation read, checking what must hold of any run. */
async function run(c: Base, f: Fault | undefined): Promise<Reading> {
  const index = next++ % SERVICES.length;
  const serviceName = SERVICES[index];
  const logicalId = `Cancel${index}`;
  const cfn = f?.kind === 'lambda held' ? tight : roomy;
  const resourceId = cfn.customResourceIds.find((id) => id.startsWith(logicalId))!;
  proton.clearFaults();
  proton.clock.advance(3600);
  const startMs = proton.clock.nowMs();
  const scenario = BASES[c.pipeline];
  if (scenario) {
    proton.addService(serviceName, scenario);
  } else {
    proton.removeService(serviceName);
  }
  let release: (() => void) | undefined;
  if (f?.kind === 'proton') {
    const operation = f.on === 'cancel' ? 'CancelServicePipelineDeployment' : 'GetService';
    // The polls' faults let the first read through; each poll is one attempt.
    proton.injectFaults(operation, { kind: f.fault, times: f.times, serviceName, skip: f.on === 'polls' ? 1 : 0 });
  } else if (f?.kind === 'cancel answer lost') {
    proton.injectFaults('CancelServicePipelineDeployment', { kind: 'drop', afterApplying: true, serviceName });
  } else if (f?.kind === 'put') {
    cfn.responses.failPuts({ answer: f.answer, logicalId: resourceId, fromMs: startMs, untilMs: startMs + f.seconds * 1000 });
  } else if (f?.kind === 'lambda held') {
    // From the request: OnEvent waits for the slot. From the first step: the waiter's tasks do.
    release = cfn.lambda.hold(1, f.seconds, f.from === 'the request' ? {} : { atMs: startMs + 1 });
  }

  const properties = {
    ServiceName: serviceName,
    TimeoutSeconds: String(c.timeoutSeconds),
    WaitForFinalStatus: String(c.waitForFinalStatus),
    FailIfNothingToCancel: String(c.failIfNothingToCancel),
    FailUnlessCancelled: String(c.failUnlessCancelled),
    Trigger: 'new',
  };
  let result: RequestResult;
  try {
    result = await cfn.sendRequest(c.requestType, resourceId, properties, c.requestType === 'Update' ? serviceName : undefined, {
      delivery: f?.kind === 'delivered twice' ? f.delivery : undefined,
      oldProperties: { ...properties, Trigger: 'old' },
      stackStatus: c.requestType === 'Update' ? 'UPDATE_IN_PROGRESS' : 'CREATE_IN_PROGRESS',
    });
  } finally {
    release?.();
  }

  // At most one cancel that Proton took; the response URL nowhere but with the functions, and gone after the answer.
  const cancels = proton.calls.filter((call) => call.operation === 'CancelServicePipelineDeployment'
    && (call.input as { serviceName?: string }).serviceName === serviceName && call.at.getTime() >= startMs);
  expect(cancels.filter((call) => call.status === 200 || call.lostAnswerStatus === 200).length).toBeLessThanOrEqual(1);
  expect(cfn.tracesOf(result.request.ResponseURL)).toEqual([]);
  expect(cfn.parameterStore.parameters()).toEqual([]);
  return reading(result, serviceName, startMs);
}

function reading(result: RequestResult, serviceName: string, startMs: number): Reading {
  const general = (text: string) => text.split(serviceName).join('<service>')
    // Durations in sentences ("after 15m 0s") differ with the fault's delay.
    .replace(/\b\d+m \d+s\b|\b\d+s\b/g, '<duration>');
  const time = (value: string) => /^\d{4}-\d\d-\d\dT/.test(value) ? `start${(Date.parse(value) - startMs) / 1000 >= 0 ? '+' : ''}${(Date.parse(value) - startMs) / 1000}s` : general(value);
  const { Status, PhysicalResourceId, Reason, Data } = result.response;
  return {
    Status,
    PhysicalResourceId: general(PhysicalResourceId),
    ...(Reason === undefined ? {} : { Reason: general(Reason) }),
    ...(Data === undefined ? {} : { Data: Object.fromEntries(Object.entries(Data).map(([k, v]) => [k, time(String(v))])) }),
  };
}

test('a transient fault never changes the answer CloudFormation reads', async () => {
  await fc.assert(fc.asyncProperty(base, fault, async (c, f) => {
    const fine = await run(c, undefined);
    const faulty = await run(c, f);
    expect(faulty).toEqual(fine);
  }), { numRuns: PAIRS, endOnFailure: true });
}, 600_000);

test('the reading tells answers apart: another service, status or reason is another answer', () => {
  // The comparison must be able to fail: only the service name, times and durations are set aside.
  const answer = (status: string, reason?: string) => reading({
    response: { Status: status, PhysicalResourceId: 'svc-1', Reason: reason, Data: undefined },
  } as unknown as RequestResult, 'svc-1', 0);
  expect(answer('FAILED', 'Timed out after 2m 0s for svc-1')).toEqual(answer('FAILED', 'Timed out after 15m 30s for svc-1'));
  expect(answer('FAILED', 'Nothing to cancel')).not.toEqual(answer('FAILED', 'ended SUCCEEDED, not CANCELLED'));
  expect(answer('SUCCESS')).not.toEqual(answer('FAILED', 'x'));
});
