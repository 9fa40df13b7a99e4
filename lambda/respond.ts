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

/** Attempts of the PUT, first one included; waits of 1, 2, 4, 8 seconds between them. */
export const PUT_ATTEMPTS = 5;


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
 * PUTs the answer. A refused PUT (4xx: the URL expired, or was answered) is
 * not retried; a failed connection or a 5xx is, up to `PUT_ATTEMPTS` times.
 */
export async function sendAnswer(request: Request, answer: Answer): Promise<void> {
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
    const retryable = typeof outcome !== 'number' || outcome >= 500;
    if (!retryable || attempt >= PUT_ATTEMPTS) {
      const why = typeof outcome === 'number' ? `HTTP ${outcome}` : outcome.message;
      throw new Error(`Could not send the ${answer.status} answer to CloudFormation's response URL after ${attempt} attempt(s): ${why}`);
    }
    await putTiming.sleep(1000 * 2 ** (attempt - 1));
  }
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
