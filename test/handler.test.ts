import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CancelServicePipelineDeploymentCommand, GetServiceCommand, ProtonClient, ServicePipeline } from '@aws-sdk/client-proton';
import { mockClient } from 'aws-sdk-client-mock';
import { checkComplete, handleEvent, IsCompleteRequest, ResourceEvent, THROTTLE_RETRY } from '../lambda/cancel';
import { DENIED_RETRY_MS, timing } from '../lambda/retry';
import { CALL_BUDGET_MS, CLIENT_CONFIG, MAX_ATTEMPTS, POLL_CLIENT_CONFIG, pollClient, protonClient } from '../lambda/sdk';

process.env.AWS_REGION = 'eu-west-1';

const proton = mockClient(ProtonClient);
const cloudFormation = mockClient(CloudFormationClient);

const SERVICE = 'my-service';
const PROPERTIES = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:framework-onEvent',
  ServiceName: SERVICE,
  WaitForFinalStatus: 'true',
  TimeoutSeconds: '1800',
  FailIfNothingToCancel: 'false',
  FailUnlessCancelled: 'false',
};

function pipeline(deploymentStatus: string, extra: Partial<ServicePipeline> = {}): ServicePipeline {
  return {
    arn: `arn:aws:proton:eu-west-1:123456789012:service/${SERVICE}/pipeline/a1b2`,
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

function service(deploymentStatus: string | undefined, extra: Partial<ServicePipeline> = {}) {
  return {
    service: {
      name: SERVICE,
      arn: `arn:aws:proton:eu-west-1:123456789012:service/${SERVICE}`,
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

function awsError(name: string, httpStatusCode: number, message = `${name} from AWS`) {
  return Object.assign(new Error(message), { name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode } });
}

type Properties = Partial<typeof PROPERTIES> & { Trigger?: string; ServiceTimeout?: string };

function event(requestType: 'Create' | 'Update' | 'Delete', properties: Properties = {}, old: Properties = { Trigger: 'old' }): ResourceEvent {
  const base = {
    ServiceToken: PROPERTIES.ServiceToken,
    ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/secret',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Stack/guid',
    RequestId: 'request-1',
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

let logs: string[];
/** Emulated monotonic time of the retries, moved only by their sleeps. */
let retryClockMs: number;
let sleeps: number[];

beforeEach(() => {
  retryClockMs = 0;
  sleeps = [];
  jest.spyOn(timing, 'now').mockImplementation(() => retryClockMs);
  jest.spyOn(timing, 'sleep').mockImplementation(async (ms) => {
    sleeps.push(ms);
    retryClockMs += ms;
  });
  proton.reset();
  cloudFormation.reset();
  cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'Stack', StackStatus: 'UPDATE_IN_PROGRESS', CreationTime: new Date() }] });
  logs = [];
  jest.spyOn(console, 'log').mockImplementation((line: string) => { logs.push(line); });
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('onEvent', () => {
  test('cancels an IN_PROGRESS deployment and asks isComplete to wait', async () => {
    // GIVEN
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

    // WHEN
    const response = await handleEvent(event('Create'));

    // THEN
    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)[0].args[0].input).toEqual({ serviceName: SERVICE });
    expect(response).toEqual({
      PhysicalResourceId: SERVICE,
      WaitStartedAt: expect.any(Number),
      Data: {
        DeploymentStatus: 'CANCELLING',
        DeploymentStatusMessage: '',
        PipelineArn: `arn:aws:proton:eu-west-1:123456789012:service/${SERVICE}/pipeline/a1b2`,
        TemplateName: 'pipeline-template',
        TemplateMajorVersion: '1',
        TemplateMinorVersion: '3',
        LastDeploymentAttemptedAt: '2026-11-26T09:30:00.000Z',
        LastDeploymentSucceededAt: '2026-11-20T08:00:00.000Z',
        CancellationRequested: 'true',
      },
    });
  });

  describe('with the options the template leaves out at their defaults', () => {
    function bare(): ResourceEvent {
      const full = event('Create');
      const { ServiceToken, ServiceName } = full.ResourceProperties;
      return { ...full, ResourceProperties: { ServiceToken, ServiceName } } as ResourceEvent;
    }

    test('reports, not fails, when nothing is in progress (failIfNothingToCancel false)', async () => {
      proton.on(GetServiceCommand).resolves(service('SUCCEEDED'));

      const response = await handleEvent(bare());

      expect(response.Data?.DeploymentStatus).toBe('SUCCEEDED');
    });

    test('waits for the final status (waitForFinalStatus true)', async () => {
      proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
      proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

      const response = await handleEvent(bare());

      expect(response.WaitStartedAt).toEqual(expect.any(Number));
    });

    test('waits 30 minutes (timeout)', async () => {
      proton.on(GetServiceCommand).resolves(service('CANCELLING'));
      const request = { ...bare(), PhysicalResourceId: SERVICE };

      await expect(checkComplete({ ...request, WaitStartedAt: Date.now() - 1_790_000 })).resolves.toEqual({ IsComplete: false });
      await expect(checkComplete({ ...request, WaitStartedAt: Date.now() - 1_800_000 })).rejects.toThrow('Timed out after 30m 0s');
    });

    test('reports a final status other than CANCELLED (failUnlessCancelled false)', async () => {
      proton.on(GetServiceCommand).resolves(service('FAILED'));

      await expect(checkComplete({ ...bare(), PhysicalResourceId: SERVICE, WaitStartedAt: Date.now() })).resolves
        .toMatchObject({ IsComplete: true, Data: { DeploymentStatus: 'FAILED' } });
    });
  });

  test('does not wait when waitForFinalStatus is false', async () => {
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

    const response = await handleEvent(event('Create', { WaitForFinalStatus: 'false' }));

    expect(response.WaitStartedAt).toBeUndefined();
    expect(response.Data?.DeploymentStatus).toBe('CANCELLING');
    expect(response.Data?.CancellationRequested).toBe('true');
  });

  test('waits without cancelling when the deployment is already CANCELLING', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLING'));

    const response = await handleEvent(event('Create'));

    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
    expect(response.WaitStartedAt).toEqual(expect.any(Number));
    expect(response.Data?.CancellationRequested).toBe('false');
  });

  test.each(['SUCCEEDED', 'FAILED', 'CANCELLED', 'DELETE_IN_PROGRESS', 'DELETE_FAILED', 'DELETE_COMPLETE'])(
    'reports %s without cancelling or waiting when nothing is in progress', async (status) => {
      proton.on(GetServiceCommand).resolves(service(status));

      const response = await handleEvent(event('Create'));

      expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
      expect(response.WaitStartedAt).toBeUndefined();
      expect(response.Data).toMatchObject({ DeploymentStatus: status, CancellationRequested: 'false' });
    });

  test('fails when nothing is in progress and failIfNothingToCancel is set', async () => {
    proton.on(GetServiceCommand).resolves(service('SUCCEEDED'));

    await expect(handleEvent(event('Create', { FailIfNothingToCancel: 'true' }))).rejects.toThrow(
      "Nothing to cancel: the pipeline deployment of Proton service 'my-service' in eu-west-1 is SUCCEEDED, not IN_PROGRESS, and failIfNothingToCancel is set.");
  });

  test('reports the status reached when the deployment finished before the cancel (the race)', async () => {
    // GIVEN: read IN_PROGRESS, then the deployment succeeds and Proton refuses the cancel
    proton.on(GetServiceCommand).resolvesOnce(service('IN_PROGRESS')).resolves(service('SUCCEEDED'));
    proton.on(CancelServicePipelineDeploymentCommand).rejects(awsError('ValidationException', 400, 'Service pipeline deployment is not in progress'));

    // WHEN
    const response = await handleEvent(event('Create'));

    // THEN
    expect(proton.commandCalls(GetServiceCommand)).toHaveLength(2);
    expect(response.WaitStartedAt).toBeUndefined();
    // Proton refused the cancel: it was requested of Proton but not accepted.
    expect(response.Data).toMatchObject({ DeploymentStatus: 'SUCCEEDED', CancellationRequested: 'false' });
  });

  test('fails on the race when failUnlessCancelled is set', async () => {
    proton.on(GetServiceCommand).resolvesOnce(service('IN_PROGRESS')).resolves(service('SUCCEEDED'));
    proton.on(CancelServicePipelineDeploymentCommand).rejects(awsError('ConflictException', 409));

    await expect(handleEvent(event('Create', { FailUnlessCancelled: 'true' }))).rejects.toThrow(
      "The pipeline deployment of Proton service 'my-service' in eu-west-1 ended SUCCEEDED, not CANCELLED, and failUnlessCancelled is set.");
  });

  test('fails when Proton refuses the cancel of a deployment still IN_PROGRESS', async () => {
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).rejects(awsError('ValidationException', 400, 'something else is wrong'));

    await expect(handleEvent(event('Create'))).rejects.toThrow(
      "AWS Proton refused proton:CancelServicePipelineDeployment for Proton service 'my-service' in eu-west-1: ValidationException (AWS Proton said: something else is wrong).");
  });

  test('fails with one sentence when the service has no pipeline', async () => {
    proton.on(GetServiceCommand).resolves(service(undefined));

    await expect(handleEvent(event('Create'))).rejects.toThrow(
      "Proton service 'my-service' in eu-west-1 has no service pipeline, so it has no pipeline deployment to cancel; use this construct only with services created with a pipeline.");
  });

  test.each([
    ['the service does not exist', awsError('ResourceNotFoundException', 404, 'The requested resource my-service was not found.'),
      "Proton service 'my-service' in eu-west-1 was not found (AWS Proton said: The requested resource my-service was not found.); check serviceName"],
    ['access is denied', awsError('AccessDeniedException', 403, 'User is not authorized'),
      "Access denied to proton:GetService on Proton service 'my-service' in eu-west-1 (AWS Proton said: User is not authorized); the provider's role allows it"],
    ['Proton keeps failing with 5xx', awsError('InternalServerException', 500),
      "AWS Proton failed proton:GetService for Proton service 'my-service' in eu-west-1 with HTTP 500 through every retry (AWS Proton said: InternalServerException from AWS); deploy again later."],
    ['the SDK marks a server fault without an HTTP status', Object.assign(new Error('busy'), { name: 'ServiceUnavailable', $fault: 'server', $metadata: {} }),
      "AWS Proton failed proton:GetService for Proton service 'my-service' in eu-west-1 with a server fault (ServiceUnavailable) through every retry (AWS Proton said: busy); deploy again later."],
    ['access is denied with a 403 of another name', awsError('Forbidden', 403, 'no'),
      "Access denied to proton:GetService on Proton service 'my-service' in eu-west-1 (AWS Proton said: no)"],
    ['a client error of another kind', awsError('ServiceQuotaExceededException', 402, 'quota'),
      "AWS Proton refused proton:GetService for Proton service 'my-service' in eu-west-1: ServiceQuotaExceededException (AWS Proton said: quota)."],
    ['a 500 the SDK did not mark as a server fault', Object.assign(new Error('oops'), { name: 'Odd', $metadata: { httpStatusCode: 500 } }),
      "AWS Proton failed proton:GetService for Proton service 'my-service' in eu-west-1 with HTTP 500 through every retry (AWS Proton said: oops)"],
    ['a 499 without a fault mark', Object.assign(new Error('odd'), { name: 'Odd', $metadata: { httpStatusCode: 499 } }),
      "AWS Proton refused proton:GetService for Proton service 'my-service' in eu-west-1: Odd (AWS Proton said: odd)."],
    ['a client error whose message mentions parsing', Object.assign(new Error('cannot parse the name'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }),
      "AWS Proton refused proton:GetService for Proton service 'my-service' in eu-west-1: ValidationException (AWS Proton said: cannot parse the name)."],
    ['an error without status, name or message', Object.assign(Object.create(null), { message: '' }),
      "AWS Proton refused proton:GetService for Proton service 'my-service' in eu-west-1: Error."],
    ['the request times out', Object.assign(new Error('Request timed out'), { name: 'TimeoutError' }),
      "Could not reach AWS Proton for Proton service 'my-service' in eu-west-1 (TimeoutError, after retrying for up to 25 seconds)"],
    ['the network error code is only in the message', new Error('socket hang up: read ECONNRESET'),
      "Could not reach AWS Proton for Proton service 'my-service' in eu-west-1 (ECONNRESET, after retrying for up to 25 seconds)"],
    ['the answer holds no service', undefined,
      "AWS Proton answered proton:GetService for Proton service 'my-service' in eu-west-1 without the service; deploy again later"],
    ['the endpoint refuses connections', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      "Could not reach AWS Proton for Proton service 'my-service' in eu-west-1 (ECONNREFUSED, after retrying for up to 25 seconds)"],
    ['the endpoint name does not resolve', Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }),
      'AWS Proton reached end of support on October 7, 2026'],
    ['the call runs out of time', Object.assign(new Error('This operation was aborted'), { name: 'AbortError' }),
      "Could not reach AWS Proton for Proton service 'my-service' in eu-west-1 (AbortError, after retrying for up to 25 seconds)"],
    ['the answer is not JSON', Object.assign(new SyntaxError('Unexpected token < in JSON'), { $metadata: {} }),
      "AWS Proton sent an answer to proton:GetService for Proton service 'my-service' in eu-west-1 that is not valid Proton JSON"],
  ])('fails with a clear message when %s', async (_, error, message) => {
    if (error) {
      proton.on(GetServiceCommand).rejects(error);
    } else {
      proton.on(GetServiceCommand).resolves({});
    }

    const failure = handleEvent(event('Create'));

    await expect(failure).rejects.toThrow(message);
    // The stack is the message alone: no minified trace reaches the stack events.
    await failure.catch((e: Error) => {
      expect(e.stack).toBe(e.message);
      expect(e.name).toBe('DeploymentError');
    });
  });

  test('a forward Update whose Trigger changed cancels like a Create', async () => {
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

    const response = await handleEvent(event('Update'));

    expect(cloudFormation.commandCalls(DescribeStacksCommand)[0].args[0].input).toEqual({ StackName: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Stack/guid' });
    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(1);
    expect(response.PhysicalResourceId).toBe(SERVICE);
  });

  test('an Update whose Trigger changed and whose stack status is unknown is treated as a forward one', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(awsError('AccessDenied', 403));
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

    await handleEvent(event('Update'));

    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(1);
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
      proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));

      const response = await handleEvent(event('Update', properties, old));

      expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
      expect(cloudFormation.calls()).toHaveLength(0);
      expect(response).toEqual({ PhysicalResourceId: SERVICE, Data: expect.objectContaining({ DeploymentStatus: 'IN_PROGRESS', CancellationRequested: 'false' }) });
    });

    test('a report-only Update whose read fails succeeds with empty attributes', async () => {
      proton.on(GetServiceCommand).rejects(awsError('InternalServerException', 500));

      const response = await handleEvent(event('Update', { TimeoutSeconds: '600' }, {}));

      expect(response.Data).toMatchObject({ DeploymentStatus: '', PipelineArn: '', CancellationRequested: 'false' });
      expect(logs.map(l => JSON.parse(l).step)).toContain('report-read-failed');
    });

    test('an Update to a new service name cancels on the new service (the answer makes it a replacement)', async () => {
      proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
      proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

      const response = await handleEvent(event('Update', { ServiceName: 'renamed', Trigger: 'same' }, { ServiceName: SERVICE, Trigger: 'same' }));

      expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)[0].args[0].input).toEqual({ serviceName: 'renamed' });
      expect(response.PhysicalResourceId).toBe('renamed');
    });

    test('an Update from no Trigger to one cancels', async () => {
      proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
      proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

      await handleEvent(event('Update', { Trigger: 'first' }, {}));

      expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(1);
    });
  });

  describe('during an update rollback', () => {
    beforeEach(() => {
      cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'Stack', StackStatus: 'UPDATE_ROLLBACK_IN_PROGRESS', CreationTime: new Date() }] });
    });

    test('reports the pipeline without cancelling, even with the strict options set', async () => {
      proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));

      const response = await handleEvent(event('Update', { FailIfNothingToCancel: 'true', FailUnlessCancelled: 'true' }));

      expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
      expect(response.WaitStartedAt).toBeUndefined();
      expect(response.Data).toMatchObject({ DeploymentStatus: 'IN_PROGRESS', CancellationRequested: 'false' });
    });

    test('a Trigger change does not cancel', async () => {
      proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));

      const response = await handleEvent(event('Update', { Trigger: 'new' }, { Trigger: 'old' }));

      expect(cloudFormation.commandCalls(DescribeStacksCommand)).toHaveLength(1);
      expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
      expect(response.Data).toMatchObject({ CancellationRequested: 'false' });
    });

    test('an invalid property does not fail the rollback', async () => {
      proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));

      const response = await handleEvent(event('Update', { TimeoutSeconds: '5' }, { TimeoutSeconds: '5' }));

      expect(response.Data).toMatchObject({ DeploymentStatus: 'IN_PROGRESS', CancellationRequested: 'false' });
    });

    test('succeeds with empty attributes when Proton cannot be read', async () => {
      proton.on(GetServiceCommand).rejects(awsError('ResourceNotFoundException', 404));

      const response = await handleEvent(event('Update', { FailIfNothingToCancel: 'true' }));

      expect(response.PhysicalResourceId).toBe(SERVICE);
      expect(Object.keys(response.Data!)).toHaveLength(9);
      expect(response.Data).toMatchObject({ DeploymentStatus: '', CancellationRequested: 'false' });
      expect(logs.map(l => JSON.parse(l).step)).toEqual(['rollback-read-failed']);
    });
  });

  test('Delete makes no AWS call', async () => {
    const response = await handleEvent(event('Delete'));

    expect(logs.map(l => JSON.parse(l))).toEqual([{ step: 'delete', physicalResourceId: SERVICE }]);
    expect(response).toEqual({ PhysicalResourceId: SERVICE });
    expect(proton.calls()).toHaveLength(0);
    expect(cloudFormation.calls()).toHaveLength(0);
  });

  test('Delete after a failed Create keeps the physical id the framework gave it', async () => {
    const failedCreate = { ...event('Delete'), PhysicalResourceId: 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED' };

    await expect(handleEvent(failedCreate)).resolves.toEqual({ PhysicalResourceId: 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED' });
    expect(proton.calls()).toHaveLength(0);
  });
});

describe('isComplete', () => {
  function waiting(properties: Partial<typeof PROPERTIES> = {}, waitStartedAt = Date.now()): IsCompleteRequest {
    return {
      ...event('Create', properties),
      PhysicalResourceId: SERVICE,
      WaitStartedAt: waitStartedAt,
      Data: { CancellationRequested: 'true' } as never,
    };
  }

  test('is complete at once when onEvent did not ask to wait', async () => {
    await expect(checkComplete({ ...event('Create'), PhysicalResourceId: SERVICE })).resolves.toEqual({ IsComplete: true });
    expect(proton.calls()).toHaveLength(0);
  });

  test('Delete is complete at once', async () => {
    await expect(checkComplete(event('Delete') as IsCompleteRequest)).resolves.toEqual({ IsComplete: true });
    expect(proton.calls()).toHaveLength(0);
  });

  test.each(['IN_PROGRESS', 'CANCELLING'])('asks to be called again while the status is %s', async (status) => {
    proton.on(GetServiceCommand).resolves(service(status));

    await expect(checkComplete(waiting())).resolves.toEqual({ IsComplete: false });
    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
  });

  test.each(['CANCELLED', 'FAILED', 'SUCCEEDED'])('completes with the attributes at %s, keeping CancellationRequested from onEvent', async (status) => {
    proton.on(GetServiceCommand).resolves(service(status, { deploymentStatusMessage: 'done' }));

    const response = await checkComplete(waiting());

    expect(response.IsComplete).toBe(true);
    expect(response.Data).toMatchObject({ DeploymentStatus: status, DeploymentStatusMessage: 'done' });
    expect(response.Data).not.toHaveProperty('CancellationRequested');
  });

  test.each(['FAILED', 'SUCCEEDED'])('fails at %s when failUnlessCancelled is set', async (status) => {
    proton.on(GetServiceCommand).resolves(service(status));

    await expect(checkComplete(waiting({ FailUnlessCancelled: 'true' }))).rejects.toThrow(
      `The pipeline deployment of Proton service 'my-service' in eu-west-1 ended ${status}, not CANCELLED, and failUnlessCancelled is set.`);
  });

  test('fails past the timeout, naming the service, the last status and the time waited', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLING'));

    await expect(checkComplete(waiting({ TimeoutSeconds: '1800' }, Date.now() - 1_800_000))).rejects.toThrow(
      "Timed out after 30m 0s waiting for the pipeline deployment of Proton service 'my-service' in eu-west-1 to reach a final status; last status: CANCELLING.");
  });

  test('keeps waiting just before the timeout', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLING'));

    await expect(checkComplete(waiting({ TimeoutSeconds: '1800' }, Date.now() - 1_790_000))).resolves.toEqual({ IsComplete: false });
  });
});

