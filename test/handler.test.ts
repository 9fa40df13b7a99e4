/**
 * The first step of a Create (`step` in `lambda/cancel.ts`): what it reads,
 * cancels and answers for each pipeline status, the property checks, the
 * error sentences, the attributes and the SDK clients. Proton is mocked.
 * Updates: handler-update; transient faults: handler-faults; the wait: handler-wait.
 */
import { CancelServicePipelineDeploymentCommand, GetServiceCommand } from '@aws-sdk/client-proton';
import { step, WaiterState } from '../lambda/cancel';
import { DeploymentError, explainProtonError } from '../lambda/errors';
import { MAX_RESPONSE_BYTES, responseBody } from '../lambda/respond';
import { DENIED_RETRY_MS } from '../lambda/retry';
import { CALL_BUDGET_MS, CLIENT_CONFIG, MAX_ATTEMPTS, POLL_CLIENT_CONFIG, pollClient, protonClient } from '../lambda/sdk';
import {
  awsError, drive, networkError, PIPELINE_ARN, pipeline, Properties, REQUEST_ID, service, SERVICE, T0, stepTestBed, waiterState,
} from './handler-fixtures';

process.env.AWS_REGION = 'eu-west-1';

const bed = stepTestBed();
const { proton, cloudFormation } = bed;


/** The first step of a Create, the request having reached the provider at T0. */
function firstStep(properties: Properties = {}): Promise<WaiterState> {
  return step(waiterState('Create', properties), async () => T0);
}

const ALL_ATTRIBUTES = {
  DeploymentStatus: 'CANCELLING',
  DeploymentStatusMessage: '',
  PipelineArn: PIPELINE_ARN,
  TemplateName: 'pipeline-template',
  TemplateMajorVersion: '1',
  TemplateMinorVersion: '3',
  LastDeploymentAttemptedAt: '2026-11-26T09:30:00.000Z',
  LastDeploymentSucceededAt: '2026-11-20T08:00:00.000Z',
  CancellationRequested: 'true',
};

