import {
  DeleteParameterCommand, GetParameterCommand, GetParametersCommand, HierarchyLevelLimitExceededException, InternalServerError, ParameterAlreadyExists,
  ParameterNotFound, PutParameterCommand, PutParameterCommandInput, SSMClient, SSMServiceException,
} from '@aws-sdk/client-ssm';
import { DEFAULT_PARAMETER_STORE_RATE_LIMITS, LocalParameterStore } from '../local/cloudformation';
import { isAllowed, Statement } from '../local/cloudformation/iam';
import { EmulatedClock } from '../local/proton';

// The local Parameter Store endpoint as the real @aws-sdk/client-ssm sees it:
// PutParameter, GetParameter and DeleteParameter over AWS JSON 1.1, their
// errors parsed into the SDK's own exception classes, the emulated IAM, the
// faults and the rate limits.

const START = new Date('2030-01-01T00:00:00Z');
const ARN_PREFIX = 'arn:aws:ssm:us-east-1:123456789012:parameter';
const KEY = 'ASIAPARAMETERS000000';
/** What KEY's role may do: anything under /app/, and only read /shared/. */
const STATEMENTS: Statement[] = [
  { effect: 'Allow', actions: ['ssm:PutParameter', 'ssm:GetParameter', 'ssm:DeleteParameter'], resources: [`${ARN_PREFIX}/app/*`] },
  { effect: 'Allow', actions: ['ssm:GetParameter'], resources: [`${ARN_PREFIX}/shared/*`] },
];

type Refusal = Error & { $metadata?: { httpStatusCode?: number } };
const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e as Refusal);

/** A fresh endpoint on a frozen clock at START, its client, and the clock. */
async function withEndpoint(fn: (e: { endpoint: LocalParameterStore; ssm: (maxAttempts?: number) => SSMClient; clock: EmulatedClock }) => Promise<void>,
  options: { rateLimits?: false; everyoneAllowed?: boolean } = { rateLimits: false }): Promise<void> {
  const clock = new EmulatedClock(0, START);
  const endpoint = await LocalParameterStore.start({
    arnPrefix: ARN_PREFIX,
    nowMs: () => clock.nowMs(),
    isAllowed: (accessKeyId, action, resource) => options.everyoneAllowed || (accessKeyId === KEY && isAllowed(STATEMENTS, action, resource)),
    rateLimits: options.rateLimits,
  });
  const ssm = (maxAttempts = 1) => new SSMClient({
    endpoint: endpoint.endpoint, region: 'us-east-1', credentials: { accessKeyId: KEY, secretAccessKey: 'local-secret' }, maxAttempts,
  });
  try {
    await fn({ endpoint, ssm, clock });
  } finally {
    await endpoint.stop();
  }
}

const put = (ssm: SSMClient, input: Partial<PutParameterCommandInput>) => ssm.send(new PutParameterCommand({ Name: '/app/p', Value: 'v', Type: 'String', ...input } as PutParameterCommandInput));

