/**
 * A transient fault never decides: the first step that meets throttling, a
 * server fault or a dropped connection gives its progress back unchanged (the
 * waiter takes it again after the interval), and a cancel whose answer was
 * lost counts as ours when the pipeline shows a cancel's course. Faults are
 * tested in pairs: the same request with and without the fault answers alike.
 */
import { CancelServicePipelineDeploymentCommand, GetServiceCommand } from '@aws-sdk/client-proton';
import { FAULT_WINDOW_MS, Progress, step, WaiterState } from '../lambda/cancel';
import { explainProtonError, isFault, timedOut } from '../lambda/errors';
import { awsError, drive, networkError, pipeline, Properties, service, SERVICE, stepTestBed, T0, waiterState } from './handler-fixtures';

process.env.AWS_REGION = 'eu-west-1';

const bed = stepTestBed();
const { proton } = bed;


/** The first step's state, as the waiter holds it before a step is taken again. */
function started(properties: Properties = {}, progress: Partial<Progress> = {}): WaiterState {
  return { ...waiterState('Create', properties), Progress: { StartedAt: T0, Phase: 'start', ...progress } };
}

/**
 * A Proton whose pipeline moves as real Proton's does: IN_PROGRESS until a
 * cancel lands, then CANCELLING for `cancelTakes` ms, then CANCELLED. `faults`
 * are thrown by the calls they name, in order, before (`lost: false`) or after
 * (`lost: true`: the cancel landed, its answer was lost) the call takes effect.
 */
function emulatedProton(faults: { GetService?: unknown[]; Cancel?: Array<{ error: unknown; lost?: boolean }> } = {}, cancelTakes = 60_000): () => string {
  let cancelledAt: number | undefined;
  const status = () => cancelledAt === undefined ? 'IN_PROGRESS' : Date.now() - cancelledAt >= cancelTakes ? 'CANCELLED' : 'CANCELLING';
  const reads = [...(faults.GetService ?? [])];
  const cancels = [...(faults.Cancel ?? [])];
  proton.on(GetServiceCommand).callsFake(async () => {
    const fault = reads.shift();
    if (fault) {
      throw fault;
    }
    return service(status());
  });
  proton.on(CancelServicePipelineDeploymentCommand).callsFake(async () => {
    const fault = cancels.shift();
    if (fault && !fault.lost) {
      throw fault.error;
    }
    if (status() !== 'IN_PROGRESS') {
      throw awsError('ValidationException', 400, 'Service pipeline deployment is not in progress');
    }
    cancelledAt = Date.now();
    if (fault) {
      throw fault.error;
    }
    return { pipeline: pipeline(status()) };
  });
  return status;
}

const PASSING = [
  ['throttled', awsError('ThrottlingException', 400, 'Rate exceeded')],
  ['throttled (HTTP 429 of another name)', awsError('TooManyRequests', 429, 'Rate exceeded')],
  ['a 5xx', awsError('InternalServerException', 500)],
  ['a server fault without an HTTP status', Object.assign(new Error('busy'), { name: 'ServiceUnavailable', $fault: 'server', $metadata: {} })],
  ['a 500 the SDK did not mark as a server fault', Object.assign(new Error('oops'), { name: 'Odd', $metadata: { httpStatusCode: 500 } })],
  ['a dropped connection, as the SDK reports it after its attempts', Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET', $metadata: { attempts: 5 } })],
  ['a dropped connection (ECONNRESET)', networkError('ECONNRESET', 'read ECONNRESET')],
  ['a dropped connection (EPIPE)', networkError('EPIPE', 'write EPIPE')],
  ['a dropped connection whose code is only in the message', new Error('socket hang up: read ECONNRESET')],
] as const;

describe('a passing fault of the first read', () => {
  test.each(PASSING)('%s: the same progress back, no cancel, no answer', async (_, error) => {
    proton.on(GetServiceCommand).rejects(error);

    const state = await step(started(), async () => T0);

    expect(state).toEqual(started());
    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
    expect(bed.logs.steps()).toEqual([{ step: 'step-repeat', serviceName: SERVICE, error: expect.any(String) }]);
  });

  test.each(PASSING)('%s, then none: the same answer as without the fault', async (_, error) => {
    emulatedProton({ GetService: [error, error] });
    const withFault = await drive(waiterState('Create'));
    proton.reset();
    jest.setSystemTime(T0);
    emulatedProton();
    const without = await drive(waiterState('Create'));

    expect(withFault.answer).toEqual(without.answer);
    expect(withFault.answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'CANCELLED', CancellationRequested: 'true' } });
    expect(withFault.steps).toBe(without.steps + 2);
  });

  test('a first read throttled through the SDK\'s attempts is not followed by a blind cancel', async () => {
    proton.on(GetServiceCommand).rejects(awsError('ThrottlingException', 400));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

    await step(started(), async () => T0);

    expect(proton.commandCalls(GetServiceCommand)).toHaveLength(1);
    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
    expect(bed.clocks.sleeps).toEqual([]);
  });
});