describe('the first step of a Create', () => {
  test('cancels an IN_PROGRESS deployment and goes on to wait, noting that its cancel was taken', async () => {
    // GIVEN
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

    // WHEN
    const state = await firstStep();

    // THEN
    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand).map(c => c.args[0].input)).toEqual([{ serviceName: SERVICE }]);
    expect(state).toEqual({ ...waiterState('Create'), Progress: { StartedAt: T0, Phase: 'wait', CancellationRequested: true } });
    expect(bed.logs.steps()).toEqual([
      { step: 'read', serviceName: SERVICE, deploymentStatus: 'IN_PROGRESS', next: 'cancel' },
      { step: 'cancel-sent', serviceName: SERVICE, deploymentStatus: 'CANCELLING' },
    ]);
  });

  test('counts the wait from when the request arrived (the stored URL\'s time), not from the step', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLING'));
    bed.clocks.advance(42_000);

    const state = await firstStep();

    expect(state.Progress?.StartedAt).toBe(T0);
  });

  test('counts from now when the arrival cannot be read, and logs why', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLING'));
    bed.clocks.advance(42_000);

    const unreadable = await step(waiterState('Create'), async () => { throw awsError('ThrottlingException', 400, 'Rate exceeded'); });

    expect(unreadable.Progress?.StartedAt).toBe(T0 + 42_000);
    expect(bed.logs.steps()).toContainEqual({ step: 'arrival-unknown', error: 'Rate exceeded' });
  });

  test('reads the arrival once: a later step keeps its progress', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLING'));
    const arrivedAt = jest.fn(async () => T0);

    const first = await step(waiterState('Create'), arrivedAt);
    await step(first, arrivedAt);

    expect(arrivedAt).toHaveBeenCalledTimes(1);
  });

  describe('with the options the template leaves out at their defaults', () => {
    function bare(): WaiterState {
      const full = waiterState('Create');
      const { ServiceToken, ServiceName } = full.ResourceProperties;
      return { ...full, ResourceProperties: { ServiceToken, ServiceName } } as WaiterState;
    }

    test('reports, not fails, when nothing is in progress (failIfNothingToCancel false)', async () => {
      proton.on(GetServiceCommand).resolves(service('SUCCEEDED'));

      const state = await step(bare(), async () => T0);

      expect(state.Answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'SUCCEEDED' } });
    });

    test('waits for the final status (waitForFinalStatus true)', async () => {
      proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
      proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

      const state = await step(bare(), async () => T0);

      expect(state.Answer).toBeUndefined();
      expect(state.Progress?.Phase).toBe('wait');
    });

    test('waits 30 minutes (timeout)', async () => {
      proton.on(GetServiceCommand).resolves(service('CANCELLING'));

      const { answer, tookMs } = await drive(bare());

      expect(answer).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/^Timed out after 30m 0s /) });
      expect(tookMs).toBe(1_800_000);
    });

    test('reports a final status other than CANCELLED (failUnlessCancelled false)', async () => {
      proton.on(GetServiceCommand).resolvesOnce(service('CANCELLING')).resolves(service('FAILED'));

      const { answer } = await drive(bare());

      expect(answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'FAILED' } });
    });
  });

  test('answers at once when waitForFinalStatus is false', async () => {
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

    const state = await firstStep({ WaitForFinalStatus: 'false' });

    expect(state.Answer).toEqual({ status: 'SUCCESS', physicalResourceId: SERVICE, data: ALL_ATTRIBUTES });
    expect(state.Progress).toEqual({ StartedAt: T0, Phase: 'start' });
  });

  test('waits without cancelling when the deployment is already CANCELLING', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLING'));

    const state = await firstStep();

    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
    expect(state.Answer).toBeUndefined();
    expect(state.Progress).toMatchObject({ Phase: 'wait', CancellationRequested: false });
  });

  test.each(['SUCCEEDED', 'FAILED', 'CANCELLED', 'DELETE_IN_PROGRESS', 'DELETE_FAILED', 'DELETE_COMPLETE'])(
    'reports %s without cancelling or waiting when nothing is in progress', async (status) => {
      proton.on(GetServiceCommand).resolves(service(status));

      const state = await firstStep();

      expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
      expect(state.Answer).toMatchObject({ status: 'SUCCESS', physicalResourceId: SERVICE, data: { DeploymentStatus: status, CancellationRequested: 'false' } });
    });

  test('fails when nothing is in progress and failIfNothingToCancel is set', async () => {
    proton.on(GetServiceCommand).resolves(service('SUCCEEDED'));

    const state = await firstStep({ FailIfNothingToCancel: 'true' });

    expect(state.Answer).toEqual({
      status: 'FAILED', physicalResourceId: SERVICE,
      reason: "Nothing to cancel: the pipeline deployment of Proton service 'my-service' in eu-west-1 is SUCCEEDED, not IN_PROGRESS, and failIfNothingToCancel is set.",
    });
  });

  test('reports the status reached when the deployment finished before the cancel (the race)', async () => {
    // GIVEN: read IN_PROGRESS, then the deployment succeeds and Proton refuses the cancel
    proton.on(GetServiceCommand).resolvesOnce(service('IN_PROGRESS')).resolves(service('SUCCEEDED'));
    proton.on(CancelServicePipelineDeploymentCommand).rejects(awsError('ValidationException', 400, 'Service pipeline deployment is not in progress'));

    // WHEN
    const state = await firstStep();

    // THEN: Proton refused the cancel, so it was requested but not accepted
    expect(proton.commandCalls(GetServiceCommand)).toHaveLength(2);
    expect(state.Answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'SUCCEEDED', CancellationRequested: 'false' } });
    expect(bed.logs.steps()).toContainEqual({ step: 'cancel-lost-race', serviceName: SERVICE, deploymentStatus: 'SUCCEEDED' });
    expect(bed.logs.steps()).not.toContainEqual(expect.objectContaining({ step: 'cancel-sent' }));
  });

  test('fails on the race when failUnlessCancelled is set', async () => {
    proton.on(GetServiceCommand).resolvesOnce(service('IN_PROGRESS')).resolves(service('SUCCEEDED'));
    proton.on(CancelServicePipelineDeploymentCommand).rejects(awsError('ConflictException', 409));

    const state = await firstStep({ FailUnlessCancelled: 'true' });

    expect(state.Answer).toMatchObject({
      status: 'FAILED',
      reason: "The pipeline deployment of Proton service 'my-service' in eu-west-1 ended SUCCEEDED, not CANCELLED, and failUnlessCancelled is set.",
    });
  });

  test('fails when Proton refuses the cancel of a deployment still IN_PROGRESS', async () => {
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).rejects(awsError('ValidationException', 400, 'something else is wrong'));

    const state = await firstStep();

    expect(state.Answer).toMatchObject({
      status: 'FAILED',
      reason: "AWS Proton refused proton:CancelServicePipelineDeployment for Proton service 'my-service' in eu-west-1: ValidationException (AWS Proton said: something else is wrong).",
    });
  });

  test('an accepted cancel whose answer holds no pipeline is followed by a read', async () => {
    proton.on(GetServiceCommand).resolvesOnce(service('IN_PROGRESS')).resolves(service('CANCELLING'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({});

    const state = await firstStep();

    expect(proton.commandCalls(GetServiceCommand)).toHaveLength(2);
    expect(state.Progress).toMatchObject({ Phase: 'wait', CancellationRequested: true });
  });

  test('a cancel that ends the deployment at once is reported without a wait', async () => {
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLED') });

    const state = await firstStep();

    expect(state.Answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'CANCELLED', CancellationRequested: 'true' } });
  });

  test('fails with one sentence when the service has no pipeline', async () => {
    proton.on(GetServiceCommand).resolves(service(undefined));

    const state = await firstStep();

    expect(state.Answer).toMatchObject({
      status: 'FAILED',
      reason: "Proton service 'my-service' in eu-west-1 has no service pipeline, so it has no pipeline deployment to cancel; use this construct only with services created with a pipeline.",
    });
  });

  test.each([
    ['the service does not exist', awsError('ResourceNotFoundException', 404, 'The requested resource my-service was not found.'),
      "Proton service 'my-service' in eu-west-1 was not found (AWS Proton said: The requested resource my-service was not found.); check serviceName and that the stack deploys to the account and region of the service."],
    ['a client error of another kind', awsError('ServiceQuotaExceededException', 402, 'quota'),
      "AWS Proton refused proton:GetService for Proton service 'my-service' in eu-west-1: ServiceQuotaExceededException (AWS Proton said: quota)."],
    ['a 499 without a fault mark', Object.assign(new Error('odd'), { name: 'Odd', $metadata: { httpStatusCode: 499 } }),
      "AWS Proton refused proton:GetService for Proton service 'my-service' in eu-west-1: Odd (AWS Proton said: odd)."],
    ['a client error whose message mentions parsing', awsError('ValidationException', 400, 'cannot parse the name'),
      "AWS Proton refused proton:GetService for Proton service 'my-service' in eu-west-1: ValidationException (AWS Proton said: cannot parse the name)."],
    ['an error without status, name or message', Object.assign(Object.create(null), { message: '' }),
      "AWS Proton refused proton:GetService for Proton service 'my-service' in eu-west-1: Error."],
    ['the answer holds no service', undefined,
      "AWS Proton answered proton:GetService for Proton service 'my-service' in eu-west-1 without the service; deploy again later, and check the service in the Proton console if it persists."],
    ['the answer is not JSON', Object.assign(new SyntaxError('Unexpected token < in JSON'), { $metadata: {} }),
      "AWS Proton sent an answer to proton:GetService for Proton service 'my-service' in eu-west-1 that is not valid Proton JSON; deploy again later."],
    ['the endpoint refuses connections', networkError('ECONNREFUSED'),
      "Could not reach AWS Proton for Proton service 'my-service' in eu-west-1 (ECONNREFUSED, after retrying for up to 25 seconds); AWS Proton reached end of support on October 7, 2026, so if the API is gone for good, remove this construct from the stack (Delete makes no Proton call)."],
    ['the endpoint name does not resolve', networkError('ENOTFOUND', 'getaddrinfo ENOTFOUND proton.eu-west-1.amazonaws.com'),
      "Could not reach AWS Proton for Proton service 'my-service' in eu-west-1 (ENOTFOUND, after retrying"],
    ['the network error code is only in the message', new Error('connect EHOSTUNREACH 10.0.0.1:443'),
      "Could not reach AWS Proton for Proton service 'my-service' in eu-west-1 (EHOSTUNREACH, after retrying"],
    ['the request times out', Object.assign(new Error('Request timed out'), { name: 'TimeoutError' }),
      "Could not reach AWS Proton for Proton service 'my-service' in eu-west-1 (TimeoutError, after retrying for up to 25 seconds)"],
    ['the call runs out of time', Object.assign(new Error('This operation was aborted'), { name: 'AbortError' }),
      "Could not reach AWS Proton for Proton service 'my-service' in eu-west-1 (AbortError, after retrying for up to 25 seconds)"],
  ])('fails at once, with one sentence, when %s', async (_, error, reason) => {
    if (error) {
      proton.on(GetServiceCommand).rejects(error);
    } else {
      proton.on(GetServiceCommand).resolves({});
    }

    const state = await firstStep();

    expect(state.Answer).toEqual({ status: 'FAILED', physicalResourceId: SERVICE, reason: expect.stringContaining(reason) });
    expect((state.Answer as { reason: string }).reason.startsWith(reason)).toBe(true);
    expect(proton.commandCalls(GetServiceCommand)).toHaveLength(1);
  });

  test('an error sentence is its own stack: no minified trace reaches the stack events', () => {
    const error = explainProtonError(awsError('ResourceNotFoundException', 404), 'GetService', { serviceName: SERVICE, region: 'eu-west-1' });

    expect(error).toBeInstanceOf(DeploymentError);
    expect(error.name).toBe('DeploymentError');
    expect(error.stack).toBe(error.message);
  });

  test('without AWS_REGION, the messages say the region is unknown', async () => {
    const region = process.env.AWS_REGION;
    delete process.env.AWS_REGION;
    try {
      proton.on(GetServiceCommand).rejects(awsError('ResourceNotFoundException', 404));

      const state = await firstStep();

      expect(state.Answer).toMatchObject({ reason: expect.stringMatching(/^Proton service 'my-service' in an unknown region was not found/) });
    } finally {
      process.env.AWS_REGION = region;
    }
  });

  test('a Delete reaching the waiter is answered SUCCESS with its physical id, and calls nothing', async () => {
    const state = await step(waiterState('Delete'), async () => T0);

    expect(state.Answer).toEqual({ status: 'SUCCESS', physicalResourceId: SERVICE });
    expect(proton.calls()).toHaveLength(0);
  });
});

