/**
 * The answer to CloudFormation (`lambda/respond.ts`): its body, capped at
 * 4,096 bytes, and the PUT to the response URL, retried on 5xx and failed
 * connections until the caller's deadline, never on a refusal. The URL is a
 * local HTTP server standing in for CloudFormation's.
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import { Answer, AnswerNotSent, describeFailure, MAX_RESPONSE_BYTES, putTiming, Request, responseBody, sendAnswer } from '../lambda/respond';
import { responseServer, SERVICE } from './handler-fixtures';

let cfn: Awaited<ReturnType<typeof responseServer>>;
/** The waits between attempts, on a wall clock they move. */
let sleeps: number[];
let nowMs: number;

beforeAll(async () => {
  cfn = await responseServer();
});

afterAll(() => cfn.close());

beforeEach(() => {
  cfn.puts.length = 0;
  cfn.statuses.length = 0;
  sleeps = [];
  nowMs = 1_000_000;
  jest.spyOn(Date, 'now').mockImplementation(() => nowMs);
  jest.spyOn(putTiming, 'sleep').mockImplementation(async (ms) => {
    sleeps.push(ms);
    nowMs += ms;
  });
});

afterEach(() => {
  jest.restoreAllMocks();
});

function request(url = cfn.url): Request {
  return { StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Stack/guid', RequestId: 'request', LogicalResourceId: 'Cancel', ResponseURL: url };
}

const SUCCESS: Answer = { status: 'SUCCESS', physicalResourceId: SERVICE };

/** The error a promise rejects with; fails the test if it resolves. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

/** `sendAnswer` with `seconds` to spend. */
function send(answer: Answer = SUCCESS, seconds = 40, url?: string): Promise<void> {
  return sendAnswer(request(url), answer, nowMs + seconds * 1000);
}

describe('the body', () => {
  test('a reason too long for CloudFormation\'s 4,096 bytes is shortened to fit exactly', () => {
    const body = responseBody(request(), { status: 'FAILED', physicalResourceId: SERVICE, reason: 'é'.repeat(5000) });

    expect(MAX_RESPONSE_BYTES).toBe(4096);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    expect(Buffer.byteLength(body)).toBeGreaterThan(MAX_RESPONSE_BYTES - 4);
    expect(JSON.parse(body).Reason).toMatch(/^é+…$/);
  });

  test('a short reason is sent whole; a SUCCESS has no reason, and no Data unless it has attributes', () => {
    expect(JSON.parse(responseBody(request(), { status: 'FAILED', physicalResourceId: SERVICE, reason: 'Short.' })).Reason).toBe('Short.');
    expect(JSON.parse(responseBody(request(), SUCCESS))).toEqual({
      Status: 'SUCCESS', PhysicalResourceId: SERVICE, StackId: request().StackId, RequestId: 'request', LogicalResourceId: 'Cancel',
    });
    expect(JSON.parse(responseBody(request(), { ...SUCCESS, data: { DeploymentStatus: 'CANCELLED' } })).Data).toEqual({ DeploymentStatus: 'CANCELLED' });
  });

  test('never holds the response URL', () => {
    expect(responseBody(request(), { status: 'FAILED', physicalResourceId: SERVICE, reason: 'r' })).not.toContain('X-Amz-Signature');
  });
});

describe('the PUT', () => {
  test('sends the body as is, with an empty Content-Type and its length in bytes', async () => {
    const answer: Answer = { status: 'FAILED', physicalResourceId: SERVICE, reason: 'Déjà « vu ».' };

    await send(answer);

    expect(cfn.puts).toHaveLength(1);
    const { method, path, contentType, contentLength, raw } = cfn.puts[0];
    expect({ method, path, contentType }).toEqual({ method: 'PUT', path: '/response?X-Amz-Signature=abc', contentType: '' });
    expect(raw).toBe(responseBody(request(), answer));
    expect(Number(contentLength)).toBe(Buffer.byteLength(raw));
    expect(Number(contentLength)).toBeGreaterThan(raw.length);
  });

  test('a server error is retried with waits of 1, 2, 4 and 8 seconds while the deadline allows, then given up with a sentence', async () => {
    cfn.statuses.push(...Array(10).fill(503));

    await expect(send(SUCCESS, 40)).rejects.toThrow(new AnswerNotSent("Could not send the SUCCESS answer to CloudFormation's response URL after 5 attempt(s): HTTP 503", false));

    expect(cfn.puts).toHaveLength(5);
    expect(sleeps).toEqual([1000, 2000, 4000, 8000]);
    expect(new Set(cfn.puts.map(p => p.raw)).size).toBe(1);
  });

  test('the waits double up to 30 seconds', async () => {
    cfn.statuses.push(...Array(20).fill(500));

    await expect(send(SUCCESS, 200)).rejects.toThrow('after 11 attempt(s): HTTP 500');

    expect(sleeps).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 30000]);
  });

  test('a deadline with no room for a second attempt makes one', async () => {
    cfn.statuses.push(500);

    await expect(send(SUCCESS, 10)).rejects.toThrow('after 1 attempt(s): HTTP 500');
    expect(sleeps).toEqual([]);
  });

  test('a deadline with room for exactly one more attempt, its wait and its timeout, makes it', async () => {
    cfn.statuses.push(500, 500);

    // 1 s of wait and 10 s of attempt timeout fit exactly in 11 s.
    await expect(send(SUCCESS, 11)).rejects.toThrow('after 2 attempt(s): HTTP 500');
    expect(sleeps).toEqual([1000]);
  });

  test.each([
    ['its code', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'ECONNREFUSED'],
    ['its message, any URL taken out', new Error('no put to https://bucket.s3.amazonaws.com/key?X-Amz-Signature=abc, nor http://127.0.0.1:1/x now'), 'no put to the URL nor the URL now'],
  ])('a failure is told by %s', (_, error, told) => {
    expect(describeFailure(error)).toBe(told);
  });

  test('a server error then a success is one answer received', async () => {
    cfn.statuses.push(500);

    await send();

    expect(cfn.puts.map(p => p.body.Status)).toEqual(['SUCCESS', 'SUCCESS']);
    expect(sleeps).toEqual([1000]);
  });

  test('a connection dropped without an answer is retried', async () => {
    let dropped = 0;
    const dropping = http.createServer((req, res) => {
      if (dropped++ === 0) {
        req.socket.destroy();
        return;
      }
      req.resume();
      req.on('end', () => res.end());
    });
    await new Promise<void>(resolve => dropping.listen(0, '127.0.0.1', resolve));
    try {
      await send(SUCCESS, 40, `http://127.0.0.1:${(dropping.address() as AddressInfo).port}/r?X-Amz-Signature=abc`);

      expect(dropped).toBe(2);
      expect(sleeps).toEqual([1000]);
    } finally {
      dropping.closeAllConnections();
      await new Promise<void>(resolve => dropping.close(() => resolve()));
    }
  });

  test.each([300, 400, 403, 404, 499])('HTTP %i is a refusal, not retried', async (status) => {
    cfn.statuses.push(status);

    const failure = send();

    await expect(failure).rejects.toThrow(`Could not send the SUCCESS answer to CloudFormation's response URL after 1 attempt(s): HTTP ${status}`);
    await expect(failure).rejects.toMatchObject({ name: 'AnswerRefused', refused: true });
    expect(cfn.puts).toHaveLength(1);
  });

  test('an attempt with no answer is given up after its timeout, and retried', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve));
    const timeoutBefore = putTiming.attemptTimeoutMs;
    putTiming.attemptTimeoutMs = 50;
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/slow?X-Amz-Signature=abc`;

      const error = await failure(send(SUCCESS, 3.1, url));

      expect(error.message).toBe("Could not send the SUCCESS answer to CloudFormation's response URL after 3 attempt(s): no answer from CloudFormation's response URL within 0.05 seconds");
      expect(sleeps).toEqual([1000, 2000]);
    } finally {
      putTiming.attemptTimeoutMs = timeoutBefore;
      silent.closeAllConnections();
      await new Promise<void>(resolve => silent.close(() => resolve()));
    }
  });

  test('an https URL is sent with TLS: to a plain HTTP server, the handshake fails', async () => {
    const url = cfn.url.replace('http://', 'https://');

    const error = await failure(send(SUCCESS, 10, url));

    expect(error.message).toMatch(/after 1 attempt\(s\): .*(SSL|TLS|EPROTO|wrong version|ECONNRESET)/i);
    expect(error.message).not.toContain('127.0.0.1');
    expect(cfn.puts).toEqual([]);
  });

  test('a URL nobody answers at is retried, then given up, naming the error code and not the URL', async () => {
    const closed = http.createServer();
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>(resolve => closed.close(() => resolve()));

    const error = await failure(send(SUCCESS, 40, `http://127.0.0.1:${port}/gone?X-Amz-Signature=abc`));

    expect(error.message).toBe("Could not send the SUCCESS answer to CloudFormation's response URL after 5 attempt(s): ECONNREFUSED");
    expect(sleeps).toHaveLength(4);
  });

  test('the wait between attempts is real time', async () => {
    jest.restoreAllMocks();
    const started = Date.now();
    await putTiming.sleep(30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(putTiming.attemptTimeoutMs).toBe(10_000);
  });
});
