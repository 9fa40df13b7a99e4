import * as http from 'http';
import * as fc from 'fast-check';
import { deploymentId, LocalProton, PipelineStatus, SCENARIOS, ScenarioName, ServiceOptions } from '../local/proton';
import { ERROR_STATUS, OPERATION_ERRORS, ProtonErrorName } from '../local/proton/errors';
import { loadModel, PROTOCOL_ERRORS, responseViolations, ServiceModel, Shape, WireResponse } from './proton-model';

// Every answer of the local Proton endpoint, for each operation it emulates and each error it can
// send, checked against AWS's published Proton model (botocore's service-2.json, from Debian's
// python3-botocore): required members, enum values, string patterns and lengths, epoch-second
// timestamps, error shapes and their HTTP status.

const DEBIAN_MODEL = loadModel();

/**
 * Members of ServicePipeline that Proton's model gained after Debian's copy (botocore 1.29), as
 * botocore's current model defines them; added only when the model read lacks them.
 */
const LATER_PIPELINE_MEMBERS = ['lastAttemptedDeploymentId', 'lastSucceededDeploymentId'];
const DEPLOYMENT_ID: Shape = { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' };

function withLaterMembers(model: ServiceModel): ServiceModel {
  const pipeline = model.shapes.ServicePipeline;
  const missing = LATER_PIPELINE_MEMBERS.filter((m) => !pipeline.members?.[m]);
  if (missing.length === 0) {
    return model;
  }
  return {
    ...model,
    shapes: {
      ...model.shapes,
      DeploymentId: model.shapes.DeploymentId ?? DEPLOYMENT_ID,
      ServicePipeline: {
        ...pipeline,
        members: { ...pipeline.members, ...Object.fromEntries(missing.map((m) => [m, { shape: 'DeploymentId' }])) },
      },
    },
  };
}

const MODEL = withLaterMembers(DEBIAN_MODEL);
const TARGET_PREFIX = `${MODEL.metadata.targetPrefix}.`;
const START = new Date('2024-05-01T12:00:00.000Z');

let proton: LocalProton;

beforeEach(async () => {
  proton = await LocalProton.start({ timeScale: 0, startTime: START });
});

afterEach(async () => {
  await proton.stop();
});

/** Posts an AWS JSON 1.0 request; `body` as text is sent as is. */
function post(target: string, body: unknown, headers: Record<string, string> = {}): Promise<WireResponse> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(proton.endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': target, ...headers },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => text += chunk);
      res.on('end', () => resolve({
        status: res.statusCode ?? 0,
        headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)])),
        body: text,
      }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

interface Answer extends WireResponse {
  readonly operation: string;
  readonly json: Record<string, unknown>;
}

/** Calls a Proton operation; the answer with its parsed body. */
async function call(operation: string, input: unknown, headers?: Record<string, string>): Promise<Answer> {
  const response = await post(TARGET_PREFIX + operation, input, headers);
  return { ...response, operation, json: JSON.parse(response.body) as Record<string, unknown> };
}

const getService = (name: unknown) => call('GetService', { name });
const cancel = (serviceName: unknown) => call('CancelServicePipelineDeployment', { serviceName });

/** Fails with every violation of the model by the answer. */
function expectConforms(answer: Answer): void {
  expect({ operation: answer.operation, violations: responseViolations(MODEL, answer.operation, answer) })
    .toEqual({ operation: answer.operation, violations: [] });
}

function pipelineStatusOf(answer: Answer): PipelineStatus | undefined {
  const pipeline = (answer.json.service as { pipeline?: { deploymentStatus: PipelineStatus } } | undefined)?.pipeline
    ?? answer.json.pipeline as { deploymentStatus: PipelineStatus } | undefined;
  return pipeline?.deploymentStatus;
}