describe('response size', () => {
  test('stays under 4,096 bytes and never holds or logs the spec, whatever Proton returns', async () => {
    // GIVEN: a 51,200-character spec and a long status message full of characters JSON escapes
    const spec = 'x'.repeat(51_200);
    const message = '"\\\n\u0001é'.repeat(5_000);
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS', { spec }));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING', { spec, deploymentStatusMessage: message }) });

    // WHEN
    const response = await handleEvent(event('Create'));

    // THEN: the body the framework sends, with a long stack id and logical id
    const body = JSON.stringify({
      Status: 'SUCCESS', Reason: 'SUCCESS', StackId: `arn:aws:cloudformation:eu-west-1:123456789012:stack/${'S'.repeat(128)}/${'g'.repeat(36)}`,
      RequestId: 'r'.repeat(36), PhysicalResourceId: response.PhysicalResourceId, LogicalResourceId: 'L'.repeat(255), Data: response.Data,
    });
    expect(Buffer.byteLength(body)).toBeLessThan(4_096);
    expect(JSON.stringify(response)).not.toContain('xxxxxxxxxx');
    expect(response.Data?.DeploymentStatusMessage.endsWith('…')).toBe(true);
    expect(logs.join('\n')).not.toContain('xxxxxxxxxx');
    expect(logs.join('\n')).not.toContain('cloudformation-custom-resource-response');
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
  ])('a Create with %s fails with one sentence, before any Proton call', async (_, properties, message) => {
    const failure = handleEvent(event('Create', properties));

    await expect(failure).rejects.toThrow(message);
    await failure.catch((e: Error) => expect(e.message).toMatch(/^Invalid property of the cancel for Proton service '[^']*' in eu-west-1: \w+ must be [^;]*, got [^;]*\.$/));
    expect(proton.calls()).toHaveLength(0);
  });

  test('a Create without a service name names the option', async () => {
    const { ServiceName: _, ...rest } = event('Create').ResourceProperties;

    await expect(handleEvent({ ...event('Create'), ResourceProperties: rest } as ResourceEvent)).rejects.toThrow('serviceName must be 1 to 100 letters, digits, \'-\' or \'_\', starting with a letter or digit, got nothing.');
  });

  test('a forward Update with a bad value fails before any Proton call, even without a Trigger change', async () => {
    await expect(handleEvent(event('Update', { TimeoutSeconds: '4000' }, {}))).rejects.toThrow("timeout must be a whole number of seconds from 60 to 3000, got '4000'");
    expect(proton.calls()).toHaveLength(0);
  });

  test('accepts the bounds', async () => {
    proton.on(GetServiceCommand).resolves(service('SUCCEEDED'));

    await expect(handleEvent(event('Create', { TimeoutSeconds: '60', ServiceName: 'a'.repeat(100) }))).resolves.toMatchObject({ Data: { DeploymentStatus: 'SUCCEEDED' } });
    await expect(handleEvent(event('Create', { TimeoutSeconds: '3000' }))).resolves.toMatchObject({ Data: { DeploymentStatus: 'SUCCEEDED' } });
  });
});

