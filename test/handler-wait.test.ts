/**
 * The wait (`Phase: 'wait'`): each poll answers at a final status, fails past
 * the timeout counted from the request's arrival, and otherwise gives the same
 * progress back. A failed poll is repeated while the timeout allows.
 */
import { CancelServicePipelineDeploymentCommand, GetServiceCommand } from '@aws-sdk/client-proton';
import { Progress, step, WaiterState } from '../lambda/cancel';
import { pollClient } from '../lambda/sdk';
import { awsError, drive, networkError, pipeline, Properties, service, SERVICE, stepTestBed, T0, waiterState } from './handler-fixtures';

process.env.AWS_REGION = 'eu-west-1';

const bed = stepTestBed();
const { proton } = bed;


/** A request in its wait since `T0`, after a first step that asked for the cancel. */
function waiting(properties: Properties = {}, progress: Partial<Progress> = {}): WaiterState {
  return {
    ...waiterState('Create', properties),
    Progress: { StartedAt: T0, Phase: 'wait', CancellationRequested: true, ...progress },
  };
}

/** One poll, `waitedMs` after the request arrived. */
async function poll(state: WaiterState, waitedMs = 0): Promise<WaiterState> {
  jest.setSystemTime(T0 + waitedMs);
  return step(state, async () => { throw new Error('the arrival is read at the first step only'); });
}

describe('a poll', () => {
  test.each(['IN_PROGRESS', 'CANCELLING', 'DELETE_IN_PROGRESS'])('at %s gives the same progress back, with no cancel', async (status) => {
    proton.on(GetServiceCommand).resolves(service(status));

    await expect(poll(waiting(), 30_000)).resolves.toEqual(waiting());
    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
    expect(bed.logs.steps()).toEqual([{ step: 'poll', serviceName: SERVICE, deploymentStatus: status, waitedSeconds: 30 }]);
  });

  test.each(['CANCELLED', 'FAILED', 'SUCCEEDED', 'DELETE_COMPLETE', 'DELETE_FAILED'])(
    'at %s answers SUCCESS with the new attributes, keeping CancellationRequested from the first step', async (status) => {
      proton.on(GetServiceCommand).resolves(service(status, { deploymentStatusMessage: 'done' }));

      const state = await poll(waiting());

      expect(state.Progress).toEqual(waiting().Progress);
      expect(state.Answer).toEqual({
        status: 'SUCCESS', physicalResourceId: SERVICE,
        data: expect.objectContaining({ DeploymentStatus: status, DeploymentStatusMessage: 'done', CancellationRequested: 'true' }),
      });
      expect(Object.keys((state.Answer as { data: object }).data)).toHaveLength(9);
    });

  test('the answer is under the service name, with CancellationRequested as the first step found it', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLED'));

    const ours = await poll(waiting());
    const notOurs = await poll(waiting({}, { CancellationRequested: false }));

    expect(ours.Answer).toMatchObject({ physicalResourceId: SERVICE, data: { CancellationRequested: 'true' } });
    expect(notOurs.Answer).toMatchObject({ physicalResourceId: SERVICE, data: { CancellationRequested: 'false' } });
  });

  test.each(['FAILED', 'SUCCEEDED'])('fails at %s when failUnlessCancelled is set', async (status) => {
    proton.on(GetServiceCommand).resolves(service(status));

    const state = await poll(waiting({ FailUnlessCancelled: 'true' }));

    expect(state.Answer).toEqual({
      status: 'FAILED', physicalResourceId: SERVICE,
      reason: `The pipeline deployment of Proton service 'my-service' in eu-west-1 ended ${status}, not CANCELLED, and failUnlessCancelled is set.`,
    });
  });

  test('completes at CANCELLED when failUnlessCancelled is set', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLED'));

    const state = await poll(waiting({ FailUnlessCancelled: 'true' }));

    expect(state.Answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'CANCELLED' } });
  });

  test('is made with one attempt, so the waiter repeats it instead of the SDK', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLING'));

    await poll(waiting());

    expect(proton.call(0).thisValue).toBe(pollClient());
  });
});