describe('access denied (a policy not yet in effect)', () => {
  test('is retried, then the cancel goes through once access is allowed', async () => {
    // GIVEN two denials, then access
    proton.on(GetServiceCommand).rejectsOnce(awsError('AccessDeniedException', 403)).rejectsOnce(awsError('AccessDeniedException', 403))
      .resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

    // WHEN
    const state = await firstStep();

    // THEN: backoff of 1 s, then 2 s
    expect(bed.clocks.sleeps).toEqual([1_000, 2_000]);
    expect(state.Progress).toMatchObject({ Phase: 'wait', CancellationRequested: true });
  });

  test('fails with the existing sentence after 60 seconds of denials', async () => {
    proton.on(GetServiceCommand).rejects(awsError('AccessDeniedException', 403, 'User is not authorized'));

    const state = await firstStep();

    expect(state.Answer).toMatchObject({
      status: 'FAILED',
      reason: "Access denied to proton:GetService on Proton service 'my-service' in eu-west-1 (AWS Proton said: User is not authorized); the provider's role allows it for this service, so look for a service control policy or permissions boundary that denies it.",
    });
    expect(DENIED_RETRY_MS).toBe(60_000);
    expect(bed.clocks.sleeps).toEqual([1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000]);
  });

  test('a 403 of another name is a denial too', async () => {
    proton.on(GetServiceCommand).rejects(awsError('Forbidden', 403, 'no'));

    const state = await firstStep();

    expect(state.Answer).toMatchObject({ reason: expect.stringMatching(/^Access denied to proton:GetService on Proton service 'my-service' in eu-west-1 \(AWS Proton said: no\)/) });
    expect(bed.clocks.retryClockMs()).toBe(60_000);
  });

  test('a denied cancel is retried, and its last denial fails the step', async () => {
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).rejects(awsError('AccessDeniedException', 403, 'no'));

    const state = await firstStep();

    expect(state.Answer).toMatchObject({ reason: expect.stringMatching(/^Access denied to proton:CancelServicePipelineDeployment on Proton service 'my-service'/) });
    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(8);
  });

  test('is retried during a poll too', async () => {
    proton.on(GetServiceCommand).resolvesOnce(service('CANCELLING')).rejectsOnce(awsError('AccessDeniedException', 403)).resolves(service('CANCELLED'));

    const { answer } = await drive(waiterState('Create'));

    expect(answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'CANCELLED' } });
    expect(bed.clocks.sleeps).toEqual([1_000]);
  });
});

