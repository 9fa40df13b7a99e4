import {
  CancelServicePipelineDeploymentCommand,
  GetServiceCommand,
  ListServicesCommand,
  ProtonClient,
  ProtonClientConfig,
} from '@aws-sdk/client-proton';
import * as fc from 'fast-check';
import { DEFAULT_RATE_LIMITS, deploymentId, LocalProton, ProtonErrorName, SCENARIOS } from '../local/proton';
import { RateLimiter } from '../local/proton/rate-limits';

// Tests of the local Proton endpoint itself, through the real @aws-sdk/client-proton over HTTP.

const START = new Date('2024-05-01T12:00:00.000Z');
const credentials = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-secret' };

let proton: LocalProton;
let clients: ProtonClient[] = [];

/** A client for the endpoint; no retries unless asked, so every error shows as is. */
function client(config: Partial<ProtonClientConfig> = {}): ProtonClient {
  const c = new ProtonClient({ endpoint: proton.endpoint, region: 'us-east-1', credentials, maxAttempts: 1, ...config });
  clients.push(c);
  return c;
}

function getService(name: string, config?: Partial<ProtonClientConfig>) {
  return client(config).send(new GetServiceCommand({ name }));
}

function cancel(serviceName: string, config?: Partial<ProtonClientConfig>) {
  return client(config).send(new CancelServicePipelineDeploymentCommand({ serviceName }));
}

/** What the tests read from an error the SDK throws. */
interface SdkError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number; readonly attempts?: number };
}

/** The rejection of `promise` (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (e) {
    return e as SdkError;
  }
  throw new Error('expected the call to fail');
}

/**
 * Code and message of a network error. Under jest, Node's own errors come from another realm, so
 * the SDK (`instanceof Error` fails) hands them on as "AWS SDK error wrapper for ..." without `code`.
 */
function networkError(e: SdkError): string {
  return `${e.code ?? ''} ${e.message}`;
}

/** Emulated-time Date `seconds` after START. */
function at(seconds: number): Date {
  return new Date(START.getTime() + seconds * 1000);
}

beforeEach(async () => {
  // A frozen clock: only clock.advance moves it, so every timestamp is exact.
  proton = await LocalProton.start({ timeScale: 0, startTime: START });
});

afterEach(async () => {
  clients.forEach((c) => c.destroy());
  clients = [];
  await proton.stop();
});

