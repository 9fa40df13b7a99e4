import * as fs from 'fs';
import { Duration, Stack } from 'aws-cdk-lib';
import {
  handlerSteps, LocalCloudFormation, LocalDeployment, LogRecord, MAX_RESPONSE_BYTES, operations, RequestResult, StackOperation, synthesize, withDeployment,
} from '../local/cloudformation';
import { RecordedCall, SCENARIOS } from '../local/proton';
import { cancelStack, protonRoleKey } from './cancel-stack';

// End to end: each Create goes from CloudFormation's request through the bundled
// handler and the waiter state machine (both from the synthesized assembly) to
// the local Proton endpoint, and ends in the response the handler PUTs to
// CloudFormation. Clocks are frozen: only the waiter's synthesized Wait interval
// moves them, so elapsed times are exact. Emulated time starts at the real time:
// the local Proton endpoint's HTTP Date header is real time, and the SDK retries
// an error once when its clock is more than 5 minutes off the server's.

const SERVICE = 'web-api';
const PIPELINE_ARN = `arn:aws:proton:us-east-1:123456789012:service/${SERVICE}/pipeline`;

let assemblyDir: string | undefined;

/** One assembly for the file, with a stack per set of properties. */
function assembly(): string {
  assemblyDir ??= synthesize((app) => {
    cancelStack(new Stack(app, 'Default'), { serviceName: SERVICE });
    cancelStack(new Stack(app, 'FailIfNothing'), { serviceName: SERVICE, failIfNothingToCancel: true });
    cancelStack(new Stack(app, 'FailUnlessCancelled'), { serviceName: SERVICE, failUnlessCancelled: true });
    cancelStack(new Stack(app, 'ShortTimeout'), { serviceName: SERVICE, timeout: Duration.minutes(1) });
    cancelStack(new Stack(app, 'NoWait'), { serviceName: SERVICE, waitForFinalStatus: false });
  });
  return assemblyDir;
}

afterAll(() => {
  if (assemblyDir) {
    fs.rmSync(assemblyDir, { recursive: true, force: true });
  }
});

interface CreateRun {
  readonly operation: StackOperation;
  /** The Create's request and response. */
  readonly create: RequestResult;
  /** Proton calls of the whole operation (the Create, and the Delete of a rollback). */
  readonly calls: RecordedCall[];
  readonly handlerKey: string;
  readonly cfn: LocalCloudFormation;
  readonly outputs?: Record<string, string>;
  /** Emulated time when the service was added, epoch milliseconds. */
  readonly startMs: number;
}

/** Creates `stackName` after `setup` prepared Proton; the stack rolls back if the Create fails. */
async function createStack(stackName: string, setup: (d: LocalDeployment) => void | Promise<void>,
  during?: (d: LocalDeployment) => Promise<void>): Promise<CreateRun> {
  return withDeployment(assembly(), stackName, async (d) => {
    const startMs = d.proton.clock.nowMs();
    await setup(d);
    const [[operation], calls] = await d.protonCalls(() => Promise.all([d.cfn.createStack(), during?.(d)]));
    const outputs = operation.stackStatus === 'CREATE_COMPLETE' ? d.cfn.outputs() : undefined;
    return { operation, create: operation.requests[0], calls, handlerKey: protonRoleKey(d.cfn), cfn: d.cfn, outputs, startMs };
  });
}

/** ISO 8601 of emulated time `seconds` after `startMs`. */
function at(startMs: number, seconds: number): string {
  return new Date(startMs + seconds * 1000).toISOString();
}

/** Checks a failed Create rolled back with a Delete that reached neither the handler nor Proton. */
function expectRolledBackWithoutProton(run: CreateRun, callsOfCreate: number): void {
  expect(run.operation.stackStatus).toBe('ROLLBACK_COMPLETE');
  const [create, rollback] = run.operation.requests;
  expect(rollback.request).toMatchObject({ RequestType: 'Delete', PhysicalResourceId: create.response.PhysicalResourceId });
  expect(rollback.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: create.response.PhysicalResourceId });
  expect(run.calls).toHaveLength(callsOfCreate);
}