describe('deploy-time property checks', () => {
  test.each<[string, Properties, string]>([
    ['a service name Proton refuses', { ServiceName: '-bad name' }, "serviceName must be 1 to 100 letters, digits, '-' or '_', starting with a letter or digit, got '-bad name'"],
    ['a service name over 100 characters', { ServiceName: 'a'.repeat(101) }, 'serviceName must be 1 to 100'],
    ['an empty service name', { ServiceName: '' }, "serviceName must be 1 to 100 letters, digits, '-' or '_', starting with a letter or digit, got ''"],
    ['a timeout under 60 seconds', { TimeoutSeconds: '59' }, "timeout must be a whole number of seconds from 60 to 3000, got '59'"],
    ['a timeout over 3000 seconds', { TimeoutSeconds: '3001' }, "timeout must be a whole number of seconds from 60 to 3000, got '3001'"],
    ['a fractional timeout', { TimeoutSeconds: '90.5' }, "timeout must be a whole number of seconds from 60 to 3000, got '90.5'"],
    ['a flag that is not a boolean', { FailUnlessCancelled: 'yes' }, "failUnlessCancelled must be 'true' or 'false', got 'yes'"],
    ['waitForFinalStatus not a boolean', { WaitForFinalStatus: 'TRUE' }, "waitForFinalStatus must be 'true' or 'false', got 'TRUE'"],
    ['failIfNothingToCancel not a boolean', { FailIfNothingToCancel: '1' }, "failIfNothingToCancel must be 'true' or 'false', got '1'"],
  ])('a Create with %s fails with one sentence, before any call', async (_, properties, problem) => {
    const state = await firstStep(properties);

    expect(state.Answer?.status).toBe('FAILED');
    const reason = (state.Answer as { reason: string }).reason;
    expect(reason).toContain(problem);
    expect(reason).toMatch(/^Invalid property of the cancel for Proton service '[^']*' in eu-west-1: \w+ must be [^;]*, got [^;]*\.$/);
    expect(proton.calls()).toHaveLength(0);
    expect(cloudFormation.calls()).toHaveLength(0);
  });

  test.each([
    ['a valid name and a bad option: the service name', { TimeoutSeconds: '5' }, SERVICE],
    ['a name of 100 characters', { ServiceName: 'a'.repeat(100), TimeoutSeconds: '5' }, 'a'.repeat(100)],
    ['a name Proton refuses: the request id', { ServiceName: 'not a name!' }, REQUEST_ID],
    ['a name of 101 characters: the request id', { ServiceName: 'a'.repeat(101) }, REQUEST_ID],
  ])('a failed Create with %s as physical id', async (_, properties, physicalResourceId) => {
    const state = await firstStep(properties);

    expect(state.Answer).toMatchObject({ status: 'FAILED', physicalResourceId });
  });

  test('a Create whose ServiceName is not a string fails under the request id', async () => {
    const state = await step({ ...waiterState('Create'), ResourceProperties: { ServiceToken: 't', ServiceName: 42 } } as unknown as WaiterState, async () => T0);

    expect(state.Answer).toMatchObject({ status: 'FAILED', physicalResourceId: REQUEST_ID, reason: expect.stringContaining('got 42.') });
  });

  test('a Create without a service name names the option', async () => {
    const { ServiceName: _, ...rest } = waiterState('Create').ResourceProperties;

    const state = await step({ ...waiterState('Create'), ResourceProperties: rest } as WaiterState, async () => T0);

    expect(state.Answer).toMatchObject({ reason: expect.stringContaining("serviceName must be 1 to 100 letters, digits, '-' or '_', starting with a letter or digit, got nothing.") });
  });

  test('accepts the bounds', async () => {
    proton.on(GetServiceCommand).callsFake(input => service('SUCCEEDED', {}, input.name));

    const shortest = await firstStep({ TimeoutSeconds: '60', ServiceName: 'a'.repeat(100) });
    const longest = await firstStep({ TimeoutSeconds: '3000' });

    expect(shortest.Answer).toMatchObject({ status: 'SUCCESS', physicalResourceId: 'a'.repeat(100), data: { DeploymentStatus: 'SUCCEEDED' } });
    expect(longest.Answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'SUCCEEDED' } });
  });
});

