/**
 * The answer to CloudFormation: one JSON body PUT to the request's presigned
 * `ResponseURL`, at most 4,096 bytes. No AWS SDK here: the URL is signed.
 */
import * as http from 'http';
import * as https from 'https';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { truncate } from './decide';

/** CloudFormation's cap on a custom resource response. */
export const MAX_RESPONSE_BYTES = 4096;

/** Waits between attempts of the PUT: 1 s, doubling up to this. */
const MAX_PUT_BACKOFF_MS = 30_000;

/** What the handler decided for a request. */
export type Answer =
  | { readonly status: 'SUCCESS'; readonly physicalResourceId: string; readonly data?: Readonly<Record<string, string>> }
  | { readonly status: 'FAILED'; readonly physicalResourceId: string; readonly reason: string };

/** The request fields an answer repeats. */
export type Request = Pick<CloudFormationCustomResourceEvent, 'StackId' | 'RequestId' | 'LogicalResourceId' | 'ResponseURL'>;

/**
 * The response body. A reason too long for the cap is shortened; the data
 * never is (`decide.ts` keeps each attribute short).
 */
export function responseBody(request: Request, answer: Answer): string {
  const fields = {
    Status: answer.status,
    PhysicalResourceId: answer.physicalResourceId,
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
  };
  if (answer.status === 'SUCCESS') {
    return JSON.stringify(answer.data ? { ...fields, Data: answer.data } : fields);
  }
  const room = MAX_RESPONSE_BYTES - Buffer.byteLength(JSON.stringify({ ...fields, Reason: '' }));
  return JSON.stringify({ ...fields, Reason: truncate(answer.reason, room) });
}

/** The waits between attempts, and the longest an attempt may take; replaceable by tests. */
export const putTiming = {
  sleep: (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms)),
  attemptTimeoutMs: 10_000,
};

/**
 * Why an answer did not reach CloudFormation. `refused` is true when the URL
 * answered 4xx (expired, or not a URL for a PUT): sending again cannot help.
 * The message never holds the URL.
 */
export class AnswerNotSent extends Error {
  constructor(message: string, readonly refused: boolean) {
    super(message);
    this.name = refused ? 'AnswerRefused' : 'AnswerNotSent';
  }
}

/**
 * PUTs the answer, the same body at each attempt. A refused PUT (4xx) is not
 * retried; a failed connection or a 5xx is, with backoff, until `untilMs`
 * (`Date.now()` time) leaves no room for another attempt.
 */
export async function sendAnswer(request: Request, answer: Answer, untilMs: number): Promise<void> {
  const body = responseBody(request, answer);
  for (let attempt = 1; ; attempt++) {
    let outcome: number | Error;
    try {
      outcome = await put(request.ResponseURL, body);
    } catch (error) {
      outcome = error as Error;
    }
    if (typeof outcome === 'number' && outcome < 300) {
      return;
    }
    const refused = typeof outcome === 'number' && outcome < 500;
    const wait = Math.min(MAX_PUT_BACKOFF_MS, 1000 * 2 ** (attempt - 1));
    if (refused || Date.now() + wait + putTiming.attemptTimeoutMs > untilMs) {
      const why = typeof outcome === 'number' ? `HTTP ${outcome}` : describeFailure(outcome);
      throw new AnswerNotSent(`Could not send the ${answer.status} answer to CloudFormation's response URL after ${attempt} attempt(s): ${why}`, refused);
    }
    await putTiming.sleep(wait);
  }
}

/** A failed connection, in words that never quote the URL: its code, or its message with any URL taken out. */
export function describeFailure(error: Error): string {
  const code = (error as { code?: string }).code;
  return code ? `${code}` : error.message.replace(/https?:\/\/\S+/g, 'the URL');
}

/** One PUT: its HTTP status. `http` serves only local test endpoints; CloudFormation's URLs are `https`. */
function put(url: string, body: string): Promise<number> {
  const client = new URL(url).protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const request = client.request(url, {
      method: 'PUT',
      // An empty content type, as S3 presigned URLs for CloudFormation expect.
      headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
      timeout: putTiming.attemptTimeoutMs,
    }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from CloudFormation's response URL within ${putTiming.attemptTimeoutMs / 1000} seconds`)));
    request.on('error', reject);
    request.end(body);
  });
}