describe('the timeout, counted from the request\'s arrival', () => {
  test('fails past the timeout, naming the service, the last status and the time waited', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLING'));

    const before = await poll(waiting(), 1_799_999);
    const at = await poll(waiting(), 1_800_000);

    expect(before.Answer).toBeUndefined();
    expect(at.Answer).toEqual({
      status: 'FAILED', physicalResourceId: SERVICE,
      reason: "Timed out after 30m 0s waiting for the pipeline deployment of Proton service 'my-service' in eu-west-1 to reach a final status; last status: CANCELLING. Raise the timeout, or check the pipeline in the Proton console.",
    });
  });

  test('a final status read past the timeout is still the answer', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLED'));

    const state = await poll(waiting({ TimeoutSeconds: '60' }), 90_000);

    expect(state.Answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'CANCELLED' } });
  });

  test('a request that waited before its first step has that much less to wait', async () => {
    // GIVEN the URL stored 9 minutes before the waiter's first step, a 10-minute timeout and a cancel that never ends
    proton.on(GetServiceCommand).resolvesOnce(service('IN_PROGRESS')).resolves(service('CANCELLING'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });
    jest.setSystemTime(T0 + 540_000);

    // WHEN
    const { answer, steps, tookMs } = await drive(waiterState('Create', { TimeoutSeconds: '600' }), { arrivedAt: async () => T0 });

    // THEN: four polls, 15 seconds apart, then the timeout
    expect(answer).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/^Timed out after 10m 0s waiting/) });
    expect([steps, tookMs]).toEqual([5, 60_000]);
  });

  test('a Create driven to its end: one cancel, polls every interval, the answer once CANCELLED', async () => {
    // GIVEN a cancel that takes two minutes
    let cancelledAt: number | undefined;
    const status = () => cancelledAt === undefined ? 'IN_PROGRESS' : Date.now() - cancelledAt >= 120_000 ? 'CANCELLED' : 'CANCELLING';
    proton.on(GetServiceCommand).callsFake(async () => service(status()));
    proton.on(CancelServicePipelineDeploymentCommand).callsFake(async () => {
      cancelledAt = Date.now();
      return { pipeline: pipeline(status()) };
    });

    // WHEN
    const { answer, steps, tookMs, states } = await drive(waiterState('Create'), { pollSeconds: 15 });

    // THEN
    expect(answer).toMatchObject({ status: 'SUCCESS', physicalResourceId: SERVICE, data: { DeploymentStatus: 'CANCELLED', CancellationRequested: 'true' } });
    expect([steps, tookMs]).toEqual([9, 120_000]);
    expect(new Set(states.slice(0, -1).map(s => JSON.stringify(s)))).toEqual(new Set([JSON.stringify(states[0])]));
    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(1);
    expect(bed.clocks.sleeps).toEqual([]);
  });

  test('a Create that found someone else\'s cancel under way keeps CancellationRequested false to the end', async () => {
    // GIVEN CANCELLING at the first read, CANCELLED 30 s later
    const startedAt = Date.now();
    proton.on(GetServiceCommand).callsFake(async () => service(Date.now() - startedAt >= 30_000 ? 'CANCELLED' : 'CANCELLING'));

    // WHEN
    const { answer } = await drive(waiterState('Create'), { pollSeconds: 15 });

    // THEN
    expect(answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'CANCELLED', CancellationRequested: 'false' } });
    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
  });
});

describe('a poll that fails', () => {
  test.each([
    ['throttled', awsError('ThrottlingException', 400)],
    ['a server fault', awsError('InternalServerException', 500)],
    ['a dropped connection', networkError('ECONNRESET', 'socket hang up ECONNRESET')],
    ['a timeout', Object.assign(new Error('Request timed out'), { name: 'TimeoutError' })],
  ])('%s: is repeated at the next poll while the timeout allows, then fails', async (_, error) => {
    proton.on(GetServiceCommand).rejects(error);

    const inside = await poll(waiting({ TimeoutSeconds: '600' }), 599_999);
    const past = await poll(waiting({ TimeoutSeconds: '600' }), 600_000);

    expect(inside).toEqual(waiting({ TimeoutSeconds: '600' }));
    expect(past.Answer).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/^(AWS Proton kept throttling|AWS Proton failed|Could not reach AWS Proton)/) });
    expect(bed.clocks.sleeps).toEqual([]);
  });

  test.each([
    ['refuses the connection', networkError('ECONNREFUSED')],
    ['is not found', networkError('ENOTFOUND')],
  ])('an endpoint that %s fails the wait at once, with the sentence for it', async (_, error) => {
    proton.on(GetServiceCommand).rejects(error);

    const state = await poll(waiting({ TimeoutSeconds: '600' }), 30_000);

    expect(state.Answer).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/^Could not reach AWS Proton for Proton service 'my-service' in eu-west-1 \(E(CONNREFUSED|NOTFOUND), /) });
  });

  test('a failed poll is logged with the time waited and the error', async () => {
    proton.on(GetServiceCommand).rejects(awsError('ThrottlingException', 400));

    await poll(waiting(), 30_000);

    expect(bed.logs.steps()).toEqual([{
      step: 'poll-failed', serviceName: SERVICE, waitedSeconds: 30,
      error: "AWS Proton kept throttling proton:GetService for Proton service 'my-service' in eu-west-1 through every retry; deploy again later, or deploy fewer stacks at once.",
    }]);
  });

  test.each([
    ['the service is gone', awsError('ResourceNotFoundException', 404), "Proton service 'my-service' in eu-west-1 was not found"],
    ['the answer holds no service', undefined, "AWS Proton answered proton:GetService for Proton service 'my-service' in eu-west-1 without the service"],
    ['the pipeline is gone', 'no-pipeline', "Proton service 'my-service' in eu-west-1 has no service pipeline"],
  ])('fails at once when %s', async (_, error, reason) => {
    if (error === undefined) {
      proton.on(GetServiceCommand).resolves({});
    } else if (error === 'no-pipeline') {
      proton.on(GetServiceCommand).resolves(service(undefined));
    } else {
      proton.on(GetServiceCommand).rejects(error);
    }

    const state = await poll(waiting());

    expect(state.Answer).toMatchObject({ status: 'FAILED', physicalResourceId: SERVICE, reason: expect.stringContaining(reason) });
  });
});