describe('access denied (a policy not yet in effect)', () => {
  test('is retried, then the cancel goes through once access is allowed', async () => {
    // GIVEN two denials, then access
    proton.on(GetServiceCommand).rejectsOnce(awsError('AccessDeniedException', 403)).rejectsOnce(awsError('AccessDeniedException', 403))
      .resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

    // WHEN
    const response = await handleEvent(event('Create'));

    // THEN: backoff of 1 s, then 2 s
    expect(sleeps).toEqual([1_000, 2_000]);
    expect(response.Data).toMatchObject({ DeploymentStatus: 'CANCELLING', CancellationRequested: 'true' });
  });

  test('fails with the existing sentence after 60 seconds of denials', async () => {
    proton.on(GetServiceCommand).rejects(awsError('AccessDeniedException', 403, 'User is not authorized'));

    await expect(handleEvent(event('Create'))).rejects.toThrow(
      "Access denied to proton:GetService on Proton service 'my-service' in eu-west-1 (AWS Proton said: User is not authorized); the provider's role allows it for this service, so look for a service control policy or permissions boundary that denies it.");
    expect(DENIED_RETRY_MS).toBe(60_000);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBe(60_000);
    expect(sleeps).toEqual([1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000]);
  });

  test('is retried during a poll too', async () => {
    proton.on(GetServiceCommand).rejectsOnce(awsError('AccessDeniedException', 403)).resolves(service('CANCELLED'));

    const response = await checkComplete({ ...event('Create'), PhysicalResourceId: SERVICE, WaitStartedAt: Date.now() });

    expect(response).toMatchObject({ IsComplete: true, Data: { DeploymentStatus: 'CANCELLED' } });
  });
});

