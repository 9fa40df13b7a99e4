import * as fs from 'fs';
import { GetServiceCommand, ProtonClient } from '@aws-sdk/client-proton';
import { Stack } from 'aws-cdk-lib';
import { LifecycleViolation, LocalCloudFormation, RequestResult, synthesize, withDeployment } from '../local/cloudformation';
import { EmulatedClock, SCENARIOS } from '../local/proton';
import { PARAMETER_PREFIX, ssmProbeAsset, ssmProbeStack } from './ssm-probe-provider';

// The local lifecycle with the redesigned provider's needs, proven with a probe
// built that way (ssm-probe-provider.ts): OnEvent keeps the ResponseURL in the
// local Parameter Store through its own @aws-sdk/client-ssm, the waiter reads
// it back, answers and deletes it, each function under a role of its own whose
// synthesized policies the endpoint enforces; and the response URL fails PUTs
// as S3 does now and then.

const START = new Date('2030-01-01T00:00:00.000Z');
const asset = ssmProbeAsset();
const assemblyDir = synthesize((app) => {
  ssmProbeStack(new Stack(app, 'Ssm'), { asset, resources: { Waits: { WaitSeconds: 25 } } });
  ssmProbeStack(new Stack(app, 'UrlInInput'), { asset, resources: { Waits: { WaitSeconds: 25, UrlInInput: true } } });
  ssmProbeStack(new Stack(app, 'NoDelete'), { asset, resources: { Waits: { WaitSeconds: 25 } }, allowDelete: false });
  ssmProbeStack(new Stack(app, 'ProtonSplit'), {
    asset, resources: { Waits: { WaitSeconds: 25 } }, protonActions: { onEvent: ['proton:CancelServicePipelineDeployment'], isComplete: ['proton:GetService'] },
  });
});