describe('the status model', () => {
  test('a status outside the published model is never cancelled, ends the wait, and is logged as unknown', async () => {
    proton.on(GetServiceCommand).resolves(service('PAUSED'));
    const waiting = { ...waiterState('Create'), Progress: { StartedAt: T0, Phase: 'wait' as const, PhysicalResourceId: SERVICE } };

    const created = await firstStep();
    const polled = await step(waiting, async () => T0);

    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
    expect(created.Answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'PAUSED', CancellationRequested: 'false' } });
    expect(polled.Answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'PAUSED' } });
    expect(bed.logs.steps()).toEqual([
      { step: 'read', serviceName: SERVICE, deploymentStatus: 'PAUSED', next: 'nothing-to-cancel', unknownStatus: true },
      { step: 'poll', serviceName: SERVICE, deploymentStatus: 'PAUSED', waitedSeconds: 0, unknownStatus: true },
    ]);
  });

  test('a known status is not logged as unknown', async () => {
    proton.on(GetServiceCommand).resolves(service('SUCCEEDED'));

    await firstStep();

    expect(bed.logs.steps()).toEqual([{ step: 'read', serviceName: SERVICE, deploymentStatus: 'SUCCEEDED', next: 'nothing-to-cancel' }]);
  });
});

describe('what the answer holds', () => {
  test('a pipeline that never had a deployment attempted or succeeded reports both times empty', async () => {
    proton.on(GetServiceCommand).resolves(service('FAILED', { lastDeploymentAttemptedAt: undefined, lastDeploymentSucceededAt: undefined }));

    const state = await firstStep();

    expect(state.Answer).toMatchObject({ data: { LastDeploymentAttemptedAt: '', LastDeploymentSucceededAt: '' } });
  });

  test('stays under 4,096 bytes and never holds or logs the spec, whatever Proton returns', async () => {
    // GIVEN: a 51,200-character spec and a long status message full of characters JSON escapes
    const spec = 'x'.repeat(51_200);
    const message = '"\\\n\u0001é'.repeat(5_000);
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS', { spec }));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLED', { spec, deploymentStatusMessage: message }) });

    // WHEN
    const state = await firstStep();

    // THEN: the body sent, with the longest stack id, request id and logical id
    const request = {
      StackId: `arn:aws:cloudformation:eu-west-1:123456789012:stack/${'S'.repeat(128)}/${'g'.repeat(36)}`,
      RequestId: 'r'.repeat(36), LogicalResourceId: 'L'.repeat(255), ResponseURL: 'https://example.com',
    };
    const body = responseBody(request, state.Answer!);
    expect(Buffer.byteLength(body)).toBeLessThan(MAX_RESPONSE_BYTES);
    expect(JSON.parse(body).Data.DeploymentStatusMessage).toMatch(/…$/);
    expect(JSON.stringify(state)).not.toContain('xxxxxxxxxx');
    expect(bed.logs.lines.join('\n')).not.toContain('xxxxxxxxxx');
  });
});

