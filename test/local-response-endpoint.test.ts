import * as http from 'http';
import { LocalResponseEndpoint, responseUrl } from '../local/cloudformation';
import { EmulatedClock } from '../local/proton';

// The local stand-in for CloudFormation's pre-signed response URLs: what a
// provider PUTs there is captured as sent, and it answers as S3 does.

const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Probe/0a1b2c3d-0000-1111-2222-333344445555';
const clock = new EmulatedClock(0, new Date('2030-01-01T00:00:00Z'));
let endpoint: LocalResponseEndpoint;

beforeAll(async () => {
  endpoint = await LocalResponseEndpoint.start(clock);
});
afterAll(() => endpoint.stop());

/** Sends `body` to `url` as a provider does: no content type, with its Content-Length unless told otherwise. */
function send(url: string, body: string, options: { method?: string; contentLength?: boolean } = {}): Promise<{ status: number | 'dropped'; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': '' };
    if (options.contentLength !== false) {
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = http.request(url, { method: options.method ?? 'PUT', headers }, (res) => {
      let text = '';
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => error.code === 'ECONNRESET' ? resolve({ status: 'dropped', body: '' }) : reject(error));
    if (options.contentLength === false) {
      // Written before the end, the body goes out chunked, without a Content-Length.
      req.write(body);
      req.end();
    } else {
      req.end(body);
    }
  });
}

const url = (requestId: string) => responseUrl(endpoint.endpoint, 'us-east-1', STACK_ID, 'Probe', requestId);