describe('throttling (many instances at once)', () => {
  test('a first read throttled through the SDK\'s attempts falls back to the cancel, which Proton accepts', async () => {
    proton.on(GetServiceCommand).rejects(awsError('ThrottlingException', 429));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({ pipeline: pipeline('CANCELLING') });

    const response = await handleEvent(event('Create'));

    expect(proton.commandCalls(GetServiceCommand)).toHaveLength(1);
    expect(response).toMatchObject({ WaitStartedAt: expect.any(Number), Data: { DeploymentStatus: 'CANCELLING', CancellationRequested: 'true' } });
    expect(logs.map(l => JSON.parse(l))).toContainEqual({ step: 'read-throttled', serviceName: SERVICE, next: 'cancel' });
  });

  test('a throttled cancel is retried with full jitter until Proton accepts it', async () => {
    jest.spyOn(timing, 'random').mockReturnValue(0.5);
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).rejectsOnce(awsError('ThrottlingException', 429)).rejectsOnce(awsError('ThrottlingException', 429))
      .resolves({ pipeline: pipeline('CANCELLING') });

    const response = await handleEvent(event('Create'));

    expect(sleeps).toEqual([500, 1_000]);
    expect(response.Data).toMatchObject({ CancellationRequested: 'true' });
  });

  test('a cancel throttled for the whole window fails with one sentence', async () => {
    jest.spyOn(timing, 'random').mockReturnValue(0.999);
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    proton.on(CancelServicePipelineDeploymentCommand).rejects(awsError('ThrottlingException', 429));

    await expect(handleEvent(event('Create'))).rejects.toThrow(
      "AWS Proton kept throttling proton:CancelServicePipelineDeployment for Proton service 'my-service' in eu-west-1 through every retry; deploy again later, or deploy fewer stacks at once.");
    expect(THROTTLE_RETRY.onEventMs).toBe(180_000);
    expect(retryClockMs).toBe(180_000);
    expect(Math.max(...sleeps)).toBe(14_985);
  });

  test('a blind cancel that Proton refuses is followed by a read that reports the status', async () => {
    proton.on(GetServiceCommand).rejectsOnce(awsError('ThrottlingException', 429)).resolves(service('SUCCEEDED'));
    proton.on(CancelServicePipelineDeploymentCommand).rejects(awsError('ValidationException', 400));

    const response = await handleEvent(event('Create'));

    expect(response.Data).toMatchObject({ DeploymentStatus: 'SUCCEEDED', CancellationRequested: 'false' });
  });

  test('an accepted cancel whose answer holds no pipeline is followed by a read', async () => {
    proton.on(GetServiceCommand).resolvesOnce(service('IN_PROGRESS')).resolves(service('CANCELLING'));
    proton.on(CancelServicePipelineDeploymentCommand).resolves({} as never);

    const response = await handleEvent(event('Create'));

    expect(proton.commandCalls(GetServiceCommand)).toHaveLength(2);
    expect(response.Data).toMatchObject({ DeploymentStatus: 'CANCELLING', CancellationRequested: 'true' });
  });
});