describe('wire shapes', () => {
  test('GetService output parses without loss, timestamps as Dates', async () => {
    // GIVEN a service with every member set and a 51,200-character spec
    const spec = 'proton: ServiceSpec\n' + 'x'.repeat(51_200 - 20);
    proton.addService('web-api', {
      spec,
      templateName: 'fargate-svc',
      description: 'The web API',
      status: 'ACTIVE',
      statusMessage: 'All good',
      branchName: 'main',
      repositoryConnectionArn: 'arn:aws:codestar-connections:us-east-1:123456789012:connection/abc',
      repositoryId: 'myorg/web-api',
      createdAt: new Date('2024-04-01T08:00:00.123Z'),
      lastModifiedAt: new Date('2024-04-02T09:30:00.456Z'),
      pipeline: {
        templateMajorVersion: '2',
        templateMinorVersion: '3',
        createdAt: new Date('2024-04-01T08:01:00.789Z'),
        lastDeploymentAttemptedAt: new Date('2024-05-01T11:59:00.001Z'),
        lastDeploymentSucceededAt: new Date('2024-04-20T10:00:00.999Z'),
        lastAttemptedDeploymentId: 'dep-7',
        lastSucceededDeploymentId: 'dep-6',
      },
    });

    // WHEN
    const out = await getService('web-api');

    // THEN
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.service).toEqual({
      name: 'web-api',
      arn: 'arn:aws:proton:us-east-1:123456789012:service/web-api',
      templateName: 'fargate-svc',
      description: 'The web API',
      status: 'ACTIVE',
      statusMessage: 'All good',
      spec,
      branchName: 'main',
      repositoryConnectionArn: 'arn:aws:codestar-connections:us-east-1:123456789012:connection/abc',
      repositoryId: 'myorg/web-api',
      createdAt: new Date('2024-04-01T08:00:00.123Z'),
      lastModifiedAt: new Date('2024-04-02T09:30:00.456Z'),
      pipeline: {
        arn: 'arn:aws:proton:us-east-1:123456789012:service/web-api/pipeline',
        createdAt: new Date('2024-04-01T08:01:00.789Z'),
        lastDeploymentAttemptedAt: new Date('2024-05-01T11:59:00.001Z'),
        lastDeploymentSucceededAt: new Date('2024-04-20T10:00:00.999Z'),
        templateName: 'fargate-svc',
        templateMajorVersion: '2',
        templateMinorVersion: '3',
        deploymentStatus: 'IN_PROGRESS',
        spec,
        lastAttemptedDeploymentId: 'dep-7',
        lastSucceededDeploymentId: 'dep-6',
      },
    });
    expect(out.service!.spec).toHaveLength(51_200);
  });

  test('deployment ids are UUIDs, as the DeploymentId shape requires, distinct per service and deployment, the same on every run', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 100 }), fc.integer({ min: 1, max: 1e6 }), (name, n) => {
      expect(deploymentId(name, n)).toMatch(uuid);
      expect(deploymentId(name, n)).not.toBe(deploymentId(name, n + 1));
      expect(deploymentId(name, n)).not.toBe(deploymentId(`${name}x`, n));
    }));
    // the same on every run: pinned
    expect([deploymentId('svc', 1), deploymentId('svc', 2)]).toEqual(['92f16823-f14c-52b4-9c7b-8bc39f9c79bd', '1f2a65a0-9744-566a-856a-32dda6ebb35d']);
  });

  test('a service without pipeline has no pipeline member', async () => {
    proton.addService('no-pipe', SCENARIOS['no-pipeline']);

    const out = await getService('no-pipe');

    expect(out.service!.name).toBe('no-pipe');
    expect(out.service).not.toHaveProperty('pipeline');
  });

  test('CancelServicePipelineDeployment output parses without loss', async () => {
    // GIVEN
    proton.addService('web-api', {
      templateName: 'fargate-svc',
      createdAt: at(-86_400),
      pipeline: { lastDeploymentAttemptedAt: at(-60), lastDeploymentSucceededAt: at(-3_600) },
    });

    // WHEN
    const out = await cancel('web-api');

    // THEN: as in the user guide's example, the answer has no spec
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.pipeline).toEqual({
      arn: 'arn:aws:proton:us-east-1:123456789012:service/web-api/pipeline',
      createdAt: at(-86_400),
      lastDeploymentAttemptedAt: at(-60),
      lastDeploymentSucceededAt: at(-3_600),
      templateName: 'fargate-svc',
      templateMajorVersion: '1',
      templateMinorVersion: '0',
      deploymentStatus: 'CANCELLING',
      lastAttemptedDeploymentId: deploymentId('web-api', 2),
      lastSucceededDeploymentId: deploymentId('web-api', 1),
    });
  });

  test('the SDK finds the endpoint through AWS_ENDPOINT_URL_PROTON', async () => {
    proton.addService('svc', SCENARIOS.succeeded);
    const saved = process.env.AWS_ENDPOINT_URL_PROTON;
    process.env.AWS_ENDPOINT_URL_PROTON = proton.endpoint;
    try {
      const c = new ProtonClient({ region: 'eu-west-1', credentials, maxAttempts: 1 });
      clients.push(c);

      const out = await c.send(new GetServiceCommand({ name: 'svc' }));

      expect(out.service!.pipeline!.deploymentStatus).toBe('SUCCEEDED');
      expect(proton.calls[0].accessKeyId).toBe(credentials.accessKeyId);
    } finally {
      if (saved === undefined) {
        delete process.env.AWS_ENDPOINT_URL_PROTON;
      } else {
        process.env.AWS_ENDPOINT_URL_PROTON = saved;
      }
    }
  });
});