test('a response URL is shaped like CloudFormation\'s pre-signed S3 URL, on the local endpoint', () => {
  const parsed = new URL(url('r-1'));

  expect(parsed.origin).toBe(endpoint.endpoint);
  expect(parsed.pathname).toBe('/cloudformation-custom-resource-response-useast1/arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/Probe/0a1b2c3d-0000-1111-2222-333344445555%7CProbe%7Cr-1');
  expect([...parsed.searchParams.keys()]).toEqual(['X-Amz-Algorithm', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires', 'X-Amz-Credential', 'X-Amz-Signature']);
  // A fresh signature each time.
  expect(url('r-1')).not.toBe(url('r-1'));
});

test('a PUT to an open URL is captured with its method, Content-Length, body and emulated time, and answered 200', async () => {
  const target = url('r-2');
  const captured = endpoint.expect(target);
  const body = JSON.stringify({ Status: 'SUCCESS', Data: { Greeting: 'héllo' } });

  const answer = await send(target, body);

  expect(answer.status).toBe(200);
  expect(captured).toEqual([{ method: 'PUT', contentLength: String(Buffer.byteLength(body)), body, atMs: clock.nowMs(), status: 200 }]);
  endpoint.close(target);
});

test('every request to an open URL is captured: a second PUT, and a chunked PUT without Content-Length', async () => {
  const target = url('r-3');
  const captured = endpoint.expect(target);

  await send(target, 'first');
  await send(target, 'second', { contentLength: false });

  expect(captured.map((c) => [c.body, c.contentLength])).toEqual([['first', '5'], ['second', undefined]]);
  endpoint.close(target);
});

test('another method than PUT is captured, and refused as S3 refuses a URL signed for a PUT', async () => {
  const target = url('r-4');
  const captured = endpoint.expect(target);

  const answer = await send(target, 'body', { method: 'POST' });

  expect(answer.status).toBe(403);
  expect(answer.body).toContain('<Code>SignatureDoesNotMatch</Code>');
  expect(captured.map((c) => [c.method, c.status])).toEqual([['POST', 403]]);
  endpoint.close(target);
});

test.each([
  ['a URL never opened', () => url('r-never')],
  ['an open URL with another signature', () => {
    endpoint.expect(url('r-5'));
    return url('r-5');
  }],
  ['a URL once closed', () => {
    const target = url('r-6');
    endpoint.expect(target);
    endpoint.close(target);
    return target;
  }],
])('a PUT to %s is refused with 403 AccessDenied, and recorded as refused', async (_, target) => {
  const refusedBefore = endpoint.refused.length;

  const answer = await send(target(), '{}');

  expect(answer.status).toBe(403);
  expect(answer.body).toContain('<Code>AccessDenied</Code>');
  expect(endpoint.refused).toHaveLength(refusedBefore + 1);
  expect(endpoint.refused.at(-1)).toMatchObject({ method: 'PUT' });
});

describe('faults: S3 failing PUTs now and then', () => {
  const STEP = 60_000;

  test.each([
    ['SlowDown', 503, '<Code>SlowDown</Code><Message>Please reduce your request rate.</Message>'],
    ['InternalError', 500, '<Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message>'],
  ] as const)('%s answers its status and S3\'s error XML, and the PUT is recorded as failed', async (answer, status, xml) => {
    const target = url(`r-${answer}`);
    const captured = endpoint.expect(target);
    endpoint.failPuts({ answer });

    const failed = await send(target, 'body');
    const retried = await send(target, 'body');

    expect(failed.status).toBe(status);
    expect(failed.body).toContain(xml);
    expect(retried.status).toBe(200);
    expect(captured.map((c) => c.status)).toEqual([status, 200]);
    endpoint.close(target);
  });

  test('drop closes the connection without an answer; the PUT is recorded as dropped', async () => {
    const target = url('r-drop');
    const captured = endpoint.expect(target);
    endpoint.failPuts({ answer: 'drop', times: 2 });

    const answers = [await send(target, 'a'), await send(target, 'a'), await send(target, 'a')];

    expect(answers.map((a) => a.status)).toEqual(['dropped', 'dropped', 200]);
    expect(captured.map((c) => c.status)).toEqual(['dropped', 'dropped', 200]);
    endpoint.close(target);
  });

  test('a fault for one URL, or one resource, leaves the others alone', async () => {
    const [target, other] = [url('r-one'), url('r-other')];
    const [captured, otherCaptured] = [endpoint.expect(target), endpoint.expect(other)];
    const elsewhere = responseUrl(endpoint.endpoint, 'us-east-1', STACK_ID, 'Elsewhere', 'r-elsewhere');
    const elsewhereCaptured = endpoint.expect(elsewhere);
    endpoint.failPuts({ answer: 'InternalError', url: target });
    endpoint.failPuts({ answer: 'SlowDown', logicalId: 'Elsewhere' });

    await send(other, 'x');
    await send(target, 'x');
    await send(elsewhere, 'x');
    await send(other, 'x');

    expect(otherCaptured.map((c) => c.status)).toEqual([200, 200]);
    expect(captured.map((c) => c.status)).toEqual([500]);
    expect(elsewhereCaptured.map((c) => c.status)).toEqual([503]);
    [target, other, elsewhere].forEach((u) => endpoint.close(u));
  });

  test('a fault for a span of emulated time fails every PUT within it, and none after', async () => {
    const target = url('r-span');
    const captured = endpoint.expect(target);
    endpoint.failPuts({ answer: 'SlowDown', fromMs: clock.nowMs() + STEP, untilMs: clock.nowMs() + 3 * STEP });

    await send(target, 'before');
    clock.advance(STEP / 1000);
    await send(target, 'during');
    await send(target, 'during');
    clock.advance(2 * STEP / 1000);
    await send(target, 'after');

    expect(captured.map((c) => [c.body, c.status])).toEqual([['before', 200], ['during', 503], ['during', 503], ['after', 200]]);
    endpoint.close(target);
  });

  test('a fault waits for a PUT: another method does not use it up', async () => {
    const target = url('r-get');
    const captured = endpoint.expect(target);
    endpoint.failPuts({ answer: 'InternalError', url: target });

    await send(target, '', { method: 'GET' });
    await send(target, 'x');

    expect(captured.map((c) => [c.method, c.status])).toEqual([['GET', 403], ['PUT', 500]]);
    endpoint.close(target);
  });
});