describe('the model the checks use', () => {
  test('is Proton\'s AWS JSON 1.0 model with both emulated operations', () => {
    expect(DEBIAN_MODEL.metadata).toMatchObject({ protocol: 'json', jsonVersion: '1.0', targetPrefix: 'AwsProton20200720' });
    expect(Object.keys(DEBIAN_MODEL.operations)).toEqual(expect.arrayContaining(Object.keys(OPERATION_ERRORS)));
  });

  test('the members added since Debian\'s copy are exactly those the AWS SDK\'s current model has in addition', () => {
    // The SDK's schema lists member names (index 4) but no patterns; botocore's current model has the pattern.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require('@aws-sdk/client-proton/dist-cjs/schemas/schemas_0.js') as Record<string, unknown[]>;
    const sdkMembers = sdk.ServicePipeline$[4] as string[];
    const debianMembers = Object.keys(DEBIAN_MODEL.shapes.ServicePipeline.members ?? {});
    expect(sdkMembers.filter((m) => !debianMembers.includes(m)).sort())
      .toEqual(LATER_PIPELINE_MEMBERS.filter((m) => !debianMembers.includes(m)).sort());
    expect(Object.keys(MODEL.shapes.ServicePipeline.members ?? {}).sort()).toEqual([...sdkMembers].sort());
  });

  test('each emulated operation may return exactly the errors the model lists for it', () => {
    for (const [operation, errors] of Object.entries(OPERATION_ERRORS)) {
      expect([operation, [...errors].sort()]).toEqual([operation, (MODEL.operations[operation].errors ?? []).map((e) => e.shape).sort()]);
    }
  });

  test('each error has the HTTP status of the AWS SDK\'s model, or the AWS JSON protocol\'s own', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require('@aws-sdk/client-proton/dist-cjs/schemas/schemas_0.js') as Record<string, unknown[]>;
    for (const [name, status] of Object.entries(ERROR_STATUS)) {
      const modeled = sdk[`${name}$`];
      const expected = modeled ? (modeled[3] as { httpError: number }).httpError : PROTOCOL_ERRORS[name];
      expect([name, status]).toEqual([name, expected]);
      expect(Boolean(MODEL.shapes[name]?.exception) || name in PROTOCOL_ERRORS).toBe(true);
    }
  });
});

describe('GetService conforms', () => {
  test('in every scenario, through every pipeline status, with and without pipeline', async () => {
    const seen = new Set<string>();
    for (const name of Object.keys(SCENARIOS) as ScenarioName[]) {
      // GIVEN a fresh endpoint per scenario, so its timings start at 0
      await proton.stop();
      proton = await LocalProton.start({ timeScale: 0, startTime: START });
      proton.addService('svc', SCENARIOS[name]);

      // WHEN read, cancelled, then read as emulated time passes
      const answers = [await getService('svc'), await cancel('svc')];
      for (const seconds of [0, 29, 1, 30, 60, 3600]) {
        proton.clock.advance(seconds);
        answers.push(await getService('svc'));
      }

      // THEN every answer conforms
      answers.forEach(expectConforms);
      answers.forEach((a) => seen.add(`${a.status} ${pipelineStatusOf(a) ?? (a.status === 200 ? 'no pipeline' : a.json.__type)}`));
    }
    expect([...seen].sort()).toEqual([
      '200 CANCELLED', '200 CANCELLING', '200 FAILED', '200 IN_PROGRESS', '200 SUCCEEDED', '200 no pipeline', '400 ValidationException',
    ]);
  });

  test('with every member set, at the longest lengths the model allows', async () => {
    proton.addService('a'.repeat(100), {
      spec: 's'.repeat(51_200),
      templateName: 't'.repeat(100),
      description: 'd'.repeat(500),
      status: 'UPDATE_FAILED_CLEANUP_COMPLETE',
      statusMessage: 'All good',
      branchName: 'b'.repeat(200),
      repositoryConnectionArn: 'arn:aws:codestar-connections:us-east-1:123456789012:connection/abc',
      repositoryId: 'r'.repeat(200),
      createdAt: new Date('2024-04-01T08:00:00.123Z'),
      pipeline: {
        templateMajorVersion: '12345678901234567890',
        templateMinorVersion: '0',
        deploymentStatusMessage: 'Deploying.',
        lastAttemptedDeploymentId: '0b7c9e5e-6f0c-4a57-9c1e-2f1f5ad2d0a1',
      },
    });

    const answer = await getService('a'.repeat(100));

    expect(answer.status).toBe(200);
    expectConforms(answer);
  });

  test('any service the model allows, any sequence of calls (property)', async () => {
    const name = fc.stringMatching(/^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$/);
    const statuses: PipelineStatus[] = ['IN_PROGRESS', 'CANCELLING', 'CANCELLED', 'FAILED', 'SUCCEEDED'];
    const service: fc.Arbitrary<ServiceOptions> = fc.record({
      status: fc.constantFrom(...MODEL.shapes.ServiceStatus.enum!),
      description: fc.string({ maxLength: 500 }),
      statusMessage: fc.string(),
      branchName: fc.string({ minLength: 1, maxLength: 200 }),
      pipeline: fc.oneof(fc.constant(false as const), fc.record({
        status: fc.constantFrom(...statuses),
        finishesAfter: fc.integer({ min: 0, max: 600 }),
        finishesAs: fc.constantFrom('SUCCEEDED' as const, 'FAILED' as const),
        cancelTakes: fc.oneof(fc.integer({ min: 0, max: 600 }), fc.constant(Infinity)),
        cancelEndsAs: fc.constantFrom('CANCELLED' as const, 'FAILED' as const),
        templateMajorVersion: fc.integer({ min: 0, max: 1e9 }).map(String),
      }, { requiredKeys: ['status'] })),
    }, { requiredKeys: [] });
    const step = fc.oneof(
      fc.record({ get: fc.boolean() }),
      fc.record({ cancel: fc.boolean() }),
      fc.record({ advance: fc.integer({ min: 0, max: 300 }) }),
      // names the model refuses, and services that do not exist
      fc.record({ getName: fc.oneof(fc.string({ maxLength: 120 }), fc.constant(null), fc.integer()) }),
    );
    await fc.assert(fc.asyncProperty(name, service, fc.array(step, { maxLength: 12 }), async (serviceName, options, steps) => {
      await proton.stop();
      proton = await LocalProton.start({ timeScale: 0, startTime: START, rateLimits: false });
      proton.addService(serviceName, options);
      for (const s of steps) {
        if ('advance' in s) {
          proton.clock.advance(s.advance);
        } else if ('getName' in s) {
          expectConforms(await getService(s.getName));
        } else {
          expectConforms(await ('get' in s ? getService(serviceName) : cancel(serviceName)));
        }
      }
      expectConforms(await getService(serviceName));
    }), { numRuns: 60 });
  });
});