describe('pipeline state over time', () => {
  test('cancel: IN_PROGRESS, CANCELLING, then CANCELLED after the cancellation delay', async () => {
    // GIVEN
    proton.addService('svc', SCENARIOS['in-progress']);
    expect((await getService('svc')).service!.pipeline!.deploymentStatus).toBe('IN_PROGRESS');

    // WHEN
    expect((await cancel('svc')).pipeline!.deploymentStatus).toBe('CANCELLING');

    // THEN
    proton.clock.advance(119);
    expect((await getService('svc')).service!.pipeline!.deploymentStatus).toBe('CANCELLING');
    proton.clock.advance(1);
    const pipeline = (await getService('svc')).service!.pipeline!;
    expect(pipeline.deploymentStatus).toBe('CANCELLED');
    expect(pipeline.deploymentStatusMessage).toBe('User initiated cancellation.');
    expect(pipeline.lastSucceededDeploymentId).toBe(deploymentId('svc', 1));
  });

  test('a failed cancellation ends FAILED', async () => {
    proton.addService('svc', SCENARIOS['cancel-fails']);

    await cancel('svc');
    proton.clock.advance(120);

    const pipeline = (await getService('svc')).service!.pipeline!;
    expect(pipeline.deploymentStatus).toBe('FAILED');
    expect(pipeline.deploymentStatusMessage).toBe('Cancellation of the deployment failed.');
  });

  test('SUCCEEDED wins the race: a cancel after the deployment finished is refused', async () => {
    // GIVEN a deployment that finishes 30 s after being added
    proton.addService('svc', SCENARIOS['succeeds-first']);
    proton.clock.advance(30);

    // WHEN
    const error = await rejection(cancel('svc'));

    // THEN
    expect(error.name).toBe('ValidationException');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    const pipeline = (await getService('svc')).service!.pipeline!;
    expect(pipeline.deploymentStatus).toBe('SUCCEEDED');
    expect(pipeline.lastDeploymentSucceededAt).toEqual(at(30));
    expect(pipeline.lastSucceededDeploymentId).toBe(pipeline.lastAttemptedDeploymentId);
  });

  test('SUCCEEDED wins the race: an accepted cancel that is slower than the deployment ends SUCCEEDED', async () => {
    proton.addService('svc', SCENARIOS['succeeds-first']);
    proton.clock.advance(10);

    expect((await cancel('svc')).pipeline!.deploymentStatus).toBe('CANCELLING');
    proton.clock.advance(20);

    expect(proton.status('svc')).toBe('SUCCEEDED');
  });

  test('a pipeline stuck in CANCELLING never ends and refuses cancels', async () => {
    proton.addService('svc', SCENARIOS['stuck-cancelling']);
    proton.clock.advance(10 * 365 * 86_400);

    expect((await getService('svc')).service!.pipeline!.deploymentStatus).toBe('CANCELLING');
    expect((await rejection(cancel('svc'))).name).toBe('ValidationException');
  });

  test('an accepted cancel can hang in CANCELLING', async () => {
    proton.addService('svc', SCENARIOS['cancel-hangs']);

    await cancel('svc');
    proton.clock.advance(86_400);

    expect(proton.status('svc')).toBe('CANCELLING');
  });

  test('a pipeline already CANCELLING ends CANCELLED by itself', async () => {
    proton.addService('svc', SCENARIOS.cancelling);
    proton.clock.advance(60);

    expect(proton.status('svc')).toBe('CANCELLED');
  });

  test.each(['succeeded', 'failed', 'cancelled', 'no-pipeline'] as const)('a cancel is refused for %s', async (scenario) => {
    proton.addService('svc', SCENARIOS[scenario]);

    const error = await rejection(cancel('svc'));

    expect(error.name).toBe('ValidationException');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(proton.status('svc')).toBe(scenario === 'no-pipeline' ? undefined : scenario.toUpperCase());
  });

  test('the refusal can be a ConflictException instead', async () => {
    await proton.stop();
    proton = await LocalProton.start({ timeScale: 0, cancelRefusal: 'ConflictException' });
    proton.addService('svc', SCENARIOS.succeeded);

    const error = await rejection(cancel('svc'));

    expect(error.name).toBe('ConflictException');
    expect(error.$metadata?.httpStatusCode).toBe(409);
  });

  test('time compresses: a 2-minute cancellation takes 1.2 s at timeScale 100', async () => {
    // GIVEN
    await proton.stop();
    proton = await LocalProton.start({ timeScale: 100 });
    proton.addService('svc', SCENARIOS['in-progress']);
    const started = Date.now();

    // WHEN
    await cancel('svc');
    while (proton.status('svc') === 'CANCELLING') {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // THEN
    expect(proton.status('svc')).toBe('CANCELLED');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1_100);
    expect(elapsed).toBeLessThan(3_000);
  });
});

