import * as fc from 'fast-check';
import { backoff, BASE_BACKOFF_MS, DENIED_RETRY_MS, MAX_BACKOFF_MS, retryKind, timing, withRetries } from '../lambda/retry';

function awsError(name: string, httpStatusCode?: number) {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });
}

afterEach(() => jest.restoreAllMocks());

describe('retryKind', () => {
  test.each([
    [awsError('AccessDeniedException', 403), 'denied'],
    [awsError('AccessDeniedException'), 'denied'],
    [awsError('Forbidden', 403), 'denied'],
    [awsError('ThrottlingException', 429), 'throttled'],
    [awsError('ThrottlingException'), 'throttled'],
    [awsError('TooManyRequests', 429), 'throttled'],
    [awsError('InternalServerException', 500), undefined],
    [undefined, undefined],
  ])('%s -> %s', (error, kind) => {
    expect(retryKind(error)).toBe(kind);
  });
});

describe('backoff', () => {
  test('a denial waits 1 s, doubling, up to 15 s', () => {
    expect([0, 1, 2, 3, 4, 5].map(a => backoff('denied', a))).toEqual([1_000, 2_000, 4_000, 8_000, 15_000, 15_000]);
    expect([BASE_BACKOFF_MS, MAX_BACKOFF_MS]).toEqual([1_000, 15_000]);
  });

  test('throttling waits a random time below the same ceiling (full jitter)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 40 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
      jest.spyOn(timing, 'random').mockReturnValue(r);
      const ms = backoff('throttled', attempt);
      return Number.isInteger(ms) && ms >= 0 && ms < Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt) + (r === 0 ? 1 : 0)
        && ms === Math.floor(r * Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt));
    }));
  });
});

describe('withRetries', () => {
  let clock: number;
  let sleeps: number[];
  beforeEach(() => {
    clock = 0;
    sleeps = [];
    jest.spyOn(timing, 'now').mockImplementation(() => clock);
    jest.spyOn(timing, 'sleep').mockImplementation(async (ms) => {
      sleeps.push(ms);
      clock += ms;
    });
    jest.spyOn(timing, 'random').mockReturnValue(0.5);
  });

  test('returns the first success', async () => {
    await expect(withRetries(async () => 'ok', 0)).resolves.toBe('ok');
    expect(sleeps).toEqual([]);
  });

  test('throws any other error at once', async () => {
    const call = jest.fn().mockRejectedValue(awsError('ValidationException', 400));
    await expect(withRetries(call, 100_000)).rejects.toThrow('ValidationException');
    expect(call).toHaveBeenCalledTimes(1);
  });

  test('does not retry throttling past its deadline', async () => {
    const call = jest.fn().mockRejectedValue(awsError('ThrottlingException', 429));
    await expect(withRetries(call, 0)).rejects.toThrow('ThrottlingException');
    expect(call).toHaveBeenCalledTimes(1);
  });

  test('retries throttling until the deadline, the last wait cut to it', async () => {
    const call = jest.fn().mockRejectedValue(awsError('ThrottlingException', 429));
    await expect(withRetries(call, 2_000)).rejects.toThrow('ThrottlingException');
    // 500 (half of 1 s), 1,000 (half of 2 s), then 500 left of the 2,000
    expect(sleeps).toEqual([500, 1_000, 500]);
    expect(call).toHaveBeenCalledTimes(4);
  });

  test('measures the denial window from the first denial, not from the call', async () => {
    // GIVEN 10 s of throttling, then denials
    const call = jest.fn()
      .mockRejectedValueOnce(awsError('ThrottlingException', 429))
      .mockRejectedValue(awsError('AccessDeniedException', 403));
    clock = 0;
    await expect(withRetries(call, 100_000)).rejects.toThrow('AccessDeniedException');
    const beforeDenial = sleeps[0];
    expect(sleeps.slice(1).reduce((a, b) => a + b, 0)).toBe(DENIED_RETRY_MS);
    expect(beforeDenial).toBe(500);
  });
});

describe('timing, as in Lambda', () => {
  test('now is a monotonic clock in milliseconds, sleep waits, random is in [0, 1)', async () => {
    const before = timing.now();
    await timing.sleep(20);
    const waited = timing.now() - before;
    expect(waited).toBeGreaterThanOrEqual(15);
    expect(waited).toBeLessThan(5_000);
    const r = timing.random();
    expect(r).toBeGreaterThanOrEqual(0);
    expect(r).toBeLessThan(1);
    expect(new Set(Array.from({ length: 5 }, () => timing.random())).size).toBeGreaterThan(1);
  });
});
