import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { CancelPipelineDeployment, CancelPipelineDeploymentProvider } from '../lib';
import { CloudFormationRequest, hostProcess, LocalCloudFormation, RequestResult, synthesize, violations, withDeployment } from '../local/cloudformation';
import { EmulatedClock, SCENARIOS } from '../local/proton';
import { cancelStack } from './cancel-stack';

// The local lifecycle's own rules, so that what the end-to-end tests show can be
// trusted: the waiter follows the synthesized state machine down to its Catch,
// functions see their own environment and the emulated clock, and responses are
// checked as CloudFormation checks them.

/** A provider whose isComplete never completes: the waiter must give up through its Catch. */
const PROBE_HANDLER = `
exports.onEvent = async (event, context) => ({
  PhysicalResourceId: 'probe',
  Data: {
    Region: process.env.AWS_REGION,
    HostOnly: process.env.LIFECYCLE_HOST_ONLY || 'absent',
    Now: new Date().toISOString(),
    FunctionName: context.functionName,
    PropertyTypes: typeof event.ResourceProperties.Count + ',' + typeof event.ResourceProperties.Enabled,
  },
});
exports.isComplete = async () => ({ IsComplete: false });
`;

const handlerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-handler-'));
fs.writeFileSync(path.join(handlerDir, 'index.js'), PROBE_HANDLER);

const assemblyDir = synthesize((app) => {
  const probe = new Stack(app, 'Probe');
  const fn = (id: string, handler: string) => new lambda.Function(probe, id, {
    code: lambda.Code.fromAsset(handlerDir), handler, runtime: lambda.Runtime.NODEJS_22_X,
  });
  const provider = new cr.Provider(probe, 'Provider', {
    onEventHandler: fn('OnEvent', 'index.onEvent'),
    isCompleteHandler: fn('IsComplete', 'index.isComplete'),
    queryInterval: Duration.seconds(10),
    totalTimeout: Duration.seconds(30),
  });
  new CustomResource(probe, 'Probe', { serviceToken: provider.serviceToken, properties: { Count: 42, Enabled: true } });

  const slow = new Stack(app, 'SlowPoll');
  cancelStack(slow, { serviceName: 'web-api', provider: new CancelPipelineDeploymentProvider(slow, 'Provider', { pollInterval: Duration.seconds(40) }) });

  // The second resource reads an attribute of the first, so depends on it.
  const chain = new Stack(app, 'Chain');
  const first = new CancelPipelineDeployment(chain, 'First', { serviceName: 'first' });
  new CancelPipelineDeployment(chain, 'Second', { serviceName: 'second', trigger: first.deploymentStatus });
});