describe('a poll that fails', () => {
  function waiting(waitedMs: number): IsCompleteRequest {
    return { ...event('Create', { TimeoutSeconds: '600' }), PhysicalResourceId: SERVICE, WaitStartedAt: Date.now() - waitedMs };
  }

  test.each([
    ['throttled', awsError('ThrottlingException', 429)],
    ['a server fault', awsError('InternalServerException', 500)],
    ['a dropped connection', Object.assign(new Error('socket hang up ECONNRESET'), { code: 'ECONNRESET' })],
  ])('%s: is repeated at the next poll while the timeout allows', async (_, error) => {
    proton.on(GetServiceCommand).rejects(error);

    await expect(checkComplete(waiting(599_000))).resolves.toEqual({ IsComplete: false });
    await expect(checkComplete(waiting(600_000))).rejects.toThrow(/^(AWS Proton kept throttling|AWS Proton failed|Could not reach AWS Proton)/);
    expect(sleeps).toEqual([]);
  });

  test('fails at exactly the timeout', async () => {
    proton.on(GetServiceCommand).rejects(awsError('ThrottlingException', 429));
    jest.spyOn(Date, 'now').mockReturnValue(1_800_000_000_000);

    await expect(checkComplete(waiting(600_000))).rejects.toThrow('AWS Proton kept throttling proton:GetService');
    await expect(checkComplete(waiting(599_999))).resolves.toEqual({ IsComplete: false });
  });

  test('is made with one attempt, so the waiter repeats it instead of the SDK', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLING'));

    await checkComplete(waiting(0));

    expect(proton.call(0).thisValue).toBe(pollClient());
    expect(pollClient()).not.toBe(protonClient());
  });

  test('a poll refused for another reason fails at once', async () => {
    proton.on(GetServiceCommand).rejects(awsError('ResourceNotFoundException', 404));

    await expect(checkComplete(waiting(0))).rejects.toThrow("Proton service 'my-service' in eu-west-1 was not found");
  });
});