describe('how long a fault is repeated', () => {
  test('a server fault or dropped connection: within 120 seconds of the request\'s arrival, then the error answer', async () => {
    proton.on(GetServiceCommand).rejects(awsError('InternalServerException', 500));

    jest.setSystemTime(T0 + FAULT_WINDOW_MS - 1);
    const inside = await step(started(), async () => T0);
    jest.setSystemTime(T0 + FAULT_WINDOW_MS);
    const past = await step(started(), async () => T0);

    expect(FAULT_WINDOW_MS).toBe(120_000);
    expect(inside.Answer).toBeUndefined();
    expect(past.Answer).toEqual({
      status: 'FAILED', physicalResourceId: SERVICE,
      reason: "AWS Proton failed proton:GetService for Proton service 'my-service' in eu-west-1 with HTTP 500 through every retry (AWS Proton said: InternalServerException from AWS); deploy again later.",
    });
  });

  test('a server fault without a status is named in the answer', async () => {
    proton.on(GetServiceCommand).rejects(Object.assign(new Error('busy'), { name: 'ServiceUnavailable', $fault: 'server', $metadata: {} }));

    const { answer } = await drive(waiterState('Create'));

    expect(answer).toMatchObject({
      reason: "AWS Proton failed proton:GetService for Proton service 'my-service' in eu-west-1 with a server fault (ServiceUnavailable) through every retry (AWS Proton said: busy); deploy again later.",
    });
  });

  test('a dropped connection past the window answers that Proton could not be reached', async () => {
    proton.on(GetServiceCommand).rejects(networkError('ECONNRESET', 'read ECONNRESET'));

    const { answer, tookMs } = await drive(waiterState('Create'));

    expect(tookMs).toBe(FAULT_WINDOW_MS);
    expect(answer).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/^Could not reach AWS Proton for Proton service 'my-service' in eu-west-1 \(ECONNRESET, /) });
  });

  test('throttling: until the timeout, counted from the request\'s arrival, then the error answer', async () => {
    proton.on(GetServiceCommand).rejects(awsError('ThrottlingException', 400));

    jest.setSystemTime(T0 + 600_000 - 1);
    const inside = await step(started({ TimeoutSeconds: '600' }), async () => T0);
    jest.setSystemTime(T0 + 600_000);
    const past = await step(started({ TimeoutSeconds: '600' }), async () => T0);

    expect(inside.Answer).toBeUndefined();
    expect(past.Answer).toMatchObject({
      status: 'FAILED',
      reason: "AWS Proton kept throttling proton:GetService for Proton service 'my-service' in eu-west-1 through every retry; deploy again later, or deploy fewer stacks at once.",
    });
  });

  test('a throttled cancel is repeated at each interval until Proton takes it', async () => {
    proton.on(GetServiceCommand).resolvesOnce(service('IN_PROGRESS')).resolvesOnce(service('IN_PROGRESS')).resolves(service('CANCELLED'));
    proton.on(CancelServicePipelineDeploymentCommand).rejectsOnce(awsError('ThrottlingException', 400)).resolves({ pipeline: pipeline('CANCELLING') });

    const { answer, states } = await drive(waiterState('Create'));

    // Throttling means the cancel was not taken: no mark that it may have landed.
    expect(states[0].Progress).toEqual({ StartedAt: T0, Phase: 'start' });
    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(2);
    expect(answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'CANCELLED', CancellationRequested: 'true' } });
  });

  test.each([
    ['the endpoint refuses connections', networkError('ECONNREFUSED')],
    ['the endpoint name does not resolve', networkError('ENOTFOUND', 'getaddrinfo ENOTFOUND proton.eu-west-1.amazonaws.com')],
    ['the name service fails', networkError('EAI_AGAIN', 'getaddrinfo EAI_AGAIN proton.eu-west-1.amazonaws.com')],
    ['the connection times out', networkError('ETIMEDOUT')],
    ['the request times out', Object.assign(new Error('Request timed out'), { name: 'TimeoutError' })],
    ['the call runs out of time', Object.assign(new Error('This operation was aborted'), { name: 'AbortError' })],
  ])('an unreachable endpoint decides at once: %s', async (_, error) => {
    proton.on(GetServiceCommand).rejects(error);

    const state = await step(started(), async () => T0);

    expect(state.Answer).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/^Could not reach AWS Proton for Proton service 'my-service' in eu-west-1 \(\w+, after retrying for up to 25 seconds\)/) });
  });
});