afterAll(() => [assemblyDir, handlerDir].forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

describe('a provider whose isComplete never completes', () => {
  const clock = new EmulatedClock(0, new Date('2030-01-01T00:00:00.000Z'));
  let cfn: LocalCloudFormation;
  let create: RequestResult;

  beforeAll(async () => {
    hostProcess.env.LIFECYCLE_HOST_ONLY = 'leaked';
    cfn = await LocalCloudFormation.start({ assemblyDir, stackName: 'Probe', protonEndpoint: 'http://127.0.0.1:9', clock });
    create = (await cfn.createStack()).requests[0];
  });

  afterAll(async () => {
    delete hostProcess.env.LIFECYCLE_HOST_ONLY;
    await cfn.stop();
  });

  test('the waiter retries as the synthesized Retry says, then its Catch runs the framework\'s onTimeout', () => {
    // GIVEN the synthesized policy: every 10 s, 3 retries (totalTimeout 30 s / queryInterval 10 s), no backoff
    const machine = Object.values(cfn.template.Resources).find((r) => r.Type === 'AWS::StepFunctions::StateMachine')!;
    expect(JSON.stringify(machine.Properties?.DefinitionString)).toContain('\\"IntervalSeconds\\":10,\\"MaxAttempts\\":3,\\"BackoffRate\\":1');

    // THEN the first isComplete, 3 retries 10 s apart, and the Catch to onTimeout

    expect(create.executions).toHaveLength(1);
    expect(create.executions[0].events).toEqual([
      { kind: 'task', state: 'framework-isComplete-task', attempt: 1 },
      { kind: 'task-failed', state: 'framework-isComplete-task', error: 'Error' },
      { kind: 'retry-wait', state: 'framework-isComplete-task', seconds: 10 },
      { kind: 'task', state: 'framework-isComplete-task', attempt: 2 },
      { kind: 'task-failed', state: 'framework-isComplete-task', error: 'Error' },
      { kind: 'retry-wait', state: 'framework-isComplete-task', seconds: 10 },
      { kind: 'task', state: 'framework-isComplete-task', attempt: 3 },
      { kind: 'task-failed', state: 'framework-isComplete-task', error: 'Error' },
      { kind: 'retry-wait', state: 'framework-isComplete-task', seconds: 10 },
      { kind: 'task', state: 'framework-isComplete-task', attempt: 4 },
      { kind: 'task-failed', state: 'framework-isComplete-task', error: 'Error' },
      { kind: 'caught', state: 'framework-isComplete-task', error: 'Error', next: 'framework-onTimeout-task' },
      { kind: 'task', state: 'framework-onTimeout-task', attempt: 1 },
    ]);
    expect(create.response).toMatchObject({ Status: 'FAILED', Reason: 'Operation timed out', PhysicalResourceId: 'probe' });
    expect(create.elapsedSeconds).toBe(30);
  });

  test('functions see their own environment and the emulated clock, and properties arrive as strings', () => {
    expect(create.response.Data).toEqual({
      Region: 'us-east-1',
      HostOnly: 'absent',
      Now: '2030-01-01T00:00:00.000Z',
      FunctionName: expect.stringMatching(/^Probe-OnEvent/),
      PropertyTypes: 'string,string',
    });
  });
});

test('the waiter polls at a provider\'s own interval', async () => {
  await withDeployment(assemblyDir, 'SlowPoll', async ({ proton, cfn }) => {
    proton.addService('web-api', SCENARIOS['in-progress']);

    const [create] = (await cfn.createStack()).requests;

    expect(create.response).toMatchObject({ Status: 'SUCCESS', Data: { DeploymentStatus: 'CANCELLED' } });
    const waits = create.executions[0].events.filter((e) => e.kind === 'retry-wait').map((e) => e.kind === 'retry-wait' && e.seconds);
    expect(waits).toEqual([40, 40, 40]);
    expect(create.elapsedSeconds).toBe(120);
  });
});

test('resources run in dependency order: Creates after what they reference, Deletes before it', async () => {
  await withDeployment(assemblyDir, 'Chain', async ({ proton, cfn }) => {
    proton.addService('first', SCENARIOS.succeeded);
    proton.addService('second', SCENARIOS.succeeded);
    const order = (requests: readonly RequestResult[]) => requests.map((r) => `${r.request.RequestType} ${r.request.ResourceProperties.ServiceName}`);

    const creation = await cfn.createStack();
    const deletion = await cfn.deleteStack();

    expect(order(creation.requests)).toEqual(['Create first', 'Create second']);
    expect(creation.requests[1].request.ResourceProperties.Trigger).toBe('SUCCEEDED');
    expect(order(deletion.requests)).toEqual(['Delete second', 'Delete first']);
  });
});

describe('what CloudFormation would not take', () => {
  const request = { RequestType: 'Create', StackId: 'stack', RequestId: 'r1', LogicalResourceId: 'Res' } as CloudFormationRequest;
  const body = (fields: object = {}) => JSON.stringify({ Status: 'SUCCESS', StackId: 'stack', RequestId: 'r1', LogicalResourceId: 'Res', PhysicalResourceId: 'p', Data: { A: '1' }, ...fields });
  const check = (responses: string[], more: Partial<Parameters<typeof violations>[0]> = {}) =>
    violations({ request, responses, elapsedSeconds: 10, serviceTimeoutSeconds: 60, attributesRead: ['A'], ...more });

  test('one good response in time passes', () => {
    expect(check([body()])).toEqual([]);
  });

  test.each([
    ['no response', [], {}, /no response/],
    ['two responses', [body(), body()], {}, /2 responses/],
    ['a body over 4,096 bytes', [body({ Data: { A: 'x'.repeat(4_000) } })], {}, /over CloudFormation's 4096-byte limit/],
    ['a response after the ServiceTimeout', [body()], { elapsedSeconds: 61 }, /ServiceTimeout of 60 s/],
    ['another request id', [body({ RequestId: 'r2' })], {}, /RequestId r2 is not the request's/],
    ['no physical id', [body({ PhysicalResourceId: '' })], {}, /no PhysicalResourceId/],
    ['a missing attribute that the template reads', [body({ Data: {} })], {}, /Data lacks A/],
  ])('fails on %s', (_, responses, more, problem) => {
    expect(check(responses as string[], more).join('; ')).toMatch(problem as RegExp);
  });
});