describe('Create', () => {
  test('cancel succeeds: CANCELLED after the waiter polls at the synthesized interval', async () => {
    // GIVEN a pipeline deployment in progress, whose cancellation takes 120 s
    const run = await createStack('Default', ({ proton }) => proton.addService(SERVICE, SCENARIOS['in-progress']));

    // THEN CloudFormation receives one SUCCESS with every attribute
    expect(run.operation.stackStatus).toBe('CREATE_COMPLETE');
    expect(run.create.response).toEqual({
      Status: 'SUCCESS',
      StackId: run.cfn.stackId,
      RequestId: run.create.request.RequestId,
      LogicalResourceId: run.create.request.LogicalResourceId,
      PhysicalResourceId: SERVICE,
      Data: {
        DeploymentStatus: 'CANCELLED',
        DeploymentStatusMessage: 'User initiated cancellation.',
        PipelineArn: PIPELINE_ARN,
        TemplateName: 'svc-template',
        TemplateMajorVersion: '1',
        TemplateMinorVersion: '0',
        // LocalProton's defaults: attempted 60 s before the service was added, succeeded 10 minutes after it was created a day earlier.
        LastDeploymentAttemptedAt: at(run.startMs, -60),
        LastDeploymentSucceededAt: at(run.startMs, -86_400 + 600),
        CancellationRequested: 'true',
      },
    });
    expect(run.outputs).toMatchObject({ CancelDeploymentStatus: 'CANCELLED', CancelCancellationRequested: 'true', CancelPipelineArn: PIPELINE_ARN });

    // AND Proton got one read, one cancel, then a read per poll: every 15 s from the cancel up to 120 s
    expect(operations(run.calls)).toEqual(['GetService', 'CancelServicePipelineDeployment', ...Array(8).fill('GetService')]);
    expect(run.calls.every((c) => c.accessKeyId === run.handlerKey && c.status === 200)).toBe(true);
    expect(run.create.elapsedSeconds).toBe(120);
    const waits = run.create.executions[0].events.filter((e) => e.kind === 'wait');
    expect(waits).toHaveLength(8);
    expect(waits.every((e) => e.kind === 'wait' && e.seconds === 15)).toBe(true);

    // AND the handler logged one JSON line per step; Create never asks CloudFormation for the stack status
    const steps = handlerSteps(run.create.logs);
    expect(steps.map((s) => s.step)).toEqual(['waiter-started', 'read', 'cancel-sent', ...Array(8).fill('poll'), 'answered']);
    expect(steps[1]).toMatchObject({ serviceName: SERVICE, deploymentStatus: 'IN_PROGRESS' });
    expect(steps[10]).toMatchObject({ deploymentStatus: 'CANCELLED', waitedSeconds: 120 });
    expect(steps[11]).toEqual({ step: 'answered', status: 'SUCCESS' });
    expect(run.cfn.cloudFormationCalls).toEqual([]);
  });

  test('the ResponseURL reaches no log, no execution and no call record, and is removed after the answer', async () => {
    const run = await createStack('Default', ({ proton }) => proton.addService(SERVICE, SCENARIOS['in-progress']));

    const signature = new URL(run.create.request.ResponseURL).searchParams.get('X-Amz-Signature')!;
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    const leaks = (logs: readonly LogRecord[]) => logs.filter((l) => l.message.includes(signature));
    // Nothing the functions print, written or not, holds it; yet the request passed through them.
    expect(run.cfn.logs.length).toBeGreaterThan(10);
    expect(leaks(run.cfn.logs)).toEqual([]);
    expect(run.create.executions).toHaveLength(1);
    expect(run.create.executions[0].input).toContain(run.create.request.RequestId);
    expect(run.cfn.tracesOf(signature)).toEqual([]);
    // It was kept as a SecureString, and only there, until the answer.
    expect(run.cfn.parameterStore.calls.map((c) => c.operation)).toEqual(['PutParameter', 'GetParameter', 'GetParameter', 'DeleteParameter']);
    expect(run.cfn.parameterStore.parameters()).toEqual([]);
  });

  test('without waiting, completes at CANCELLING as soon as the cancel is sent', async () => {
    const run = await createStack('NoWait', ({ proton }) => proton.addService(SERVICE, SCENARIOS['in-progress']));

    expect(run.create.response).toMatchObject({ Status: 'SUCCESS', Data: { DeploymentStatus: 'CANCELLING', CancellationRequested: 'true' } });
    expect(operations(run.calls)).toEqual(['GetService', 'CancelServicePipelineDeployment']);
    expect(run.create.elapsedSeconds).toBe(0);
  });

  test('cancel fails: reports FAILED by default', async () => {
    const run = await createStack('Default', ({ proton }) => proton.addService(SERVICE, SCENARIOS['cancel-fails']));

    expect(run.create.response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: SERVICE,
      Data: { DeploymentStatus: 'FAILED', DeploymentStatusMessage: 'Cancellation of the deployment failed.', CancellationRequested: 'true' },
    });
    expect(run.calls.filter((c) => c.operation === 'CancelServicePipelineDeployment')).toHaveLength(1);
  });

  test('cancel fails with failUnlessCancelled: the Create fails, naming the status', async () => {
    const run = await createStack('FailUnlessCancelled', ({ proton }) => proton.addService(SERVICE, SCENARIOS['cancel-fails']));

    expect(run.create.response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: SERVICE });
    expect(run.create.response.Data).toBeUndefined();
    expect(run.create.response.Reason).toMatch(/^The pipeline deployment of Proton service 'web-api' in us-east-1 ended FAILED, not CANCELLED, and failUnlessCancelled is set\.$/);
    expect(run.operation.stackStatus).toBe('ROLLBACK_COMPLETE');
  });

  test('deployment finishes first while the cancel is pending: SUCCEEDED', async () => {
    // GIVEN a deployment that succeeds 30 s in, before the 120 s cancellation can complete
    const run = await createStack('Default', ({ proton }) => proton.addService(SERVICE, SCENARIOS['succeeds-first']));

    expect(run.create.response).toMatchObject({
      Status: 'SUCCESS',
      Data: { DeploymentStatus: 'SUCCEEDED', CancellationRequested: 'true', LastDeploymentSucceededAt: at(run.startMs, 30) },
    });
    expect(run.create.elapsedSeconds).toBe(30);
  });

  test('deployment finished just before the cancel arrived: Proton refuses it, SUCCEEDED is reported', async () => {
    // GIVEN a deployment due to finish 30 s in, and a cancel held on the wire while the clock passes that point
    const run = await createStack('Default', ({ proton }) => {
      proton.addService(SERVICE, { pipeline: { status: 'IN_PROGRESS', finishesAfter: 30 } });
      proton.injectFaults('CancelServicePipelineDeployment', { kind: 'slow', delayMs: 300 });
    }, async ({ proton }) => {
      while (proton.count('CancelServicePipelineDeployment') === 0) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      proton.clock.advance(60);
    });

    // THEN the refused cancel is followed by a read that shows the race was lost
    expect(run.calls.map((c) => `${c.operation} ${c.status}`)).toEqual([
      'GetService 200', 'CancelServicePipelineDeployment 400', 'GetService 200',
    ]);
    expect(handlerSteps(run.create.logs).slice(2)).toEqual([
      { step: 'cancel-lost-race', serviceName: SERVICE, deploymentStatus: 'SUCCEEDED' },
      { step: 'answered', status: 'SUCCESS' },
    ]);
    expect(run.create.response).toMatchObject({ Status: 'SUCCESS', Data: { DeploymentStatus: 'SUCCEEDED' } });
  });

  test('deployment finished first with failUnlessCancelled: the Create fails', async () => {
    const run = await createStack('FailUnlessCancelled', ({ proton }) => proton.addService(SERVICE, SCENARIOS['succeeds-first']));

    expect(run.create.response.Status).toBe('FAILED');
    expect(run.create.response.Reason).toMatch(/'web-api' in us-east-1 ended SUCCEEDED, not CANCELLED/);
  });

  test('nothing in progress: succeeds and reports the status, without a cancel', async () => {
    const run = await createStack('Default', ({ proton }) => proton.addService(SERVICE, SCENARIOS.succeeded));

    expect(run.create.response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: SERVICE,
      Data: { DeploymentStatus: 'SUCCEEDED', CancellationRequested: 'false' },
    });
    expect(operations(run.calls)).toEqual(['GetService']);
  });

  test('nothing in progress with failIfNothingToCancel: the Create fails and its rollback Delete is a no-op', async () => {
    const run = await createStack('FailIfNothing', ({ proton }) => proton.addService(SERVICE, SCENARIOS.succeeded));

    expect(run.create.response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: SERVICE });
    expect(run.create.response.Reason).toMatch(/^Nothing to cancel: the pipeline deployment of Proton service 'web-api' in us-east-1 is SUCCEEDED, not IN_PROGRESS, and failIfNothingToCancel is set\./);
    expectRolledBackWithoutProton(run, 1);
  });

  test('already CANCELLING: no cancel is sent, the Create waits for the final status', async () => {
    // GIVEN a cancellation already under way, ending 60 s after the service was added
    const run = await createStack('Default', ({ proton }) => proton.addService(SERVICE, SCENARIOS.cancelling));

    expect(run.create.response).toMatchObject({ Status: 'SUCCESS', Data: { DeploymentStatus: 'CANCELLED', CancellationRequested: 'false' } });
    expect(operations(run.calls)).toEqual(Array(5).fill('GetService'));
    expect(run.create.elapsedSeconds).toBe(60);
  });

  test('service missing: fails, naming service and region; the failed Create is then deleted without a Proton call', async () => {
    const run = await createStack('Default', () => undefined);

    expect(run.create.response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: SERVICE });
    expect(run.create.response.Reason).toMatch(/^Proton service 'web-api' in us-east-1 was not found \(AWS Proton said: .*\); check serviceName/);
    expect(run.calls.map((c) => `${c.operation} ${c.status}`)).toEqual(['GetService 404']);
    // The Delete of the rollback is answered by the ServiceToken function alone, without the waiter.
    const [, rollback] = run.operation.requests;
    const serviceToken = run.cfn.lambda.get(String(rollback.request.ResourceProperties.ServiceToken));
    expect(rollback.invocations.map((i) => i.functionLogicalId)).toEqual([serviceToken.logicalId]);
    expect(rollback.executions).toEqual([]);
    expectRolledBackWithoutProton(run, 1);
  });

  test('service without pipeline: fails with what to do', async () => {
    const run = await createStack('Default', ({ proton }) => proton.addService(SERVICE, SCENARIOS['no-pipeline']));

    expect(run.create.response.Status).toBe('FAILED');
    expect(run.create.response.Reason).toMatch(/^Proton service 'web-api' in us-east-1 has no service pipeline/);
    expect(operations(run.calls)).toEqual(['GetService']);
  });

  test('access denied by the emulated IAM: retried for 60 s (in real time), then fails, naming action, service and region', async () => {
    // GIVEN the handler's role denied this service (as a service control policy would)
    const run = await createStack('Default', ({ proton, cfn }) => {
      proton.addService(SERVICE, SCENARIOS['in-progress']);
      proton.allow(protonRoleKey(cfn), ['another-service']);
    });

    expect(run.create.response.Status).toBe('FAILED');
    expect(run.create.response.Reason).toMatch(/^Access denied to proton:GetService on Proton service 'web-api' in us-east-1 \(AWS Proton said: User: .* is not authorized/);
    // A policy may take a while to be in effect: the first call and 7 retries over 60 s, none retried by the SDK.
    expect(run.calls.map((c) => `${c.errorType} ${c.accessKeyId}`)).toEqual(Array(8).fill(`AccessDeniedException ${run.handlerKey}`));
  }, 120_000);

  test('Proton never reaches a final status: times out, naming service and last status', async () => {
    // GIVEN a cancellation that never completes, and a 1-minute timeout
    const run = await createStack('ShortTimeout', ({ proton }) => proton.addService(SERVICE, SCENARIOS['cancel-hangs']));

    expect(run.create.response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: SERVICE });
    expect(run.create.response.Reason).toMatch(
      /^Timed out after 1m 0s waiting for the pipeline deployment of Proton service 'web-api' in us-east-1 to reach a final status; last status: CANCELLING\./);
    // The handler gives up at its timeout, well before CloudFormation's ServiceTimeout.
    expect(run.create.elapsedSeconds).toBe(60);
    expect(Number(run.create.request.ResourceProperties.ServiceTimeout)).toBeGreaterThan(60);
    expect(operations(run.calls)).toEqual(['GetService', 'CancelServicePipelineDeployment', ...Array(4).fill('GetService')]);
  });

  test('a 51,200-character spec reaches neither the response nor any log', async () => {
    // GIVEN a service whose spec is 51,200 characters, with a recognizable canary
    const canary = 'SPEC-CANARY-7f3a';
    const spec = ('proton: ServiceSpec\n' + `# ${canary}\n`.repeat(4000)).slice(0, 51_200);
    const run = await createStack('Default', ({ proton }) => proton.addService(SERVICE, { ...SCENARIOS['in-progress'], spec }));

    expect(spec).toHaveLength(51_200);
    expect(run.calls.some((c) => c.operation === 'GetService' && c.status === 200)).toBe(true);
    expect(run.create.response).toMatchObject({ Status: 'SUCCESS', Data: { DeploymentStatus: 'CANCELLED' } });
    expect(run.create.responseBytes).toBeLessThan(2_000);
    expect(JSON.stringify(run.operation)).not.toContain(canary);
    expect(run.cfn.logs.filter((l) => l.message.includes(canary))).toEqual([]);
  });

  test('a status message far over the limit is cut so the response stays under 4,096 bytes', async () => {
    // GIVEN a 6,000-character message full of characters that JSON escapes
    const message = '"quoted"\n\t\\'.repeat(500);
    const run = await createStack('Default', ({ proton }) =>
      proton.addService(SERVICE, { pipeline: { status: 'FAILED', deploymentStatusMessage: message } }));

    const data = run.create.response.Data as Record<string, string>;
    expect(data.DeploymentStatusMessage.endsWith('…')).toBe(true);
    expect(message.startsWith(data.DeploymentStatusMessage.slice(0, -1))).toBe(true);
    expect(run.create.responseBytes).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
  });
});