describe('the status model', () => {
  test('DELETE_IN_PROGRESS met during the wait is waited through', async () => {
    proton.on(GetServiceCommand).resolves(service('DELETE_IN_PROGRESS'));

    await expect(checkComplete({ ...event('Create'), PhysicalResourceId: SERVICE, WaitStartedAt: Date.now() })).resolves.toEqual({ IsComplete: false });
  });

  test('a status outside the published model is never cancelled, ends the wait, and is logged as unknown', async () => {
    proton.on(GetServiceCommand).resolves(service('PAUSED'));

    const created = await handleEvent(event('Create'));
    const polled = await checkComplete({ ...event('Create'), PhysicalResourceId: SERVICE, WaitStartedAt: Date.now() });

    expect(proton.commandCalls(CancelServicePipelineDeploymentCommand)).toHaveLength(0);
    expect(created).toEqual({ PhysicalResourceId: SERVICE, Data: expect.objectContaining({ DeploymentStatus: 'PAUSED' }) });
    expect(polled).toMatchObject({ IsComplete: true, Data: { DeploymentStatus: 'PAUSED' } });
    expect(logs.map(l => JSON.parse(l))).toContainEqual(expect.objectContaining({ step: 'read', deploymentStatus: 'PAUSED', unknownStatus: true }));
    expect(logs.map(l => JSON.parse(l))).toContainEqual(expect.objectContaining({ step: 'poll', deploymentStatus: 'PAUSED', unknownStatus: true }));
    expect(logs.map(l => JSON.parse(l)).filter(l => l.deploymentStatus !== 'PAUSED')).toEqual([]);
  });

  test('a known status is not logged as unknown', async () => {
    proton.on(GetServiceCommand).resolves(service('SUCCEEDED'));

    await handleEvent(event('Create'));

    expect(JSON.parse(logs[0])).toEqual({ step: 'read', serviceName: SERVICE, deploymentStatus: 'SUCCEEDED', next: 'nothing-to-cancel' });
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

    await handleEvent(event('Create'));

    expect(timeout).toHaveBeenCalledWith(25_000);
    expect((proton.call(0).args as unknown[])[1]).toEqual({ abortSignal: timeout.mock.results[0].value });
  });
});