describe('a cancel whose answer was lost', () => {
  test.each([
    ['a 5xx', awsError('InternalServerException', 500)],
    ['a dropped connection', networkError('ECONNRESET', 'read ECONNRESET')],
  ])('%s after the cancel landed: the next step sees CANCELLING and counts the cancel as ours, without a second cancel', async (_, error) => {
    // GIVEN the cancel takes effect, but its answer is lost
    const status = emulatedProton({ Cancel: [{ error, lost: true }] });

    // WHEN
    const first = await step(started(), async () => T0);
    const { answer } = await drive(first);

    // THEN
    expect(status()).toBe('CANCELLED');
    expect(first).toEqual(started({}, { CancelMayHaveLanded: true }));
    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(1);
    expect(answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'CANCELLED', CancellationRequested: 'true' } });
    expect(bed.logs.steps()).toContainEqual({ step: 'read', serviceName: SERVICE, deploymentStatus: 'CANCELLING', next: 'ours' });
  });

  test('no answer in time (a timeout is an unreachable endpoint): the error answer at once, whatever the cancel did', async () => {
    emulatedProton({ Cancel: [{ error: Object.assign(new Error('Request timed out'), { name: 'TimeoutError' }), lost: true }] });

    const state = await step(started(), async () => T0);

    expect(state.Answer).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/^Could not reach AWS Proton for Proton service 'my-service' in eu-west-1 \(TimeoutError, /) });
  });

  test('a 5xx before the cancel landed: the next step cancels again, and the answer is the fault-free one', async () => {
    emulatedProton({ Cancel: [{ error: awsError('InternalServerException', 503) }] });
    const withFault = await drive(waiterState('Create'));
    proton.reset();
    jest.setSystemTime(T0);
    emulatedProton();
    const without = await drive(waiterState('Create'));

    expect(withFault.states[0].Progress).toEqual({ StartedAt: T0, Phase: 'start', CancelMayHaveLanded: true });
    expect(withFault.answer).toEqual(without.answer);
  });

  test('a refusal after the SDK\'s earlier attempt went unanswered, the pipeline CANCELLING: ours', async () => {
    // GIVEN the SDK's first attempt landed and its answer was lost; its second is refused
    proton.on(GetServiceCommand).resolvesOnce(service('IN_PROGRESS')).resolves(service('CANCELLING'));
    proton.on(CancelServicePipelineDeploymentCommand).rejects(awsError('ValidationException', 400, 'not in progress', 2));

    // WHEN
    const state = await step(started(), async () => T0);

    // THEN
    expect(state.Progress).toMatchObject({ Phase: 'wait', CancellationRequested: true });
    expect(bed.logs.steps()).toContainEqual({ step: 'cancel-landed-earlier', serviceName: SERVICE, deploymentStatus: 'CANCELLING' });
  });

  test.each(['CANCELLING', 'CANCELLED', 'FAILED'])('a refusal after an earlier step\'s unanswered cancel, the pipeline %s: ours', async (status) => {
    // GIVEN a read that still shows IN_PROGRESS (a stale read), then the refusal
    proton.on(GetServiceCommand).resolvesOnce(service('IN_PROGRESS')).resolves(service(status));
    proton.on(CancelServicePipelineDeploymentCommand).rejects(awsError('ConflictException', 409, 'not in progress'));

    const state = await step(started({ WaitForFinalStatus: 'false' }, { CancelMayHaveLanded: true }), async () => T0);

    expect(state.Answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: status, CancellationRequested: 'true' } });
  });

  test('an earlier unanswered cancel and a pipeline that ended FAILED: ours, and failUnlessCancelled still fails it', async () => {
    proton.on(GetServiceCommand).resolves(service('FAILED'));

    const state = await step(started({ FailUnlessCancelled: 'true' }, { CancelMayHaveLanded: true }), async () => T0);

    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
    expect(state.Answer).toMatchObject({ status: 'FAILED', reason: expect.stringContaining('ended FAILED, not CANCELLED, and failUnlessCancelled is set.') });
  });

  test.each([
    ['a first attempt refused, the pipeline CANCELLING (someone else\'s cancel)', 1, 'CANCELLING', 'false'],
    ['an earlier attempt, the pipeline SUCCEEDED (the race was lost)', 2, 'SUCCEEDED', 'false'],
  ])('not ours: %s', async (_, attempts, status, requested) => {
    proton.on(GetServiceCommand).resolvesOnce(service('IN_PROGRESS')).resolves(service(status));
    proton.on(CancelServicePipelineDeploymentCommand).rejects(awsError('ValidationException', 400, 'not in progress', attempts));

    const state = await step(started({ WaitForFinalStatus: 'false' }), async () => T0);

    expect(state.Answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: status, CancellationRequested: requested } });
    expect(bed.logs.steps()).toContainEqual({ step: 'cancel-lost-race', serviceName: SERVICE, deploymentStatus: status });
  });

  test('an earlier step\'s unanswered cancel and a pipeline still IN_PROGRESS: cancelled again', async () => {
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

    const state = await step(started({}, { CancelMayHaveLanded: true }), async () => T0);

    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(1);
    expect(state.Progress).toEqual({ StartedAt: T0, Phase: 'wait', CancellationRequested: true });
  });

  test('a refusal after an earlier attempt, the pipeline still IN_PROGRESS: fails with Proton\'s refusal', async () => {
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).rejects(awsError('ValidationException', 400, 'odd', 2));

    const state = await step(started(), async () => T0);

    expect(state.Answer).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/^AWS Proton refused proton:CancelServicePipelineDeployment/) });
  });

  test('a read after a refused cancel that is throttled keeps what is known of the cancel', async () => {
    proton.on(GetServiceCommand).resolvesOnce(service('IN_PROGRESS')).rejects(awsError('ThrottlingException', 400));
    proton.on(CancelServicePipelineDeploymentCommand).rejects(awsError('ValidationException', 400, 'not in progress', 2));

    const state = await step(started(), async () => T0);

    expect(state).toEqual(started({}, { CancelMayHaveLanded: true }));
  });

  test('a refused first attempt whose read is throttled: no mark, nothing landed', async () => {
    proton.on(GetServiceCommand).resolvesOnce(service('IN_PROGRESS')).rejects(awsError('ThrottlingException', 400));
    proton.on(CancelServicePipelineDeploymentCommand).rejects(awsError('ValidationException', 400, 'not in progress', 1));

    const state = await step(started(), async () => T0);

    expect(state).toEqual(started());
  });

  test('an accepted cancel whose answer lacks the pipeline, and whose read is throttled: marked, then counted as ours', async () => {
    proton.on(GetServiceCommand).resolvesOnce(service('IN_PROGRESS')).rejectsOnce(awsError('ThrottlingException', 400)).resolves(service('CANCELLED'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({});

    const { states, answer } = await drive(waiterState('Create'));

    expect(states[0]).toEqual(started({}, { CancelMayHaveLanded: true }));
    expect(answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'CANCELLED', CancellationRequested: 'true' } });
    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(1);
  });
});