describe('Create over a faulty wire (the SDK\'s retry waits pass on the emulated clock)', () => {
  test.concurrent('a throttling burst is retried, then the cancel succeeds', async () => {
    const run = await createStack('Default', ({ proton }) => {
      proton.addService(SERVICE, SCENARIOS['in-progress']);
      proton.injectFaults('GetService', { kind: 'throttle', times: 2 });
    });

    expect(run.create.response).toMatchObject({ Status: 'SUCCESS', Data: { DeploymentStatus: 'CANCELLED' } });
    expect(run.calls.slice(0, 4).map((c) => `${c.operation} ${c.status}`)).toEqual([
      'GetService 429', 'GetService 429', 'GetService 200', 'CancelServicePipelineDeployment 200',
    ]);
  });

  test.concurrent('throttling of every read that never stops: no cancel is sent; the first step is taken again at each interval until the timeout', async () => {
    const run = await createStack('Default', ({ proton }) => {
      proton.addService(SERVICE, SCENARIOS['in-progress']);
      proton.injectFaults('GetService', { kind: 'throttle', times: Infinity });
    });

    expect(run.create.response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: SERVICE });
    expect(run.create.response.Reason).toMatch(
      /^AWS Proton kept throttling proton:GetService for Proton service 'web-api' in us-east-1\b.*deploy again later/s);
    // Never a cancel without a read: each step is the read's 5 attempts, repeated after the poll interval.
    expect(run.calls.every((c) => c.operation === 'GetService' && c.status === 429)).toBe(true);
    const steps = handlerSteps(run.create.logs).filter((s) => s.step === 'step-repeat');
    expect(steps.length).toBeGreaterThan(100);
    // The 30 minutes count from the request's arrival.
    expect(run.create.elapsedSeconds).toBeGreaterThanOrEqual(1_800);
    expect(run.create.elapsedSeconds).toBeLessThan(1_800 + 15 + 30);
    expect(run.operation.stackStatus).toBe('ROLLBACK_COMPLETE');
  });

  test.concurrent('5xx answers are retried, then the cancel succeeds', async () => {
    const run = await createStack('Default', ({ proton }) => {
      proton.addService(SERVICE, SCENARIOS['in-progress']);
      proton.injectFaults('CancelServicePipelineDeployment', { kind: 'error', name: 'InternalServerException' }, { kind: 'unavailable' });
    });

    expect(run.create.response).toMatchObject({ Status: 'SUCCESS', Data: { DeploymentStatus: 'CANCELLED', CancellationRequested: 'true' } });
    expect(run.calls.filter((c) => c.operation === 'CancelServicePipelineDeployment').map((c) => c.status)).toEqual([500, 503, 200]);
  });

  test.concurrent('a dropped connection is retried, then the cancel succeeds', async () => {
    const run = await createStack('Default', ({ proton }) => {
      proton.addService(SERVICE, SCENARIOS['in-progress']);
      proton.injectFaults('GetService', { kind: 'drop' });
    });

    expect(run.create.response).toMatchObject({ Status: 'SUCCESS', Data: { DeploymentStatus: 'CANCELLED' } });
    expect(run.calls.slice(0, 2).map((c) => `${c.operation} ${c.fault ?? c.status}`)).toEqual(['GetService drop', 'GetService 200']);
  });

  test.concurrent('Proton unreachable: fails in seconds, naming service and region', async () => {
    const run = await createStack('Default', async ({ proton }) => {
      proton.addService(SERVICE, SCENARIOS['in-progress']);
      await proton.shutDown();
    });

    expect(run.create.response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: SERVICE });
    expect(run.create.response.Reason).toMatch(
      /^Could not reach AWS Proton for Proton service 'web-api' in us-east-1 \(ECONNREFUSED\b.*remove this construct/s);
    expect(run.operation.stackStatus).toBe('ROLLBACK_COMPLETE');
  });
});
