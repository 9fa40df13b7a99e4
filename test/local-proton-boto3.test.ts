import { execFile } from 'child_process';
import * as path from 'path';
import { promisify } from 'util';
import { LocalProton, SCENARIOS } from '../local/proton';
import { PYTHON, pythonPackageDir } from './proton-model';

// A second client, written outside this project: boto3 (Debian's python3-boto3) drives the local
// endpoint through a cancel, a missing service, the other errors, throttling and a lost race.
// botocore parses every answer against its own copy of Proton's model, and the driver holds each
// success to botocore's validator for the output shape; an answer that fails either shows in the
// summary and fails the test.

const DRIVER = path.join(__dirname, 'boto3-driver.py');
const START = new Date('2024-05-01T12:00:00.000Z');

interface Step {
  readonly op: string;
  readonly args?: Record<string, unknown>;
  readonly key?: string;
  readonly repeat?: number;
}

interface Pipeline {
  readonly deploymentStatus: string;
  readonly deploymentStatusMessage?: string;
  readonly lastDeploymentAttemptedAt: string;
}

interface Outcome {
  readonly ok?: { readonly service?: { readonly pipeline?: Pipeline }; readonly pipeline?: Pipeline };
  readonly error?: string;
  readonly message?: string;
  readonly status?: number;
  readonly unparsed?: string;
  /** What the driver found wrong beyond botocore's parse: a body that is not JSON, output shape violations. */
  readonly issues: readonly string[];
}

let proton: LocalProton;

beforeAll(() => {
  // Without boto3, every test fails with how to install it, not with Python's ModuleNotFoundError.
  pythonPackageDir('boto3', 'boto3 is the second client the local endpoint is checked with');
});

beforeEach(async () => {
  proton = await LocalProton.start({ timeScale: 0, startTime: START });
});

afterEach(async () => {
  await proton.stop();
});

/** Runs the boto3 driver over `steps`; one outcome per call. */
async function boto3(steps: readonly Step[]): Promise<{ botocore: string; results: Outcome[] }> {
  const { stdout } = await promisify(execFile)(PYTHON, [DRIVER, proton.endpoint, proton.region, JSON.stringify(steps)], {
    // No credentials or config of the machine may leak in.
    env: { PATH: process.env.PATH, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' },
    timeout: 30_000,
  });
  return JSON.parse(stdout);
}

/** What the tests compare: the error code and status, or the pipeline status of an answer. */
function summary(o: Outcome): string {
  if (o.issues.length > 0) {
    return `${o.status} issues: ${o.issues.join('; ')}`;
  }
  if (o.unparsed) {
    return `unparsed ${o.unparsed}: ${o.message}`;
  }
  if (o.error) {
    return `${o.status} ${o.error}`;
  }
  if (!o.ok?.service && !o.ok?.pipeline) {
    return `${o.status} neither service nor pipeline`;
  }
  const pipeline = o.ok.service ? o.ok.service.pipeline : o.ok.pipeline;
  return `${o.status} ${pipeline?.deploymentStatus ?? 'no pipeline'}`;
}

test('boto3 parses every answer: a cancel, a lost race, a missing service, each error, throttling', async () => {
  // GIVEN
  proton.addService('web', SCENARIOS['in-progress']);
  proton.addService('racing', { pipeline: { status: 'IN_PROGRESS', finishesAfter: 60, cancelTakes: 120 } });
  proton.addService('bare', SCENARIOS['no-pipeline']);
  proton.allow('AKIDLIMITED', ['bare']);
  // (and, to show that a parse failure would be seen, one answer cut short)
  proton.injectFaults('GetService', { kind: 'error', serviceName: 'bare' }, { kind: 'malformed', serviceName: 'bare' });

  // WHEN boto3 cancels, reads, and makes every error happen
  const first = await boto3([
    { op: 'get_service', args: { name: 'web' } },
    { op: 'cancel_service_pipeline_deployment', args: { serviceName: 'web' } },
    { op: 'cancel_service_pipeline_deployment', args: { serviceName: 'racing' } },
    { op: 'get_service', args: { name: 'ghost' } },
    { op: 'cancel_service_pipeline_deployment', args: { serviceName: 'ghost' } },
    { op: 'get_service', args: { name: 'not a name!' } },
    { op: 'cancel_service_pipeline_deployment', args: { serviceName: 'bare' } },
    { op: 'get_service', args: { name: 'web' }, key: 'AKIDLIMITED' },
    { op: 'get_service', args: { name: 'bare' } },
    { op: 'get_service', args: { name: 'bare' } },
    { op: 'get_service', args: { name: 'bare' } },
    { op: 'list_services' },
  ]);
  // AND after 120 emulated seconds: the cancellation has ended; the deployment finished first elsewhere
  proton.clock.advance(120);
  const second = await boto3([
    { op: 'get_service', args: { name: 'web' } },
    { op: 'get_service', args: { name: 'racing' } },
    { op: 'cancel_service_pipeline_deployment', args: { serviceName: 'racing' } },
  ]);

  // THEN
  expect(first.results.map(summary)).toEqual([
    '200 IN_PROGRESS',
    '200 CANCELLING',
    '200 CANCELLING',
    '404 ResourceNotFoundException',
    '404 ResourceNotFoundException',
    '400 ValidationException',
    '400 ValidationException',
    '403 AccessDeniedException',
    '500 InternalServerException',
    expect.stringMatching(/^200 issues: body is not JSON: b'\{"service": \{"name": "trunc'$/),
    '200 no pipeline',
    '400 UnknownOperationException',
  ]);
  expect(second.results.map(summary)).toEqual(['200 CANCELLED', '200 SUCCEEDED', '400 ValidationException']);
  // botocore read the epoch-second timestamps as the instants the endpoint meant
  const pipeline = second.results[0].ok!.service!.pipeline!;
  expect(new Date(pipeline.lastDeploymentAttemptedAt)).toEqual(new Date(START.getTime() - 60_000));
  expect(pipeline.deploymentStatusMessage).toBe('User initiated cancellation.');
  expect(first.results[3].message).toBe('The requested resource ghost was not found.');
});

test('boto3 sees throttling past the rate limit as a ThrottlingException', async () => {
  // GIVEN the default GetService rate: a burst of 20
  proton.addService('web', SCENARIOS['in-progress']);

  // WHEN boto3 reads 25 times in one emulated instant
  const { results } = await boto3([{ op: 'get_service', args: { name: 'web' }, repeat: 25 }]);

  // THEN
  expect(results.map(summary)).toEqual([...Array<string>(20).fill('200 IN_PROGRESS'), ...Array<string>(5).fill('429 ThrottlingException')]);
  expect(results[24].message).toBe('Rate exceeded');
  expect(proton.requestStats().GetService).toEqual({ calls: 25, throttled: 5, peakPerSecond: 25 });
});
