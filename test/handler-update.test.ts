/**
 * An Update's first step: it cancels again only when Trigger or the service
 * name changed (or fails, on invalid properties) and the stack status was read
 * as UPDATE_IN_PROGRESS; every other Update reports the pipeline and never fails.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CancelServicePipelineDeploymentCommand, GetServiceCommand } from '@aws-sdk/client-proton';
import { FAULT_WINDOW_MS, step, WaiterState } from '../lambda/cancel';
import {
  awsError, drive, networkError, pipeline, Properties, service, SERVICE, STACK_ID, stepTestBed, T0, waiterState,
} from './handler-fixtures';

process.env.AWS_REGION = 'eu-west-1';

const bed = stepTestBed();
const { proton, cloudFormation } = bed;

function stackStatus(status: string) {
  cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'Stack', StackStatus: status as never, CreationTime: new Date() }] });
}

beforeEach(() => {
  stackStatus('UPDATE_IN_PROGRESS');
  proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
  proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });
});

function update(properties: Properties = {}, old?: Properties): Promise<WaiterState> {
  return step(waiterState('Update', properties, old), async () => T0);
}

const EMPTY_ATTRIBUTES = {
  DeploymentStatus: '', DeploymentStatusMessage: '', PipelineArn: '', TemplateName: '', TemplateMajorVersion: '', TemplateMinorVersion: '',
  LastDeploymentAttemptedAt: '', LastDeploymentSucceededAt: '', CancellationRequested: 'false',
};

describe('a forward Update (UPDATE_IN_PROGRESS)', () => {
  test('whose Trigger changed cancels like a Create, after reading the stack status', async () => {
    const state = await update({ Trigger: 'new' });

    expect(cloudFormation.commandCalls(DescribeStacksCommand).map(c => c.args[0].input)).toEqual([{ StackName: STACK_ID }]);
    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(1);
    expect(state.Progress).toMatchObject({ Phase: 'wait', CancellationRequested: true });
  });

  test('reads the stack status with the handler\'s bounds: 5 attempts, 25 s per call', async () => {
    const timeout = jest.spyOn(AbortSignal, 'timeout');

    await update({ Trigger: 'new' });

    await expect((cloudFormation.call(0).thisValue as CloudFormationClient).config.maxAttempts()).resolves.toBe(5);
    expect(timeout).toHaveBeenCalledWith(25_000);
    expect((cloudFormation.call(0).args as unknown[])[1]).toEqual({ abortSignal: timeout.mock.results[0].value });
  });

  test('from no Trigger to one cancels', async () => {
    await update({ Trigger: 'first' }, {});

    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(1);
  });

  test('to a new service name cancels on the new service, and the answer\'s physical id makes it a replacement', async () => {
    const state = await update({ ServiceName: 'renamed', Trigger: 'same', WaitForFinalStatus: 'false' }, { Trigger: 'same' });

    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)[0].args[0].input).toEqual({ serviceName: 'renamed' });
    expect(state.Answer).toMatchObject({ status: 'SUCCESS', physicalResourceId: 'renamed' });
  });

  test('a failed rename keeps the old physical id, not the new name', async () => {
    proton.on(GetServiceCommand).rejects(awsError('ResourceNotFoundException', 404, 'no such service'));

    const state = await update({ ServiceName: 'new-name' });

    expect(state.Answer).toMatchObject({ status: 'FAILED', physicalResourceId: SERVICE, reason: expect.stringMatching(/^Proton service 'new-name' in eu-west-1 was not found/) });
  });

  test('with a bad value fails before any Proton call, even without a Trigger change', async () => {
    const state = await update({ TimeoutSeconds: '4000' }, {});

    expect(state.Answer).toMatchObject({
      status: 'FAILED', physicalResourceId: SERVICE,
      reason: "Invalid property of the cancel for Proton service 'my-service' in eu-west-1: timeout must be a whole number of seconds from 60 to 3000, got '4000'.",
    });
    expect(cloudFormation.commandCalls(DescribeStacksCommand)).toHaveLength(1);
    expect(proton.calls()).toHaveLength(0);
  });

  test('waits through its polls like a Create', async () => {
    proton.on(GetServiceCommand).resolvesOnce(service('IN_PROGRESS')).resolvesOnce(service('CANCELLING')).resolves(service('CANCELLED'));

    const { answer, steps } = await drive(waiterState('Update'));

    expect(answer).toMatchObject({ status: 'SUCCESS', physicalResourceId: SERVICE, data: { DeploymentStatus: 'CANCELLED', CancellationRequested: 'true' } });
    expect(steps).toBe(3);
  });
});

describe('an Update whose Trigger did not change reports only, and never fails', () => {
  test.each<[string, Properties, Properties]>([
    ['ServiceTimeout changed', { ServiceTimeout: '900' }, { ServiceTimeout: '600' }],
    ['ServiceToken changed', { ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:other' }, {}],
    ['timeout changed', { TimeoutSeconds: '600' }, {}],
    ['failUnlessCancelled changed', { FailUnlessCancelled: 'true' }, {}],
    ['waitForFinalStatus changed', { WaitForFinalStatus: 'false' }, {}],
    ['the same Trigger, with another option changed', { Trigger: 'same', FailIfNothingToCancel: 'true' }, { Trigger: 'same' }],
  ])('%s: no cancel, no stack status read, the pipeline as it is', async (_, properties, old) => {
    const state = await update(properties, old);

    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
    expect(cloudFormation.calls()).toHaveLength(0);
    expect(state.Answer).toEqual({ status: 'SUCCESS', physicalResourceId: SERVICE, data: expect.objectContaining({ DeploymentStatus: 'IN_PROGRESS', CancellationRequested: 'false' }) });
  });

  test('a report-only read that fails succeeds with every attribute empty, and logs the error', async () => {
    proton.on(GetServiceCommand).rejects(awsError('ResourceNotFoundException', 404, 'gone'));

    const state = await update({ TimeoutSeconds: '600' }, {});

    expect(state.Answer).toEqual({ status: 'SUCCESS', physicalResourceId: SERVICE, data: EMPTY_ATTRIBUTES });
    expect(bed.logs.steps()).toEqual([{ step: 'report-read-failed', serviceName: SERVICE, error: expect.stringMatching(/^Proton service 'my-service' in eu-west-1 was not found/) }]);
  });

  test.each([
    ['throttled', awsError('ThrottlingException', 429)],
    ['a server fault', awsError('InternalServerException', 500)],
  ])('a report-only read %s is repeated, then reported empty once the fault outlasts its window', async (_, error) => {
    proton.on(GetServiceCommand).rejects(error);

    const { answer, states } = await drive(waiterState('Update', { TimeoutSeconds: '600' }, {}));

    expect(states[0]).toEqual({ ...waiterState('Update', { TimeoutSeconds: '600' }, {}), Progress: { StartedAt: T0, Phase: 'start' } });
    expect(answer).toEqual({ status: 'SUCCESS', physicalResourceId: SERVICE, data: EMPTY_ATTRIBUTES });
    expect(bed.logs.steps()[0]).toMatchObject({ step: 'report-repeat', serviceName: SERVICE });
    expect(bed.logs.steps().slice(-1)[0]).toMatchObject({ step: 'report-read-failed' });
  });
});

describe('an Update that is not a forward one', () => {
  describe.each(['UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS'])('%s', (status) => {
    beforeEach(() => stackStatus(status));

    test('reports the pipeline without cancelling, even with the strict options set', async () => {
      const state = await update({ Trigger: 'new', FailIfNothingToCancel: 'true', FailUnlessCancelled: 'true' });

      expect(cloudFormation.commandCalls(DescribeStacksCommand)).toHaveLength(1);
      expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
      expect(state.Answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'IN_PROGRESS', CancellationRequested: 'false' } });
      expect(bed.logs.steps()[0]).toEqual({ step: 'report-only', serviceName: SERVICE, stackStatus: status });
    });
  });

  describe('during an update rollback', () => {
    beforeEach(() => stackStatus('UPDATE_ROLLBACK_IN_PROGRESS'));

    test('an invalid property does not fail the rollback', async () => {
      const state = await update({ TimeoutSeconds: '5' }, { TimeoutSeconds: '5' });

      expect(state.Answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'IN_PROGRESS', CancellationRequested: 'false' } });
    });

    test('succeeds with empty attributes when Proton cannot be read', async () => {
      proton.on(GetServiceCommand).rejects(awsError('ResourceNotFoundException', 404));

      const state = await update({ FailIfNothingToCancel: 'true' });

      expect(state.Answer).toEqual({ status: 'SUCCESS', physicalResourceId: SERVICE, data: EMPTY_ATTRIBUTES });
    });

    test('a report that meets a pipeline in a final status other than CANCELLED does not fail on failUnlessCancelled', async () => {
      proton.on(GetServiceCommand).resolves(service('SUCCEEDED'));

      const state = await update({ Trigger: 'new', FailUnlessCancelled: 'true' });

      expect(state.Answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'SUCCEEDED' } });
    });
  });
});

describe('an Update whose stack status cannot be read reports only, and never fails', () => {
  test.each([
    ['access is denied', awsError('AccessDenied', 403, 'no')],
    ['the endpoint cannot be reached', networkError('ECONNREFUSED')],
    ['CloudFormation refuses the call', awsError('ValidationException', 400, 'Stack does not exist')],
  ])('%s: no cancel, no failure, even with invalid properties', async (_, error) => {
    cloudFormation.on(DescribeStacksCommand).rejects(error);

    const valid = await update({ Trigger: 'new' });
    const invalid = await update({ Trigger: 'new', TimeoutSeconds: '5' });

    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
    expect(valid.Answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'IN_PROGRESS', CancellationRequested: 'false' } });
    expect(invalid.Answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'IN_PROGRESS', CancellationRequested: 'false' } });
    expect(bed.logs.steps().slice(0, 2)).toEqual([
      { step: 'stack-status-unknown', error: error.message },
      { step: 'report-only', serviceName: SERVICE, stackStatus: 'unknown' },
    ]);
  });

  test.each([
    ['no stack', { Stacks: [] }],
    ['no stack list', {}],
    ['a stack without status', { Stacks: [{ StackName: 'Stack' }] }],
  ])('an answer with %s is not a forward update', async (_, output) => {
    cloudFormation.on(DescribeStacksCommand).resolves(output as never);

    const state = await update({ Trigger: 'new' });

    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
    expect(state.Answer).toMatchObject({ status: 'SUCCESS', data: { CancellationRequested: 'false' } });
    expect(bed.logs.steps()[0]).toEqual({ step: 'report-only', serviceName: SERVICE, stackStatus: 'unknown' });
  });

  test.each([
    ['a server fault', awsError('InternalFailure', 500)],
    ['a dropped connection', networkError('ECONNRESET', 'read ECONNRESET')],
    ['throttled (HTTP 429)', awsError('TooManyRequests', 429, 'Rate exceeded')],
  ])('a read that meets %s is repeated, never decides, and the Update goes on once the status is read', async (_, fault) => {
    // GIVEN a passing fault of DescribeStacks
    cloudFormation.on(DescribeStacksCommand).rejectsOnce(fault).resolves({ Stacks: [{ StackName: 'Stack', StackStatus: 'UPDATE_IN_PROGRESS', CreationTime: new Date() }] });

    // WHEN
    const { answer, states } = await drive(waiterState('Update', { Trigger: 'new', WaitForFinalStatus: 'false' }));

    // THEN: the first step changed nothing and called no Proton; the second cancelled
    expect(states[0]).toEqual({ ...waiterState('Update', { Trigger: 'new', WaitForFinalStatus: 'false' }), Progress: { StartedAt: T0, Phase: 'start' } });
    expect(bed.logs.steps()[0]).toEqual({ step: 'stack-status-repeat', error: fault.message });
    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(1);
    expect(answer).toMatchObject({ status: 'SUCCESS', data: { CancellationRequested: 'true' } });
  });

  // CloudFormation answers throttling as `Throttling` with HTTP 400: it is throttling like any other, repeated.
  test('a read throttled as CloudFormation throttles (Throttling, HTTP 400) is repeated like any throttling', async () => {
    const throttled = awsError('Throttling', 400, 'Rate exceeded');
    cloudFormation.on(DescribeStacksCommand).rejectsOnce(throttled).resolves({ Stacks: [{ StackName: 'Stack', StackStatus: 'UPDATE_IN_PROGRESS', CreationTime: new Date() }] });

    const { answer, steps } = await drive(waiterState('Update', { Trigger: 'new', WaitForFinalStatus: 'false' }));

    expect(steps).toBe(2);
    expect(bed.logs.steps()[0]).toEqual({ step: 'stack-status-repeat', error: 'Rate exceeded' });
    expect(answer).toMatchObject({ status: 'SUCCESS', data: { CancellationRequested: 'true' } });
  });

  test('a server fault past its window reports only, never fails', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(awsError('InternalFailure', 500));

    const { answer, tookMs } = await drive(waiterState('Update', { Trigger: 'new', TimeoutSeconds: '600' }));

    expect(tookMs).toBe(FAULT_WINDOW_MS);
    expect(answer).toMatchObject({ status: 'SUCCESS', data: { CancellationRequested: 'false' } });
    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
  });

  test('throttling until the timeout reports only, never fails', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(awsError('TooManyRequests', 429, 'Rate exceeded'));

    const { answer, tookMs } = await drive(waiterState('Update', { Trigger: 'new', TimeoutSeconds: '600' }));

    expect(tookMs).toBe(600_000);
    expect(answer).toMatchObject({ status: 'SUCCESS', data: { DeploymentStatus: 'IN_PROGRESS', CancellationRequested: 'false' } });
    expect(bed.clocks.sleeps).toEqual([]);
  });

  // A report-only Update may carry an invalid timeout (a rollback, or an unreadable stack status): it waits
  // the default, so a Proton that keeps throttling still gets an answer.
  test('a report-only Update with an invalid timeout still answers when Proton throttles throughout', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(awsError('AccessDenied', 403, 'no'));
    proton.on(GetServiceCommand).rejects(awsError('ThrottlingException', 400, 'Rate exceeded'));

    const { answer, tookMs } = await drive(waiterState('Update', { Trigger: 'new', TimeoutSeconds: 'ninety' }), { maxSteps: 3_000 / 15 + 1 });

    expect(answer).toEqual({ status: 'SUCCESS', physicalResourceId: SERVICE, data: EMPTY_ATTRIBUTES });
    expect(tookMs).toBeLessThanOrEqual(3_000_000);
  });
});