describe('what counts as a fault that may pass, and as a timeout', () => {
  test.each([
    ['HTTP 503 without a fault mark (a load balancer\'s page)', Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }), true],
    ['HTTP 500 marked as a server fault', awsError('InternalServerException', 500), true],
    ['a server fault without a status', Object.assign(new Error('x'), { name: 'InternalFailure', $fault: 'server' }), true],
    ['ECONNRESET, a dropped connection', networkError('ECONNRESET', 'socket hang up'), true],
    ['HTTP 400', awsError('ValidationException', 400), false],
    ['ECONNREFUSED, unless unreachable endpoints count', networkError('ECONNREFUSED'), false],
  ])('%s: %s', (_, error, fault) => {
    expect(isFault(error, false)).toBe(fault);
  });

  test('an unreachable endpoint is a fault only when asked for', () => {
    expect(isFault(networkError('ENOTFOUND'), true)).toBe(true);
    expect(isFault(networkError('ENOTFOUND'), false)).toBe(false);
  });

  test.each([
    [Object.assign(new Error('x'), { name: 'TimeoutError' }), true],
    [Object.assign(new Error('x'), { name: 'AbortError' }), true],
    [networkError('ETIMEDOUT'), true],
    [networkError('ECONNREFUSED'), false],
    [awsError('ThrottlingException', 400), false],
  ])('timed out: %s is %s', (error, timeout) => {
    expect(timedOut(error)).toBe(timeout);
  });
});

describe('the sentence for a refusal', () => {
  const context = { serviceName: 'my-service', region: 'eu-west-1' };

  test('an error answer that says "parse" is Proton\'s refusal, not an answer the SDK could not read', () => {
    const error = awsError('ValidationException', 400, 'Could not parse the request body.');

    expect(explainProtonError(error, 'GetService', context).message)
      .toBe("AWS Proton refused proton:GetService for Proton service 'my-service' in eu-west-1: ValidationException (AWS Proton said: Could not parse the request body.).");
  });

  test('an error without a name is named Error', () => {
    expect(explainProtonError({ message: 'odd' }, 'GetService', context).message)
      .toBe("AWS Proton refused proton:GetService for Proton service 'my-service' in eu-west-1: Error (AWS Proton said: odd).");
  });
});