describe('errors', () => {
  test('an unknown service is a ResourceNotFoundException (404) for both operations', async () => {
    for (const error of [await rejection(getService('ghost')), await rejection(cancel('ghost'))]) {
      expect(error.name).toBe('ResourceNotFoundException');
      expect(error.$metadata?.httpStatusCode).toBe(404);
      expect(error.message).toBe('The requested resource ghost was not found.');
    }
  });

  test('a missing or invalid name is a ValidationException (400)', async () => {
    const missing = await rejection(client().send(new GetServiceCommand({} as { name: string })));
    const invalid = await rejection(cancel('not a name!'));

    expect(missing.name).toBe('ValidationException');
    expect(missing.message).toMatch(/Value null at 'name'/);
    expect(invalid.name).toBe('ValidationException');
    expect(invalid.$metadata?.httpStatusCode).toBe(400);
    expect(proton.calls[0].input).toEqual({});
  });

  test('an operation the endpoint does not emulate is an UnknownOperationException (400)', async () => {
    const error = await rejection(client().send(new ListServicesCommand({})));

    expect(error.name).toBe('UnknownOperationException');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(proton.count('ListServices')).toBe(1);
  });

  test.each<[ProtonErrorName, number]>([
    ['ValidationException', 400],
    ['AccessDeniedException', 403],
    ['ResourceNotFoundException', 404],
    ['ConflictException', 409],
    ['ThrottlingException', 429],
    ['InternalServerException', 500],
  ])('%s surfaces in the SDK with status %d', async (name, status) => {
    // (CancelServicePipelineDeployment may return each of them)
    proton.addService('svc');
    proton.injectFaults('CancelServicePipelineDeployment', { kind: 'error', name, message: 'injected' });

    const error = await rejection(cancel('svc'));

    expect(error.name).toBe(name);
    expect(error.message).toBe('injected');
    expect(error.$metadata?.httpStatusCode).toBe(status);
    expect(proton.calls[0]).toMatchObject({ status, errorType: name, fault: 'error' });
  });
});