describe('what each step logs and reports', () => {
  function steps() {
    return logs.map(l => JSON.parse(l));
  }

  test('a pipeline that never had a deployment attempted or succeeded reports both times empty', async () => {
    proton.on(GetServiceCommand).resolves(service('FAILED', { lastDeploymentAttemptedAt: undefined, lastDeploymentSucceededAt: undefined }));

    const response = await handleEvent(event('Create'));

    expect(response.Data).toMatchObject({ LastDeploymentAttemptedAt: '', LastDeploymentSucceededAt: '' });
  });

  test('the race is logged with the status reached; an accepted cancel with the status it answered', async () => {
    proton.on(GetServiceCommand).resolvesOnce(service('IN_PROGRESS')).resolves(service('SUCCEEDED'));
    proton.on(CancelServicePipelineDeploymentCommand).rejectsOnce(awsError('ValidationException', 400)).resolves({ pipeline: pipeline('CANCELLING') });

    await handleEvent(event('Create'));
    proton.on(GetServiceCommand).resolves(service('IN_PROGRESS'));
    await handleEvent(event('Create', { ServiceName: 'other' }));

    expect(steps()).toContainEqual({ step: 'cancel-lost-race', serviceName: SERVICE, deploymentStatus: 'SUCCEEDED' });
    expect(steps()).not.toContainEqual(expect.objectContaining({ step: 'cancel-sent', serviceName: SERVICE }));
    expect(steps()).toContainEqual({ step: 'cancel-sent', serviceName: 'other', deploymentStatus: 'CANCELLING' });
  });

  test('a failed poll is logged with the time waited and the error', async () => {
    proton.on(GetServiceCommand).rejects(awsError('ThrottlingException', 429));

    await checkComplete({ ...event('Create'), PhysicalResourceId: SERVICE, WaitStartedAt: Date.now() - 30_000 });

    expect(steps()).toEqual([{
      step: 'poll-failed', serviceName: SERVICE, waitedSeconds: expect.closeTo(30, 0),
      error: "AWS Proton kept throttling proton:GetService for Proton service 'my-service' in eu-west-1 through every retry; deploy again later, or deploy fewer stacks at once.",
    }]);
  });

  test('a report-only read that fails is logged with the error', async () => {
    proton.on(GetServiceCommand).rejects(awsError('ResourceNotFoundException', 404, 'gone'));

    await handleEvent(event('Update', { TimeoutSeconds: '600' }, {}));

    expect(steps()).toEqual([{ step: 'report-read-failed', serviceName: SERVICE, error: expect.stringMatching(/^Proton service 'my-service' in eu-west-1 was not found/) }]);
  });

  test('an unknown stack status is logged with the error, and a stack without status is a forward update', async () => {
    proton.on(GetServiceCommand).resolves(service('SUCCEEDED'));
    cloudFormation.on(DescribeStacksCommand).rejectsOnce(awsError('AccessDenied', 403, 'no')).resolvesOnce({ Stacks: [] }).resolves({});

    await handleEvent(event('Update'));
    expect(steps()[0]).toEqual({ step: 'stack-status-unknown', error: 'no' });
    logs.length = 0;

    await handleEvent(event('Update'));
    expect(steps().map(l => l.step)).toEqual(['read']);
    logs.length = 0;

    await handleEvent(event('Update'));
    expect(steps().map(l => l.step)).toEqual(['read']);
  });

  test('an Update waits through isComplete like a Create', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLING'));

    await expect(checkComplete({ ...event('Update'), WaitStartedAt: Date.now() } as IsCompleteRequest)).resolves.toEqual({ IsComplete: false });
    expect(proton.calls()).toHaveLength(1);
  });

  test('failUnlessCancelled completes at CANCELLED', async () => {
    proton.on(GetServiceCommand).resolves(service('CANCELLED'));

    await expect(checkComplete({ ...event('Create', { FailUnlessCancelled: 'true' }), PhysicalResourceId: SERVICE, WaitStartedAt: Date.now() }))
      .resolves.toMatchObject({ IsComplete: true });
    await expect(handleEvent(event('Create', { FailUnlessCancelled: 'true' }))).resolves.toMatchObject({ Data: { DeploymentStatus: 'CANCELLED' } });
  });

  test('without AWS_REGION, the messages say the region is unknown', async () => {
    const region = process.env.AWS_REGION;
    delete process.env.AWS_REGION;
    try {
      proton.on(GetServiceCommand).rejects(awsError('ResourceNotFoundException', 404));
      await expect(handleEvent(event('Create'))).rejects.toThrow("Proton service 'my-service' in an unknown region was not found");
    } finally {
      process.env.AWS_REGION = region;
    }
  });

  test('onEvent reads with the client that retries; isComplete with the one-attempt client', async () => {
    proton.on(GetServiceCommand).resolves(service('SUCCEEDED'));

    await handleEvent(event('Create'));

    expect(proton.call(0).thisValue).toBe(protonClient());
  });
});