describe('parameters', () => {
  test('a SecureString parameter is read back with decryption, at its emulated time, and no call record holds its value', async () => {
    await withEndpoint(async ({ endpoint, ssm, clock }) => {
      const secret = 'https://example.com/response?X-Amz-Signature=abc';
      await expect(put(ssm(), { Name: '/app/request-1', Value: secret, Type: 'SecureString' })).resolves.toMatchObject({ Version: 1, Tier: 'Standard' });
      clock.advance(5);

      const read = await ssm().send(new GetParameterCommand({ Name: '/app/request-1', WithDecryption: true }));

      expect(read.Parameter).toEqual({
        Name: '/app/request-1', Type: 'SecureString', Value: secret, Version: 1, LastModifiedDate: START, ARN: `${ARN_PREFIX}/app/request-1`, DataType: 'text',
      });
      expect(endpoint.calls.map((c) => [c.operation, c.name, c.accessKeyId, c.status, c.atMs - START.getTime()])).toEqual([
        ['PutParameter', '/app/request-1', KEY, 200, 0],
        ['GetParameter', '/app/request-1', KEY, 200, 5000],
      ]);
      expect(JSON.stringify(endpoint.calls)).not.toContain(secret);
    });
  });

  test('a SecureString read without decryption gives its ciphertext, never the value; a String gives its value either way', async () => {
    await withEndpoint(async ({ ssm }) => {
      await put(ssm(), { Name: '/app/secure', Value: 'plain secret', Type: 'SecureString' });
      await put(ssm(), { Name: '/app/plain', Value: 'plain text' });

      const secure = await ssm().send(new GetParameterCommand({ Name: '/app/secure' }));
      const again = await ssm().send(new GetParameterCommand({ Name: '/app/secure', WithDecryption: false }));
      const plain = await ssm().send(new GetParameterCommand({ Name: '/app/plain' }));

      expect(secure.Parameter?.Value).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(Buffer.from(secure.Parameter!.Value!, 'base64').toString('latin1')).not.toContain('plain secret');
      expect(again.Parameter?.Value).not.toBe(secure.Parameter?.Value);
      expect(plain.Parameter?.Value).toBe('plain text');
    });
  });

  test('a parameter that exists is ParameterAlreadyExists without Overwrite, and unchanged; with Overwrite, its next version', async () => {
    await withEndpoint(async ({ endpoint, ssm }) => {
      await put(ssm(), { Value: 'first' });

      const refused = await refusal(put(ssm(), { Value: 'second' }));
      expect(refused).toBeInstanceOf(ParameterAlreadyExists);
      expect(refused?.$metadata?.httpStatusCode).toBe(400);
      expect(endpoint.parameters()).toEqual([expect.objectContaining({ name: '/app/p', value: 'first', version: 1 })]);

      await expect(put(ssm(), { Value: 'second', Overwrite: true, Type: undefined })).resolves.toMatchObject({ Version: 2 });
      expect(endpoint.parameters()).toEqual([expect.objectContaining({ value: 'second', version: 2, type: 'String' })]);
      await expect(put(ssm(), { Name: '/app/new', Value: 'x', Overwrite: true })).resolves.toMatchObject({ Version: 1 });
    });
  });

  test('DeleteParameter removes a parameter; a read or delete of a missing one is ParameterNotFound', async () => {
    await withEndpoint(async ({ endpoint, ssm }) => {
      await put(ssm(), {});

      await ssm().send(new DeleteParameterCommand({ Name: '/app/p' }));

      expect(endpoint.parameters()).toEqual([]);
      expect(await refusal(ssm().send(new GetParameterCommand({ Name: '/app/p' })))).toBeInstanceOf(ParameterNotFound);
      expect(await refusal(ssm().send(new DeleteParameterCommand({ Name: '/app/p' })))).toBeInstanceOf(ParameterNotFound);
    });
  });
});

