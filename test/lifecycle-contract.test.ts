/**
 * CloudFormation's contract, case by case, through the local lifecycle: one
 * answer per request, the same with a transient fault as without, delivered
 * before `ServiceTimeout` while Lambda, S3 and Proton come back in time.
 */
import * as fs from 'fs';
import { Stack } from 'aws-cdk-lib';
import { CancelPipelineDeployment } from '../lib';
import { LocalCloudFormation, RequestResult, synthesize } from '../local/cloudformation';
import { LocalProton, SCENARIOS, ServiceOptions } from '../local/proton';

const SERVICE = 'orders';

let assemblyDir: string;

beforeAll(() => {
  assemblyDir = synthesize((app) => {
    const stack = new Stack(app, 'Contract', { env: { account: '123456789012', region: 'us-east-1' } });
    new CancelPipelineDeployment(stack, 'Cancel', { serviceName: SERVICE });
  });
});

afterAll(() => fs.rmSync(assemblyDir, { recursive: true, force: true }));

interface Run {
  readonly result: RequestResult;
  readonly proton: LocalProton;
  readonly cfn: LocalCloudFormation;
}

/**
 * Sends one request on a fresh deployment, after `arrange` (faults, holds).
 * Properties override the template's; an Update comes with Trigger changed, during a forward update.
 */
async function send(requestType: 'Create' | 'Update', pipeline: ServiceOptions, properties: Record<string, string>,
  arrange: (d: { proton: LocalProton; cfn: LocalCloudFormation; logicalId: string }) => void = () => undefined,
  options: { lambdaConcurrency?: number; stackStatus?: string } = {}): Promise<Run> {
  const proton = await LocalProton.start({ timeScale: 0, rateLimits: false });
  const cfn = await LocalCloudFormation.start({
    assemblyDir, protonEndpoint: proton.endpoint, clock: proton.clock, region: proton.region, account: proton.account,
    protonIam: proton, lambdaConcurrency: options.lambdaConcurrency,
  });
  try {
    proton.addService(SERVICE, pipeline);
    const [logicalId] = cfn.customResourceIds;
    arrange({ proton, cfn, logicalId });
    const result = await cfn.sendRequest(requestType, logicalId, { ...properties, Trigger: 'new' }, requestType === 'Update' ? SERVICE : undefined, {
      oldProperties: { ...properties, Trigger: 'old' },
      stackStatus: options.stackStatus ?? (requestType === 'Update' ? 'UPDATE_IN_PROGRESS' : 'CREATE_IN_PROGRESS'),
    });
    expect(cfn.tracesOf(result.request.ResponseURL)).toEqual([]);
    expect(cfn.parameterStore.parameters()).toEqual([]);
    return { result, proton, cfn };
  } finally {
    await cfn.stop();
    await proton.stop();
  }
}

/** What CloudFormation read, without what differs from run to run (request ids, times). */
function answer(run: Run): Record<string, unknown> {
  const { Status, PhysicalResourceId, Reason, Data } = run.result.response;
  const data = Data && Object.fromEntries(Object.entries(Data).filter(([key]) => !key.endsWith('At')));
  return { Status, PhysicalResourceId, Reason, Data: data };
}

function acceptedCancels(run: Run): number {
  return run.proton.calls.filter((c) => c.operation === 'CancelServicePipelineDeployment' && (c.status === 200 || c.lostAnswerStatus === 200)).length;
}

describe('one answer per request: a second delivery sends nothing, or the same body', () => {
  test.each([
    ['a cancelled pipeline', SCENARIOS['in-progress'], {}],
    ['a Create failed under failUnlessCancelled (the deployment ended FAILED)', SCENARIOS['cancel-fails'], { FailUnlessCancelled: 'true' }],
  ])('%s, delivered again after the answer and at the same moment', async (_, pipeline, properties) => {
    const once = await send('Create', pipeline, properties);
    const after = await send('Create', pipeline, properties, ({ cfn }) => cfn.deliverTwice({ delivery: 'after-answer' }));
    const together = await send('Create', pipeline, properties, ({ cfn }) => cfn.deliverTwice({ delivery: 'concurrent' }));

    for (const twice of [after, together]) {
      expect(twice.result.deliveries).toEqual(['ok', 'ok']);
      expect(answer(twice)).toEqual(answer(once));
      // Every successful PUT carried the one body (the lifecycle refuses answers that differ), and one cancel went out.
      expect(new Set(twice.result.responseAttempts.filter((a) => a.status === 200).map((a) => a.body)).size).toBe(1);
      expect(acceptedCancels(twice)).toBe(1);
    }
  });
});