describe('CancelServicePipelineDeployment conforms', () => {
  test('accepted: the pipeline, CANCELLING, without spec', async () => {
    proton.addService('svc', SCENARIOS['in-progress']);

    const answer = await cancel('svc');

    expect([answer.status, pipelineStatusOf(answer)]).toEqual([200, 'CANCELLING']);
    expectConforms(answer);
  });

  test.each<[string, ProtonErrorName]>([['ValidationException', 'ValidationException'], ['ConflictException', 'ConflictException']])(
    'refused as %s in every state that is not IN_PROGRESS, and without pipeline', async (_, refusal) => {
      await proton.stop();
      proton = await LocalProton.start({ timeScale: 0, cancelRefusal: refusal as 'ValidationException' | 'ConflictException' });
      const refusing: ScenarioName[] = ['cancelling', 'stuck-cancelling', 'succeeded', 'failed', 'cancelled', 'no-pipeline'];
      for (const scenario of refusing) {
        proton.addService(scenario, SCENARIOS[scenario]);
        const answer = await cancel(scenario);
        expect([scenario, answer.status, answer.json.__type]).toEqual([scenario, ERROR_STATUS[refusal], refusal]);
        expectConforms(answer);
      }
    });

  test('the lost race: a cancel after SUCCEEDED won is refused, and the read shows SUCCEEDED', async () => {
    proton.addService('svc', SCENARIOS['succeeds-first']);
    proton.clock.advance(30);

    const refused = await cancel('svc');
    const read = await getService('svc');

    expect([refused.json.__type, pipelineStatusOf(read)]).toEqual(['ValidationException', 'SUCCEEDED']);
    expectConforms(refused);
    expectConforms(read);
  });
});