afterAll(() => [assemblyDir, asset].forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

async function onStack<T>(stackName: string, fn: (cfn: LocalCloudFormation) => Promise<T>): Promise<T> {
  const cfn = await LocalCloudFormation.start({ assemblyDir, stackName, protonEndpoint: 'http://127.0.0.1:9', clock: new EmulatedClock(0, START) });
  try {
    return await fn(cfn);
  } finally {
    await cfn.stop();
  }
}

/** The function whose logical id starts with `prefix`. */
const functionOf = (cfn: LocalCloudFormation, prefix: string) =>
  cfn.functionOf(Object.keys(cfn.template.Resources).find((id) => id.startsWith(prefix) && cfn.template.Resources[id].Type === 'AWS::Lambda::Function')!);

/** Each function's access key. */
const accessKeys = (cfn: LocalCloudFormation) => ({
  OnEvent: functionOf(cfn, 'OnEvent').environment.AWS_ACCESS_KEY_ID,
  IsComplete: functionOf(cfn, 'IsComplete').environment.AWS_ACCESS_KEY_ID,
});

describe('the ResponseURL kept in Parameter Store', () => {
  let cfn: LocalCloudFormation;
  let create: RequestResult;

  beforeAll(async () => {
    cfn = await LocalCloudFormation.start({ assemblyDir, stackName: 'Ssm', protonEndpoint: 'http://127.0.0.1:9', clock: new EmulatedClock(0, START) });
    create = (await cfn.createStack()).requests[0];
  });
  afterAll(() => cfn.stop());

  test('every function reaches the local Parameter Store through AWS_ENDPOINT_URL_SSM', () => {
    expect(functionOf(cfn, 'OnEvent').environment.AWS_ENDPOINT_URL_SSM).toBe(cfn.parameterStore.endpoint);
    expect(functionOf(cfn, 'IsComplete').environment.AWS_ENDPOINT_URL_SSM).toBe(cfn.parameterStore.endpoint);
  });

  test('OnEvent puts the URL under its own role, the waiter reads and deletes it under another, and the answer is the waiter\'s', () => {
    const keys = accessKeys(cfn);
    const name = `${PARAMETER_PREFIX}/${create.request.RequestId}`;

    expect(keys.OnEvent).not.toBe(keys.IsComplete);
    expect(cfn.parameterStore.calls.map((c) => [c.operation, c.name, c.accessKeyId, c.status])).toEqual([
      ['PutParameter', name, keys.OnEvent, 200],
      ['GetParameter', name, keys.IsComplete, 200],
      ['DeleteParameter', name, keys.IsComplete, 200],
    ]);
    expect(create.response).toMatchObject({ Status: 'SUCCESS', Data: { Answer: 'probe' } });
    expect(create.elapsedSeconds).toBe(30);
  });

  test('after the answer no parameter is left, and the ResponseURL is in no execution, call record or log', () => {
    expect(cfn.parameterStore.parameters()).toEqual([]);
    expect(cfn.tracesOf(create.request.ResponseURL)).toEqual([]);
  });
});

test('a ResponseURL passed in the waiter\'s input is found in the execution and the StartExecution call', async () => {
  await onStack('UrlInInput', async (cfn) => {
    const [create] = (await cfn.createStack()).requests;

    expect(cfn.tracesOf(create.request.ResponseURL)).toEqual([
      `execution ${create.executions[0].executionArn}: input`,
      `execution ${create.executions[0].executionArn}: output`,
      'Step Functions call 0 (StartExecution)',
    ]);
  });
});

test('a role whose policies do not allow ssm:DeleteParameter is refused with AccessDeniedException, and the parameter stays', async () => {
  await onStack('NoDelete', async (cfn) => {
    const [create] = (await cfn.createStack()).requests;

    expect(cfn.parameterStore.calls.at(-1)).toMatchObject({ operation: 'DeleteParameter', status: 400, errorType: 'AccessDeniedException', accessKeyId: accessKeys(cfn).IsComplete });
    expect(cfn.parameterStore.parameters().map((p) => [p.name, p.type])).toEqual([[`${PARAMETER_PREFIX}/${create.request.RequestId}`, 'SecureString']]);
  });
});

describe('faults, each paired with the same request without it', () => {
  const createOn = (prepare: (cfn: LocalCloudFormation) => void) => onStack('Ssm', async (cfn) => {
    prepare(cfn);
    const [create] = (await cfn.createStack()).requests;
    return { create, calls: cfn.parameterStore.calls, left: cfn.parameterStore.parameters() };
  });

  test('GetParameter throttled twice: the function\'s SDK retries on the emulated clock, and the answer is the same', async () => {
    const clean = await createOn(() => undefined);
    const faulty = await createOn((cfn) => cfn.parameterStore.injectFaults('GetParameter', { kind: 'throttle', times: 2 }));

    expect(faulty.calls.map((c) => `${c.operation} ${c.status}`)).toEqual(['PutParameter 200', 'GetParameter 400', 'GetParameter 400', 'GetParameter 200', 'DeleteParameter 200']);
    expect(faulty.create.response).toEqual({ ...clean.create.response, RequestId: faulty.create.request.RequestId });
    expect(faulty.left).toEqual([]);
  });

  test('the response URL answers 503 SlowDown twice: the failed PUTs are no answers, the third is, a second later each', async () => {
    const clean = await createOn(() => undefined);
    const faulty = await createOn((cfn) => cfn.responses.failPuts({ answer: 'SlowDown', times: 2, logicalId: 'Waits' }));

    expect(faulty.create.responseAttempts.map((a) => a.status)).toEqual([503, 503, 200]);
    expect(faulty.create.response).toEqual({ ...clean.create.response, RequestId: faulty.create.request.RequestId });
    expect(faulty.create.elapsedSeconds).toBe(clean.create.elapsedSeconds + 2);
  });

  test('PUTs dropped for longer than the function keeps trying: no answer, and the lifecycle says so', async () => {
    await onStack('Ssm', async (cfn) => {
      cfn.responses.failPuts({ answer: 'drop', untilMs: START.getTime() + 3_600_000 });

      const failure = await cfn.createStack().then(() => undefined, (e: unknown) => e);

      expect(failure).toBeInstanceOf(LifecycleViolation);
      expect((failure as LifecycleViolation).problems).toEqual([expect.stringMatching(/^no response/)]);
    });
  });
});

test('roles that may call different Proton operations: the local Proton endpoint is told per operation', async () => {
  await withDeployment(assemblyDir, 'ProtonSplit', async ({ proton, cfn }) => {
    proton.addService('web', SCENARIOS['in-progress']);
    const keys = accessKeys(cfn);
    const getService = (accessKeyId: string) => new ProtonClient({
      endpoint: proton.endpoint, region: proton.region, credentials: { accessKeyId, secretAccessKey: 'x' }, maxAttempts: 1,
    }).send(new GetServiceCommand({ name: 'web' })).then(() => 'ok', (e: Error) => e.name);

    expect(cfn.protonPermissions()).toEqual(expect.arrayContaining([
      { accessKeyId: keys.OnEvent, serviceNames: [], operations: { GetService: [], CancelServicePipelineDeployment: ['web'] } },
      { accessKeyId: keys.IsComplete, serviceNames: [], operations: { GetService: ['web'], CancelServicePipelineDeployment: [] } },
    ]));
    expect(await getService(keys.IsComplete)).toBe('ok');
    expect(await getService(keys.OnEvent)).toBe('AccessDeniedException');
  });
});