describe('the SDK clients', () => {
  test('bound every call: 5 attempts, 3 s to connect, 10 s per request, 25 s per call', async () => {
    expect(CLIENT_CONFIG).toEqual({
      maxAttempts: 5,
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
    });
    expect(MAX_ATTEMPTS).toBe(5);
    expect(CALL_BUDGET_MS).toBe(25_000);
    expect(POLL_CLIENT_CONFIG).toEqual({ ...CLIENT_CONFIG, maxAttempts: 1 });
    await expect(protonClient().config.maxAttempts()).resolves.toBe(5);
    await expect(pollClient().config.maxAttempts()).resolves.toBe(1);
  });

  test('give each call an abort signal that fires after the budget', async () => {
    proton.on(GetServiceCommand).resolves(service('SUCCEEDED'));
    const timeout = jest.spyOn(AbortSignal, 'timeout');

    await firstStep();

    expect(timeout).toHaveBeenCalledWith(25_000);
    expect((proton.call(0).args as unknown[])[1]).toEqual({ abortSignal: timeout.mock.results[0].value });
  });

  test('the first step reads and cancels with the client that retries; a poll reads with the one-attempt client', async () => {
    proton.on(GetServiceCommand).resolvesOnce(service('IN_PROGRESS')).resolves(service('CANCELLED'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

    await drive(waiterState('Create'));

    expect(proton.calls().map(c => c.thisValue)).toEqual([protonClient(), protonClient(), pollClient()]);
    expect(pollClient()).not.toBe(protonClient());
  });
});