describe('every error the endpoint sends conforms', () => {
  test('ResourceNotFoundException for a missing service, from both operations', async () => {
    for (const answer of [await getService('ghost'), await cancel('ghost')]) {
      expect([answer.status, answer.json.__type]).toEqual([404, 'ResourceNotFoundException']);
      expectConforms(answer);
    }
  });

  test('ValidationException for a missing, invalid or too long name', async () => {
    const answers = [await getService(undefined), await getService('not a name!'), await cancel('-dash-first'),
      await cancel('a'.repeat(101)), await getService(42), await call('GetService', {})];
    for (const answer of answers) {
      expect([answer.status, answer.json.__type]).toEqual([400, 'ValidationException']);
      expectConforms(answer);
    }
  });

  test('AccessDeniedException for a key not allowed on the service', async () => {
    proton.addService('theirs', SCENARIOS['in-progress']);
    proton.allow('AKIDLIMITED', []);
    const authorization = 'AWS4-HMAC-SHA256 Credential=AKIDLIMITED/20240501/us-east-1/proton/aws4_request, '
      + 'SignedHeaders=host, Signature=0';

    for (const operation of ['GetService', 'CancelServicePipelineDeployment']) {
      const answer = await call(operation, operation === 'GetService' ? { name: 'theirs' } : { serviceName: 'theirs' }, { Authorization: authorization });
      expect([answer.status, answer.json.__type]).toEqual([403, 'AccessDeniedException']);
      expectConforms(answer);
    }
  });

  test('ThrottlingException past the rate limit, from both operations', async () => {
    proton.addService('svc', SCENARIOS.succeeded);
    const last: Answer[] = [];
    for (const [operation, burst] of [['GetService', 20], ['CancelServicePipelineDeployment', 10]] as const) {
      for (let i = 0; i <= burst; i++) {
        const answer = await call(operation, { name: 'svc', serviceName: 'svc' });
        if (i === burst) {
          last.push(answer);
        }
      }
    }
    for (const answer of last) {
      expect([answer.status, answer.json.__type]).toEqual([429, 'ThrottlingException']);
      expectConforms(answer);
    }
  });

  test('every error an injected fault can send, on every operation that may return it', async () => {
    proton.addService('svc', SCENARIOS['in-progress']);
    proton.injectFaults('GetService', { kind: 'throttle' });
    expectConforms(await getService('svc'));
    for (const [operation, errors] of Object.entries(OPERATION_ERRORS)) {
      for (const name of errors) {
        proton.injectFaults(operation, { kind: 'error', name });
        const answer = await call(operation, { name: 'svc', serviceName: 'svc' });
        expect([operation, answer.status, answer.json.__type]).toEqual([operation, ERROR_STATUS[name], name]);
        expectConforms(answer);
      }
    }
    // the default error fault is an InternalServerException
    proton.injectFaults('GetService', { kind: 'error' });
    const internal = await getService('svc');
    expect([internal.status, internal.json.__type]).toEqual([500, 'InternalServerException']);
    expectConforms(internal);
  });

  test('the AWS JSON protocol\'s own errors: an unknown operation, a body that is not JSON', async () => {
    const unknown = await call('ListServices', {});
    const foreign = await post('DynamoDB_20120810.ListTables', {});
    const garbled = await call('GetService', '{"name": ');
    for (const [answer, type] of [[unknown, 'UnknownOperationException'], [garbled, 'SerializationException']] as const) {
      expect([answer.status, answer.json.__type]).toEqual([400, type]);
      expect(responseViolations(MODEL, answer.operation, answer)).toEqual([]);
    }
    expect(responseViolations(MODEL, 'ListTables', foreign)).toEqual([]);
    expect(JSON.parse(foreign.body)).toMatchObject({ __type: 'UnknownOperationException' });
  });
});

describe('headers', () => {
  test('an error names itself in x-amzn-ErrorType; every answer has a Date in emulated time', async () => {
    const missing = await getService('ghost');
    proton.clock.advance(90);
    const later = await getService('ghost');

    expect(missing.headers['x-amzn-errortype']).toBe('ResourceNotFoundException');
    expect([missing.headers.date, later.headers.date]).toEqual([START.toUTCString(), new Date(START.getTime() + 90_000).toUTCString()]);
  });
});

