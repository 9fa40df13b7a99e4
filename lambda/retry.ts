/**
 * Retries above the SDK's own: an access denial for about a minute (a policy
 * created in the same deployment may not be in effect yet: IAM is eventually
 * consistent), and throttling, with full jitter, until a deadline the caller
 * sets. No AWS import here: the SDK calls come in as functions.
 */

/** How long denials are retried, from the first denial of a call. */
export const DENIED_RETRY_MS = 60_000;

/** Backoff of the first retry; each retry doubles it, up to `MAX_BACKOFF_MS`. */
export const BASE_BACKOFF_MS = 1_000;

/** Longest backoff between two attempts. */
export const MAX_BACKOFF_MS = 15_000;

/**
 * Time and randomness, in one object so that tests can replace them. The
 * monotonic clock is not `Date`: a retry budget must not move with the wall clock.
 */
export const timing = {
  now: (): number => performance.now(),
  sleep: (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms)),
  random: (): number => Math.random(),
};

/** The names AWS services give throttling: Proton's and Parameter Store's, CloudFormation's (HTTP 400), Lambda's. */
const THROTTLING_NAMES = ['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded'];

/** What a failed attempt calls for. */
export type RetryKind = 'denied' | 'throttled';

/** Whether an error is an access denial or throttling, by name or HTTP status. */
export function retryKind(error: unknown): RetryKind | undefined {
  const e = (error ?? {}) as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'AccessDeniedException' || status === 403) {
    return 'denied';
  }
  if (THROTTLING_NAMES.includes(e.name ?? '') || status === 429) {
    return 'throttled';
  }
  return undefined;
}

/**
 * Calls `call` until it succeeds or fails for good. A denial is retried for
 * `DENIED_RETRY_MS` from the first one; throttling until `throttledUntil` (a
 * `timing.now()` value; now or earlier: not retried here). Every other error,
 * and the last denial or throttle, is thrown as is.
 */
export async function withRetries<T>(call: () => Promise<T>, throttledUntil: number): Promise<T> {
  let deniedSince: number | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const kind = retryKind(error);
      const now = timing.now();
      if (kind === 'denied') {
        deniedSince ??= now;
      }
      const until = kind === 'denied' ? deniedSince! + DENIED_RETRY_MS : kind === 'throttled' ? throttledUntil : now;
      if (now >= until) {
        throw error;
      }
      await timing.sleep(Math.min(backoff(kind!, attempt), until - now));
    }
  }
}

/**
 * Exponential backoff, capped. Throttling gets full jitter (a random wait up to
 * the backoff), which spreads the retries of many instances started together.
 */
export function backoff(kind: RetryKind, attempt: number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt);
  return kind === 'throttled' ? Math.floor(timing.random() * ceiling) : ceiling;
}