describe('faults', () => {
  beforeEach(() => proton.addService('svc', SCENARIOS['in-progress']));

  test('a throttling burst of 2 is absorbed by SDK retries (maxAttempts 3)', async () => {
    proton.injectFaults('GetService', { kind: 'throttle', times: 2 });

    const out = await getService('svc', { maxAttempts: 3 });

    expect(out.$metadata.attempts).toBe(3);
    expect(proton.count('GetService')).toBe(3);
    expect(proton.calls.map((c) => [c.status, c.fault])).toEqual([[429, 'throttle'], [429, 'throttle'], [200, undefined]]);
  });

  test('never-ending throttling surfaces as ThrottlingException', async () => {
    proton.injectFaults('GetService', { kind: 'throttle', times: Infinity });

    const error = await rejection(getService('svc', { maxAttempts: 2 }));

    expect(error.name).toBe('ThrottlingException');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 429, attempts: 2 });
  });

  test('a 500, then success', async () => {
    proton.injectFaults('GetService', { kind: 'error' });

    await getService('svc', { maxAttempts: 2 });

    expect(proton.calls.map((c) => c.status)).toEqual([500, 200]);
    expect(proton.calls[0].errorType).toBe('InternalServerException');
  });

  test('a bare 503 with an HTML body is retried, and is a deserialization error when it persists', async () => {
    proton.injectFaults('GetService', { kind: 'unavailable' });
    await getService('svc', { maxAttempts: 2 });
    expect(proton.calls.map((c) => c.status)).toEqual([503, 200]);

    proton.injectFaults('GetService', { kind: 'unavailable' });
    const error = await rejection(getService('svc'));
    expect(error.name).toBe('SyntaxError');
    expect(error.$metadata?.httpStatusCode).toBe(503);
  });

  test('a dropped connection, then success (the SDK retries)', async () => {
    proton.injectFaults('CancelServicePipelineDeployment', { kind: 'drop' });

    const out = await cancel('svc', { maxAttempts: 2 });

    expect(out.pipeline!.deploymentStatus).toBe('CANCELLING');
    expect(proton.calls.map((c) => [c.status, c.fault])).toEqual([[undefined, 'drop'], [200, undefined]]);
  });

  test('a dropped connection without retries is a socket hang up', async () => {
    proton.injectFaults('GetService', { kind: 'drop' });

    const error = await rejection(getService('svc'));

    expect(networkError(error)).toMatch(/ECONNRESET|socket hang up/);
  });

  test('a slow answer times out with requestTimeout and throwOnRequestTimeout', async () => {
    proton.injectFaults('GetService', { kind: 'slow', delayMs: 2_000 });

    const error = await rejection(getService('svc', { requestHandler: { requestTimeout: 100, throwOnRequestTimeout: true } }));

    expect(error.name).toBe('TimeoutError');
    expect(proton.calls[0].fault).toBe('slow');
  });

  test('requestTimeout alone only logs a warning in this SDK version: the slow answer still arrives', async () => {
    proton.injectFaults('GetService', { kind: 'slow', delayMs: 300 });
    const warnings: string[] = [];
    const logger = { debug: () => {}, info: () => {}, warn: (m: string) => warnings.push(m), error: () => {} };

    const out = await getService('svc', { requestHandler: { requestTimeout: 100, logger } });

    expect(out.service!.name).toBe('svc');
    expect(warnings.join('\n')).toMatch(/exceeded the configured 100 ms requestTimeout/);
  });

  test('a malformed body is an SDK deserialization error', async () => {
    proton.injectFaults('GetService', { kind: 'malformed' });

    const error = await rejection(getService('svc'));

    expect(error.name).toBe('SyntaxError');
    expect(error.message).toMatch(/Deserialization error/);
    expect(error.$metadata?.httpStatusCode).toBe(200);
  });

  test('shutDown refuses connections (ECONNREFUSED); resume serves the kept state', async () => {
    await cancel('svc');
    await proton.shutDown();

    const error = await rejection(getService('svc'));
    expect(networkError(error)).toMatch(/ECONNREFUSED/);

    await proton.resume();
    expect((await getService('svc')).service!.pipeline!.deploymentStatus).toBe('CANCELLING');
  });

  test('stop ends a pending slow answer at once', async () => {
    proton.injectFaults('GetService', { kind: 'slow', delayMs: 60_000 });
    const pending = rejection(getService('svc'));
    while (proton.calls.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const started = Date.now();

    await proton.stop();

    expect(networkError(await pending)).toMatch(/ECONNRESET|socket hang up/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test('faults can target one service, or any operation', async () => {
    proton.addService('other', SCENARIOS.succeeded);
    proton.injectFaults('GetService', { kind: 'throttle', serviceName: 'other' });

    // The fault waits for its service: a call about another one passes it by.
    expect((await getService('svc')).service!.pipeline!.deploymentStatus).toBe('IN_PROGRESS');
    expect((await rejection(getService('other'))).name).toBe('ThrottlingException');

    // An error fault waits for an operation that may return it: GetService cannot be a ConflictException.
    proton.injectFaults('*', { kind: 'error', name: 'ConflictException' });
    expect((await getService('svc')).service!.pipeline!.deploymentStatus).toBe('IN_PROGRESS');
    expect((await rejection(cancel('svc'))).name).toBe('ConflictException');
    expect((await getService('svc')).service!.pipeline!.deploymentStatus).toBe('IN_PROGRESS');
  });

  test('fails on an error fault the operation cannot return in Proton\'s model', () => {
    expect(() => proton.injectFaults('GetService', { kind: 'error', name: 'ConflictException' }))
      .toThrow(/fault error for GetService: Proton's model does not let GetService return ConflictException/);
    expect(() => proton.injectFaults('GetService', { kind: 'error', name: 'SerializationException' })).toThrow(/SerializationException/);
    expect(() => proton.injectFaults('CancelServicePipelineDeployment', { kind: 'error', name: 'ConflictException' })).not.toThrow();
  });
});

describe('emulated IAM', () => {
  beforeEach(() => {
    proton.addService('mine', SCENARIOS['in-progress']);
    proton.addService('theirs', SCENARIOS['in-progress']);
    proton.allow('AKIDLIMITED', ['mine']);
  });

  const limited = { credentials: { accessKeyId: 'AKIDLIMITED', secretAccessKey: 'x' } };

  test('an allowed key works on its services', async () => {
    expect((await cancel('mine', limited)).pipeline!.deploymentStatus).toBe('CANCELLING');
    expect(proton.calls[0].accessKeyId).toBe('AKIDLIMITED');
  });

  test('other services are AccessDeniedException (403) and are left alone', async () => {
    const error = await rejection(cancel('theirs', limited));

    expect(error.name).toBe('AccessDeniedException');
    expect(error.$metadata?.httpStatusCode).toBe(403);
    expect(error.message).toContain('is not authorized to perform: proton:CancelServicePipelineDeployment '
      + 'on resource: arn:aws:proton:us-east-1:123456789012:service/theirs');
    expect(proton.status('theirs')).toBe('IN_PROGRESS');
  });

  test('access is checked before existence, and unregistered keys may do anything', async () => {
    expect((await rejection(getService('ghost', limited))).name).toBe('AccessDeniedException');
    expect((await getService('theirs')).service!.name).toBe('theirs');
  });

  test('a key may be allowed per operation: one operation on some services, the others on what the key was given', async () => {
    proton.allow('AKIDLIMITED', ['theirs'], 'GetService');

    expect((await getService('theirs', limited)).service!.name).toBe('theirs');
    expect((await rejection(getService('mine', limited))).name).toBe('AccessDeniedException');
    expect((await rejection(cancel('theirs', limited))).name).toBe('AccessDeniedException');
    expect((await cancel('mine', limited)).pipeline!.deploymentStatus).toBe('CANCELLING');
  });

  test('allowed per operation only, a key may use no other operation', async () => {
    proton.allow('AKIDREADER', ['mine'], 'GetService');
    const reader = { credentials: { accessKeyId: 'AKIDREADER', secretAccessKey: 'x' } };

    expect((await getService('mine', reader)).service!.name).toBe('mine');
    expect((await rejection(cancel('mine', reader))).name).toBe('AccessDeniedException');
  });
});

describe('rate limits', () => {
  beforeEach(() => proton.addService('svc', SCENARIOS['in-progress']));

  /** Makes `n` GetService calls one after the other; returns the HTTP status of each. */
  async function statuses(n: number, call: () => Promise<unknown> = () => getService('svc')): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      try {
        await call();
        out.push(200);
      } catch (e) {
        const error = e as SdkError;
        out.push(error.name === 'ThrottlingException' ? error.$metadata?.httpStatusCode ?? -1 : -2);
      }
    }
    return out;
  }

  const ok = (n: number) => Array<number>(n).fill(200);
  const throttled = (n: number) => Array<number>(n).fill(429);

  test('the default is GetService 10/s (burst 20) and CancelServicePipelineDeployment 5/s (burst 10)', () => {
    expect(proton.rateLimits).toEqual({
      GetService: { perSecond: 10, burst: 20 },
      CancelServicePipelineDeployment: { perSecond: 5, burst: 10 },
    });
    expect(DEFAULT_RATE_LIMITS).toEqual(proton.rateLimits);
  });

  test('a full bucket takes a burst of 20 GetService calls, the 21st is a ThrottlingException (429) "Rate exceeded"', async () => {
    expect(await statuses(21)).toEqual([...ok(20), ...throttled(1)]);

    const error = await rejection(getService('svc'));
    expect(error).toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded' });
    expect(proton.calls.at(-1)).toMatchObject({ status: 429, errorType: 'ThrottlingException', throttled: true });
    expect(proton.calls.at(-1)?.fault).toBeUndefined();
  });

  test('the bucket refills with emulated time, never past the burst', async () => {
    await statuses(20);

    // 0.1 s at 10/s is one token; 0.05 s more is half of one
    proton.clock.advance(0.1);
    expect(await statuses(2)).toEqual([200, 429]);
    proton.clock.advance(0.05);
    expect(await statuses(1)).toEqual([429]);
    proton.clock.advance(0.05);
    expect(await statuses(1)).toEqual([200]);

    // a second is 10 calls
    proton.clock.advance(1);
    expect(await statuses(11)).toEqual([...ok(10), 429]);

    // an hour of rest is still only a burst of 20
    proton.clock.advance(3600);
    expect(await statuses(21)).toEqual([...ok(20), 429]);
  });

  test('a throttled cancel changes nothing', async () => {
    // GIVEN an empty CancelServicePipelineDeployment bucket (10 refused cancels of a missing service)
    await statuses(10, () => cancel('ghost'));

    // WHEN
    const error = await rejection(cancel('svc'));

    // THEN
    expect(error.name).toBe('ThrottlingException');
    expect(proton.status('svc')).toBe('IN_PROGRESS');
  });

  test('each operation has its own bucket', async () => {
    // GIVEN GetService's bucket empty
    expect(await statuses(21)).toEqual([...ok(20), 429]);

    // THEN cancels still have their burst of 10 (refusals of a missing service: 404, not 429)
    const cancels = await statuses(11, () => cancel('ghost'));
    expect(cancels).toEqual([...Array<number>(10).fill(-2), 429]);
    expect(proton.calls.slice(-11).map((c) => c.status)).toEqual([...Array<number>(10).fill(404), 429]);

    // AND an operation without a limit is never throttled
    const unlimited = await statuses(30, () => client().send(new ListServicesCommand({})));
    expect(unlimited).toEqual(Array<number>(30).fill(-2));
    expect(proton.requestStats().ListServices).toEqual({ calls: 30, throttled: 0, peakPerSecond: 30 });
  });

  test('counters: calls, throttled, and the peak calls per emulated second, per operation and in total', async () => {
    // GIVEN 25 GetService calls in one emulated second, then 3 in the next, and 2 cancels
    await statuses(25);
    proton.clock.advance(1);
    await statuses(3);
    await statuses(2, () => cancel('svc'));

    // THEN
    expect(proton.requestStats()).toEqual({
      GetService: { calls: 28, throttled: 5, peakPerSecond: 25 },
      CancelServicePipelineDeployment: { calls: 2, throttled: 0, peakPerSecond: 2 },
    });
    expect(proton.totalRequestStats()).toEqual({ calls: 30, throttled: 5, peakPerSecond: 25 });
    expect(proton.calls.filter((c) => c.throttled)).toHaveLength(5);
  });

  test('rateLimits replaces the default; false turns limiting off', async () => {
    // GIVEN a limit on cancels only
    await proton.stop();
    proton = await LocalProton.start({ timeScale: 0, rateLimits: { CancelServicePipelineDeployment: { perSecond: 1, burst: 1 } } });
    proton.addService('svc', SCENARIOS['in-progress']);
    expect(await statuses(50)).toEqual(ok(50));
    expect(await statuses(2, () => cancel('ghost'))).toEqual([-2, 429]);

    // AND none at all
    await proton.stop();
    proton = await LocalProton.start({ timeScale: 0, rateLimits: false });
    proton.addService('svc', SCENARIOS['in-progress']);
    expect(await statuses(50)).toEqual(ok(50));
    expect(proton.rateLimits).toEqual({});
    expect(proton.requestStats().GetService).toEqual({ calls: 50, throttled: 0, peakPerSecond: 50 });
  });

  test('fails on a rate that is not positive or a burst below 1', async () => {
    await expect(LocalProton.start({ rateLimits: { GetService: { perSecond: 0, burst: 5 } } }))
      .rejects.toThrow(/rate limit of GetService: .*got perSecond 0, burst 5/);
    await expect(LocalProton.start({ rateLimits: { GetService: { perSecond: 1, burst: 0.5 } } }))
      .rejects.toThrow(/got perSecond 1, burst 0.5/);
  });
});

describe('token bucket (property)', () => {
  const limit = fc.record({ perSecond: fc.double({ min: 0.1, max: 1000, noNaN: true }), burst: fc.integer({ min: 1, max: 200 }) });
  /** Calls as gaps in emulated ms from the previous one. */
  const gaps = fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 300 });

  test('over any window of T seconds, at most burst + perSecond * T calls are admitted', () => {
    fc.assert(fc.property(limit, gaps, (l, g) => {
      const limiter = new RateLimiter({ Op: l }, 0);
      const admittedAt: number[] = [];
      let now = 0;
      for (const gap of g) {
        now += gap;
        if (limiter.admit('Op', now)) {
          admittedAt.push(now);
        }
      }
      for (let i = 0; i < admittedAt.length; i++) {
        for (let j = i; j < admittedAt.length; j++) {
          const window = (admittedAt[j] - admittedAt[i]) / 1000;
          expect(j - i + 1).toBeLessThanOrEqual(l.burst + l.perSecond * window + 1e-9);
        }
      }
      expect(limiter.stats().Op.calls).toBe(g.length);
      expect(limiter.stats().Op.throttled).toBe(g.length - admittedAt.length);
    }));
  });

  test('calls no faster than the rate are never throttled, and a burst within the bucket is admitted whole', () => {
    fc.assert(fc.property(limit, fc.integer({ min: 1, max: 300 }), (l, n) => {
      const limiter = new RateLimiter({ Op: l }, 0);
      const burst = Math.min(n, l.burst);
      for (let i = 0; i < burst; i++) {
        expect(limiter.admit('Op', 0)).toBe(true);
      }
      // after the burst, one call every 1/perSecond (rounded up to whole ms)
      const stepMs = Math.ceil(1000 / l.perSecond);
      for (let i = 1; i <= n; i++) {
        expect(limiter.admit('Op', i * stepMs)).toBe(true);
      }
      expect(limiter.stats().Op.throttled).toBe(0);
    }));
  });
});