describe('the validator catches violations', () => {
  /** A conforming GetService answer, to break one thing at a time. */
  async function validAnswer(): Promise<Answer> {
    proton.addService('svc', SCENARIOS['in-progress']);
    const answer = await getService('svc');
    expect(responseViolations(MODEL, 'GetService', answer)).toEqual([]);
    return answer;
  }

  function broken(answer: Answer, edit: (json: { service: Record<string, unknown> & { pipeline: Record<string, unknown> } }) => void): WireResponse {
    const json = structuredClone(answer.json) as { service: Record<string, unknown> & { pipeline: Record<string, unknown> } };
    edit(json);
    return { ...answer, body: JSON.stringify(json) };
  }

  test.each<[string, (j: { service: Record<string, unknown> & { pipeline: Record<string, unknown> } }) => void, RegExp]>([
    ['a missing required member', (j) => delete j.service.templateName, /^\$\.service\.templateName: required member of Service is missing$/],
    ['a missing required nested member', (j) => delete j.service.pipeline.deploymentStatus,
      /^\$\.service\.pipeline\.deploymentStatus: required member of ServicePipeline is missing$/],
    ['a value outside the enum', (j) => j.service.pipeline.deploymentStatus = 'CANCELED', /'CANCELED' is not a value of DeploymentStatus/],
    ['a service status outside the enum', (j) => j.service.status = 'active', /'active' is not a value of ServiceStatus/],
    ['an ARN off the pattern', (j) => j.service.pipeline.arn = 'arn:aws:proton:us-east-1:1234:service/x/pipeline',
      /\$\.service\.pipeline\.arn: .* does not match the pattern of Arn/],
    ['a deployment id that is not a UUID', (j) => j.service.pipeline.lastAttemptedDeploymentId = 'svc-deployment-2',
      /'svc-deployment-2' does not match the pattern of DeploymentId/],
    ['a template version off its pattern', (j) => j.service.pipeline.templateMajorVersion = '01', /'01' does not match the pattern of TemplateVersionPart/],
    ['a string too long', (j) => j.service.spec = 'x'.repeat(51_201), /\$\.service\.spec: 51201 characters, more than the maximum 51200/],
    ['a string too short', (j) => j.service.spec = '', /\$\.service\.spec: 0 characters, fewer than the minimum 1/],
    ['a timestamp as an ISO string', (j) => j.service.createdAt = '2024-05-01T12:00:00Z',
      /\$\.service\.createdAt: Timestamp must be epoch seconds as a JSON number/],
    ['a timestamp in milliseconds as a string', (j) => j.service.pipeline.createdAt = '1714564800000',
      /\$\.service\.pipeline\.createdAt: Timestamp must be epoch seconds/],
    ['a member the model does not have', (j) => j.service.pipeline.deploymentId = 'x', /ServicePipeline has no member deploymentId/],
    ['a structure that is not an object', (j) => (j.service as Record<string, unknown>).pipeline = ['x'], /ServicePipeline must be a JSON object/],
    ['a number for a string', (j) => j.service.name = 42, /\$\.service\.name: ResourceName must be a string, got 42/],
  ])('%s', async (_, edit, violation) => {
    const answer = await validAnswer();

    const violations = responseViolations(MODEL, 'GetService', broken(answer, edit));

    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(violation);
  });

  test.each<[string, number, unknown, string | undefined, RegExp]>([
    ['a ThrottlingException that is a 500', 500, { __type: 'ThrottlingException', message: 'x' }, undefined,
      /ThrottlingException has HTTP status 500, not a client error \(4xx\)/],
    ['an InternalServerException that is a 400', 400, { __type: 'InternalServerException', message: 'x' }, undefined,
      /InternalServerException has HTTP status 400, not a server error \(5xx\)/],
    ['an error the operation does not list', 409, { __type: 'ConflictException', message: 'x' }, undefined,
      /ConflictException is not an error of GetService in the model/],
    ['an error the model does not have', 400, { __type: 'NoSuchThingException', message: 'x' }, undefined,
      /__type NoSuchThingException is not an error of the model/],
    ['an error without its required message', 404, { __type: 'ResourceNotFoundException' }, undefined,
      /\$\.message: required member of ResourceNotFoundException is missing/],
    ['an error with a member its shape does not have', 404, { __type: 'ResourceNotFoundException', message: 'x', Message: 'x' }, undefined,
      /ResourceNotFoundException has no member Message/],
    ['an error without __type', 404, { message: 'x' }, undefined, /error body has no string __type/],
    ['an error header that names another error', 404, { __type: 'ResourceNotFoundException', message: 'x' }, 'ValidationException',
      /x-amzn-ErrorType ValidationException differs from __type ResourceNotFoundException/],
    ['a protocol error with another status', 500, { __type: 'UnknownOperationException', message: 'x' }, undefined,
      /UnknownOperationException has HTTP status 500, not 400/],
  ])('%s', (_, status, body, errorType, violation) => {
    const headers = { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'r', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) };

    const violations = responseViolations(MODEL, 'GetService', { status, headers, body: JSON.stringify(body) });

    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(violation);
  });

  test('a wrong Content-Type, no request id, a body that is not JSON', () => {
    expect(responseViolations(MODEL, 'GetService', { status: 200, headers: { 'content-type': 'text/html' }, body: '<html>' })).toEqual([
      'Content-Type is text/html, not application/x-amz-json-1.0',
      'no x-amzn-RequestId header',
      'body is not JSON: <html>',
    ]);
  });

  test('the endpoint\'s own deployment ids pass the DeploymentId pattern', () => {
    expect(new RegExp(MODEL.shapes.DeploymentId.pattern!).test(deploymentId('svc', 1))).toBe(true);
  });
});
