/** A request rate as a token bucket: `burst` calls at once, then `perSecond` calls per emulated second. */
export interface RateLimit {
  /** Tokens added per emulated second (the sustained rate). */
  readonly perSecond: number;
  /** Size of the bucket (the most calls accepted at once); the bucket starts full. */
  readonly burst: number;
}

/**
 * Default request rates per operation. Proton publishes no figure; these are like its peers'
 * control-plane rates (e.g. CloudFormation's and ECS's describe/get calls at about 10 per second,
 * mutating calls at about 5), with a burst of twice the rate. Operations not listed are not limited.
 */
export const DEFAULT_RATE_LIMITS: Readonly<Record<string, RateLimit>> = {
  GetService: { perSecond: 10, burst: 20 },
  CancelServicePipelineDeployment: { perSecond: 5, burst: 10 },
};

/** Calls of one operation as counted by the endpoint. */
export interface OperationStats {
  /** Calls received (throttled ones included). */
  readonly calls: number;
  /** Calls refused with a ThrottlingException by the rate limit (injected throttle faults not included). */
  readonly throttled: number;
  /** Most calls received within one emulated second (seconds counted from the epoch, [n, n+1) s). */
  readonly peakPerSecond: number;
}

class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(private readonly limit: RateLimit, nowMs: number) {
    this.tokens = limit.burst;
    this.lastMs = nowMs;
  }

  /** Takes a token if one is there; refills first for the emulated time gone by. */
  take(nowMs: number): boolean {
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(this.limit.burst, this.tokens + ((nowMs - this.lastMs) / 1000) * this.limit.perSecond);
      this.lastMs = nowMs;
    }
    // A hair of tolerance, so that a call exactly 1/perSecond after the last one is never lost to rounding.
    if (this.tokens < 1 - 1e-9) {
      return false;
    }
    this.tokens -= 1;
    return true;
  }
}

interface Counter {
  calls: number;
  throttled: number;
  peakPerSecond: number;
  second: number;
  inSecond: number;
}

/** Per-operation token buckets and call counters, on the endpoint's emulated clock. */
export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly counters = new Map<string, Counter>();
  private readonly all = newCounter();

  /**
   * @param limits rate per operation; operations not listed are never throttled
   */
  constructor(private readonly limits: Readonly<Record<string, RateLimit>>, nowMs: number) {
    for (const [operation, limit] of Object.entries(limits)) {
      if (!(limit.perSecond > 0) || !Number.isFinite(limit.perSecond) || !(limit.burst >= 1) || !Number.isFinite(limit.burst)) {
        throw new Error(`rate limit of ${operation}: perSecond must be a finite number > 0 and burst a finite number >= 1, `
          + `got perSecond ${limit.perSecond}, burst ${limit.burst}`);
      }
      this.buckets.set(operation, new TokenBucket(limit, nowMs));
    }
  }

  /** Counts a call; returns false when its operation's bucket is empty (the call is to be throttled). */
  admit(operation: string, nowMs: number): boolean {
    let counter = this.counters.get(operation);
    if (!counter) {
      counter = newCounter();
      this.counters.set(operation, counter);
    }
    count(counter, nowMs);
    count(this.all, nowMs);
    const bucket = this.buckets.get(operation);
    if (bucket && !bucket.take(nowMs)) {
      counter.throttled += 1;
      this.all.throttled += 1;
      return false;
    }
    return true;
  }

  /** The rate limits in force. */
  get rateLimits(): Readonly<Record<string, RateLimit>> {
    return this.limits;
  }

  /** Counters per operation that was called at least once. */
  stats(): Record<string, OperationStats> {
    return Object.fromEntries([...this.counters].map(([operation, c]) => [operation, snapshot(c)]));
  }

  /** Counters of all operations together (peakPerSecond: most calls of all operations together in one emulated second). */
  total(): OperationStats {
    return snapshot(this.all);
  }
}

function newCounter(): Counter {
  return { calls: 0, throttled: 0, peakPerSecond: 0, second: -Infinity, inSecond: 0 };
}

function count(c: Counter, nowMs: number): void {
  c.calls += 1;
  const second = Math.floor(nowMs / 1000);
  if (second !== c.second) {
    c.second = second;
    c.inSecond = 0;
  }
  c.inSecond += 1;
  c.peakPerSecond = Math.max(c.peakPerSecond, c.inSecond);
}

function snapshot(c: Counter): OperationStats {
  return { calls: c.calls, throttled: c.throttled, peakPerSecond: c.peakPerSecond };
}