describe('the rules of PutParameter', () => {
  test.each([
    ['a name prefixed with aws', '/aws/x', /can't be prefixed with "aws" or "ssm"/],
    ['a name prefixed with ssm (any case)', 'SSMx', /can't be prefixed with "aws" or "ssm"/],
    ['a name with a space within', '/app/a b', /can't be prefixed/],
    ['a name with another symbol', '/app/a+b', /can't be prefixed/],
    ['a path without its leading slash', 'app/x', /must be a fully qualified name/],
    ['a name longer than 1011 characters with its ARN', `/app/${'x'.repeat(1011 - ARN_PREFIX.length - 4)}`, /1011 characters/],
  ])('%s is a ValidationException', async (_, name, message) => {
    await withEndpoint(async ({ ssm }) => {
      const refused = await refusal(put(ssm(), { Name: name }));

      expect(refused?.name).toBe('ValidationException');
      expect(refused?.message).toMatch(message);
    }, { rateLimits: false, everyoneAllowed: true });
  });

  test('a hierarchy of 15 levels is taken, one of 16 is HierarchyLevelLimitExceededException', async () => {
    await withEndpoint(async ({ ssm }) => {
      const path = (levels: number) => `/app${'/l'.repeat(levels - 1)}`;

      await expect(put(ssm(), { Name: path(15) })).resolves.toMatchObject({ Version: 1 });
      expect(await refusal(put(ssm(), { Name: path(16) }))).toBeInstanceOf(HierarchyLevelLimitExceededException);
    });
  });

  test('a name of 1011 characters with its ARN is taken', async () => {
    await withEndpoint(async ({ ssm }) => {
      const name = `/app/${'x'.repeat(1011 - ARN_PREFIX.length - 5)}`;
      expect(`${ARN_PREFIX}${name}`).toHaveLength(1011);

      await expect(put(ssm(), { Name: name })).resolves.toMatchObject({ Version: 1 });
    });
  });

  test('a standard parameter takes 4,096 characters (not bytes) and refuses 4,097; Advanced and Intelligent-Tiering take more', async () => {
    await withEndpoint(async ({ ssm }) => {
      await expect(put(ssm(), { Name: '/app/max', Value: 'é'.repeat(4096) })).resolves.toMatchObject({ Tier: 'Standard' });

      const refused = await refusal(put(ssm(), { Name: '/app/over', Value: 'x'.repeat(4097) }));
      expect(refused?.name).toBe('ValidationException');
      expect(refused?.message).toMatch(/^Standard tier parameters support a maximum parameter value of 4096 characters/);

      await expect(put(ssm(), { Name: '/app/advanced', Value: 'x'.repeat(4097), Tier: 'Advanced' })).resolves.toMatchObject({ Tier: 'Advanced' });
      await expect(put(ssm(), { Name: '/app/smart', Value: 'x'.repeat(4097), Tier: 'Intelligent-Tiering' })).resolves.toMatchObject({ Tier: 'Advanced' });
      await expect(put(ssm(), { Name: '/app/small', Value: 'x', Tier: 'Intelligent-Tiering' })).resolves.toMatchObject({ Tier: 'Standard' });
      expect((await refusal(put(ssm(), { Name: '/app/huge', Value: 'x'.repeat(8193), Tier: 'Advanced' })))?.name).toBe('ValidationException');
    });
  });

  test('a new parameter without a Type, or with an unknown one, is a ValidationException', async () => {
    await withEndpoint(async ({ endpoint, ssm }) => {
      expect((await refusal(put(ssm(), { Type: undefined })))?.message).toMatch(/type is required/);
      expect((await refusal(put(ssm(), { Type: 'Secret' as 'String' })))?.message).toMatch(/enum value set: \[String, StringList, SecureString\]/);
      expect(endpoint.parameters()).toEqual([]);
    });
  });
});

describe('IAM', () => {
  test('a caller whose policies do not allow ssm:<operation> on the parameter\'s ARN is AccessDeniedException, and nothing changes', async () => {
    await withEndpoint(async ({ endpoint, ssm }) => {
      const denied = await refusal(put(ssm(), { Name: '/shared/p' }));

      expect(denied).toBeInstanceOf(SSMServiceException);
      expect(denied?.name).toBe('AccessDeniedException');
      expect(denied?.message).toBe(`User: ${KEY} is not authorized to perform: ssm:PutParameter on resource: ${ARN_PREFIX}/shared/p because no identity-based policy allows the ssm:PutParameter action`);
      expect(endpoint.parameters()).toEqual([]);
      // The wildcard is IAM's: /app/* covers every level below /app/, and only there.
      await expect(put(ssm(), { Name: '/app/a/b/c' })).resolves.toMatchObject({ Version: 1 });
      expect((await refusal(put(ssm(), { Name: '/application' })))?.name).toBe('AccessDeniedException');
      expect((await refusal(ssm().send(new GetParameterCommand({ Name: '/shared/p' }))))).toBeInstanceOf(ParameterNotFound);
    });
  });
});

describe('faults', () => {
  test.each([
    [{ kind: 'throttle' } as const, 400, 'ThrottlingException'],
    [{ kind: 'throttle', status: 429 } as const, 429, 'ThrottlingException'],
    [{ kind: 'internal-error' } as const, 500, 'InternalServerError'],
    [{ kind: 'unavailable' } as const, 503, undefined],
    [{ kind: 'drop' } as const, 'dropped', undefined],
  ])('%j fails the call; the SDK retries it and the retry is served', async (fault, status, errorType) => {
    await withEndpoint(async ({ endpoint, ssm }) => {
      endpoint.injectFaults('PutParameter', fault);

      await expect(put(ssm(3), {})).resolves.toMatchObject({ Version: 1 });

      expect(endpoint.calls.map((c) => [c.status, c.errorType, c.fault])).toEqual([[status, errorType, fault.kind], [200, undefined, undefined]]);
    });
  });

  test('a fault hits its times and only its parameter name', async () => {
    await withEndpoint(async ({ endpoint, ssm }) => {
      endpoint.injectFaults('*', { kind: 'internal-error', times: 2, name: '/app/target' });

      await put(ssm(), { Name: '/app/other' });
      const refused = await refusal(put(ssm(2), { Name: '/app/target' }));

      expect(refused).toBeInstanceOf(InternalServerError);
      expect(endpoint.calls.map((c) => [c.name, c.status])).toEqual([['/app/other', 200], ['/app/target', 500], ['/app/target', 500]]);
      await expect(put(ssm(), { Name: '/app/target' })).resolves.toMatchObject({ Version: 1 });
    });
  });

  test('a dropped answer after the write: the SDK\'s retry without Overwrite finds ParameterAlreadyExists, with Overwrite it writes again', async () => {
    await withEndpoint(async ({ endpoint, ssm }) => {
      endpoint.injectFaults('PutParameter', { kind: 'drop', afterApplying: true });
      expect(await refusal(put(ssm(2), { Name: '/app/once' }))).toBeInstanceOf(ParameterAlreadyExists);

      endpoint.injectFaults('PutParameter', { kind: 'drop', afterApplying: true });
      await expect(put(ssm(2), { Name: '/app/twice', Overwrite: true })).resolves.toMatchObject({ Version: 2 });

      expect(endpoint.calls.map((c) => c.status)).toEqual(['dropped', 400, 'dropped', 200]);
    });
  });
});

describe('rate limits', () => {
  test('by default, GetParameter takes 40 calls in one emulated second and throttles the 41st; a second later it takes calls again', async () => {
    await withEndpoint(async ({ endpoint, ssm, clock }) => {
      await put(ssm(), {});
      const client = ssm();
      const get = () => client.send(new GetParameterCommand({ Name: '/app/p' })).then(() => 'ok', (e: Error) => e.name);

      const answers = await Promise.all(Array.from({ length: 41 }, get));

      expect(answers.filter((a) => a === 'ok')).toHaveLength(40);
      expect(answers.filter((a) => a === 'ThrottlingException')).toHaveLength(1);
      expect(endpoint.calls.filter((c) => c.throttled)).toEqual([expect.objectContaining({ status: 400, errorType: 'ThrottlingException' })]);
      expect(endpoint.requestStats().GetParameter).toEqual({ calls: 41, throttled: 1, peakPerSecond: 41 });
      clock.advance(1);
      await expect(get()).resolves.toBe('ok');
    }, {});
  });

  test('by default, PutParameter and DeleteParameter take 3 calls a second each (an assumption: AWS publishes no figure)', async () => {
    expect(DEFAULT_PARAMETER_STORE_RATE_LIMITS).toEqual({
      GetParameter: { perSecond: 40, burst: 40 }, PutParameter: { perSecond: 3, burst: 3 }, DeleteParameter: { perSecond: 3, burst: 3 },
    });
    await withEndpoint(async ({ ssm }) => {
      const client = ssm();
      const answers = await Promise.all(['a', 'b', 'c', 'd'].map((n) => put(client, { Name: `/app/${n}` }).then(() => 'ok', (e: Error) => e.name)));

      expect(answers.sort()).toEqual(['ThrottlingException', 'ok', 'ok', 'ok']);
    }, {});
  });
});

describe('the wire', () => {
  test('answers carry the JSON 1.1 content type, a request id and the emulated Date', async () => {
    await withEndpoint(async ({ endpoint }) => {
      const response = await fetch(endpoint.endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AmazonSSM.GetParameter' },
        body: JSON.stringify({ Name: '/app/none' }),
      });

      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
      expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.headers.get('date')).toBe(START.toUTCString());
      // Unsigned: the endpoint's IAM sees no access key and refuses.
      expect(await response.json()).toMatchObject({ __type: 'AccessDeniedException' });
    });
  });

  test('an operation not emulated is UnknownOperationException', async () => {
    await withEndpoint(async ({ ssm }) => {
      const refused = await refusal(ssm().send(new GetParametersCommand({ Names: ['/app/p'] })));

      expect(refused?.name).toBe('UnknownOperationException');
    });
  });
});