describe("the answer's PUT failing for a while", () => {
  test.each([
    ['503 five times in a row', { answer: 'SlowDown' as const, times: 5 }],
    ['503 for 3 minutes', { answer: 'SlowDown' as const, seconds: 180 }],
    ['dropped connections for 2 minutes', { answer: 'drop' as const, seconds: 120 }],
  ])('%s: the same SUCCESS, sent again with the same body', async (_, fault) => {
    const fine = await send('Create', SCENARIOS['in-progress'], {});
    const faulty = await send('Create', SCENARIOS['in-progress'], {}, ({ cfn, proton, logicalId }) => {
      // From the cancel's end, when the waiter answers.
      const fromMs = proton.clock.nowMs() + 119_000;
      cfn.responses.failPuts('times' in fault
        ? { answer: fault.answer, times: fault.times, logicalId, fromMs }
        : { answer: fault.answer, logicalId, fromMs, untilMs: fromMs + fault.seconds * 1000 });
    });

    expect(answer(faulty)).toEqual(answer(fine));
    expect(answer(fine)).toMatchObject({ Status: 'SUCCESS', Data: { DeploymentStatus: 'CANCELLED', CancellationRequested: 'true' } });
    const failedPuts = faulty.result.responseAttempts.filter((a) => a.status !== 200);
    expect(failedPuts.length).toBeGreaterThanOrEqual('times' in fault ? fault.times : 2);
    expect(new Set(faulty.result.responseAttempts.map((a) => a.body)).size).toBe(1);
  });
});

describe('a first read that stays throttled for a while changes nothing: no cancel is sent without it', () => {
  test.each([
    ['failIfNothingToCancel, pipeline SUCCEEDED', SCENARIOS.succeeded, { FailIfNothingToCancel: 'true' }, 'FAILED'],
    ['failUnlessCancelled, pipeline SUCCEEDED (never cancelled)', SCENARIOS.succeeded, { FailUnlessCancelled: 'true' }, 'SUCCESS'],
    ['pipeline DELETE_IN_PROGRESS', { pipeline: { status: 'DELETE_IN_PROGRESS' } } as ServiceOptions, {}, 'SUCCESS'],
  ])('%s', async (_, pipeline, properties, status) => {
    const fine = await send('Create', pipeline, properties);
    // 20 throttles: four steps' worth of the SDK's 5 attempts, a minute of steps.
    const faulty = await send('Create', pipeline, properties, ({ proton }) => proton.injectFaults('GetService', { kind: 'throttle', times: 20 }));

    expect(answer(faulty)).toEqual(answer(fine));
    expect(answer(fine).Status).toBe(status);
    expect(faulty.proton.count('CancelServicePipelineDeployment')).toBe(0);
    expect(faulty.result.elapsedSeconds).toBeLessThan(120);
  });
});

describe('Lambda starved of concurrency: the answer is late, never lost', () => {
  test('the account\'s only slot held by other work for 30 minutes while a Create waits: the same answer, before ServiceTimeout', async () => {
    const fine = await send('Create', SCENARIOS['in-progress'], {}, () => undefined, { lambdaConcurrency: 1 });
    const starved = await send('Create', SCENARIOS['in-progress'], {}, ({ cfn, proton }) => {
      // From 5 s into the wait (the first step read and cancelled at once: only waits move the clock),
      // the waiter's polls and the answer are refused for 30 minutes.
      cfn.lambda.hold(1, 1800, { atMs: proton.clock.nowMs() + 5_000 });
    }, { lambdaConcurrency: 1 });

    expect(answer(starved)).toEqual(answer(fine));
    // The cancel went out before the hold began: the hold fell on the wait, as meant.
    const [firstRead, cancel] = starved.proton.calls;
    expect([cancel.operation, cancel.at.getTime() - firstRead.at.getTime()]).toEqual(['CancelServicePipelineDeployment', 0]);
    expect(starved.result.elapsedSeconds).toBeGreaterThanOrEqual(1800);
    expect(starved.result.elapsedSeconds).toBeLessThan(Number(starved.result.request.ResourceProperties.ServiceTimeout));
    expect(starved.cfn.lambda.throttles.length).toBeGreaterThan(10);
  });
});

describe('a rollback never fails', () => {
  test.each([
    ['the stack status cannot be read (DescribeStacks refused)', 'UPDATE_IN_PROGRESS', ({ cfn }: { cfn: LocalCloudFormation }) => cfn.denyDescribeStacks()],
    ['a rollback whose response URL cannot be stored', 'UPDATE_ROLLBACK_IN_PROGRESS',
      ({ cfn }: { cfn: LocalCloudFormation }) => cfn.parameterStore.injectFaults('PutParameter', { kind: 'internal-error', times: Infinity })],
  ])('an Update with a changed trigger and an invalid timeout reports when %s', async (_, stackStatus, arrange) => {
    const run = await send('Update', SCENARIOS['in-progress'], { TimeoutSeconds: '7' }, arrange, { stackStatus });

    expect(run.result.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: SERVICE, Data: { CancellationRequested: 'false' } });
    expect(run.proton.count('CancelServicePipelineDeployment')).toBe(0);
  });
});
