/**
 * Emulated time for the lifecycle: one clock read by the local Proton endpoint,
 * the waiter and every emulated Lambda function's `Date`, so that compressing
 * the waits never changes what the handler decides.
 */
import * as diagnostics from 'diagnostics_channel';
import * as vm from 'vm';

/** The host's real `process`, even under jest. */
const hostProcess = vm.runInThisContext('process') as NodeJS.Process;

/** The clock the harness runs on; `LocalProton.clock` (an `EmulatedClock`) is one. */
export interface Clock {
  /** Emulated seconds per real second; 0 means frozen: only `advance` moves it. */
  readonly timeScale: number;
  /** Emulated time, epoch milliseconds. */
  nowMs(): number;
  /** Moves emulated time forward. */
  advance(seconds: number): void;
  /** Real milliseconds that `seconds` emulated seconds take (Infinity when frozen). */
  realMs(seconds: number): number;
}

/** Real milliseconds between two checks whether the frozen clock may jump. */
const REAL_PAUSE_MS = 1;
/** Checks in a row that must find nothing running before the frozen clock jumps. */
const QUIET_CHECKS = 3;
/** Where the count of requests in flight is kept on the diagnostics channel, whichever copy of this module loads first. */
const IN_FLIGHT = Symbol.for('cdk-proton-cancel-pipeline-deployment.local.httpInFlight');

/**
 * HTTP requests of this process in flight (the functions' SDK calls to the
 * local endpoints), counted from Node's own diagnostics channel so that every
 * client is seen, however it loaded `http`. The channel is the process's: the
 * count is kept on it, so that loading this module again (each jest test file
 * does) shares one subscription instead of adding one per load, each of which
 * would put a listener on every request.
 */
const http = inFlightRequests();

function inFlightRequests(): { inFlight: number } {
  const channel = diagnostics.channel('http.client.request.start') as diagnostics.Channel & { [IN_FLIGHT]?: { inFlight: number } };
  const existing = channel[IN_FLIGHT];
  if (existing) {
    return existing;
  }
  const counter = { inFlight: 0 };
  channel[IN_FLIGHT] = counter;
  channel.subscribe((message) => {
    counter.inFlight += 1;
    (message as { request: NodeJS.EventEmitter }).request.once('close', () => {
      counter.inFlight -= 1;
    });
  });
  return counter;
}

/**
 * Whether a file system request of this process is pending: the SDK reads its
 * config files, Node's module loader reads what `import()` loads.
 */
function fileWorkPending(): boolean {
  return hostProcess.getActiveResourcesInfo().some((type) => type.startsWith('FSReq'));
}

/** A timer on the emulated clock. */
interface Sleeper {
  readonly atMs: number;
  readonly wake: () => void;
  cancelled: boolean;
}

/**
 * Waits on the emulated clock: the waiter's Retry intervals, Lambda's retries,
 * and every timer the functions' own code sets (the SDK's retry backoff, its
 * time budgets).
 *
 * On a running clock a wait sleeps its real share of time. On a frozen clock,
 * time jumps only while nothing runs: no HTTP request in flight, no host timer
 * of a function pending, and `busy` false, for a few checks in a row. Then the
 * clock moves to the earliest wait due and wakes every wait due by then, so
 * concurrent executions keep in step and never add up their waits. The code's
 * own work takes no emulated time.
 */
export class Waits {
  /** Pending waits, the earliest first. */
  private sleepers: Sleeper[] = [];
  private flushing = false;
  private quiet = 0;
  /** Host work of the functions pending (zero-delay timers): it keeps the clock still. */
  private held = 0;

  constructor(readonly clock: Clock, private readonly busy: () => boolean = () => false) {}

  /** Resolves once `seconds` emulated seconds have passed. */
  sleep(seconds: number): Promise<void> {
    return new Promise((resolve) => this.after(seconds * 1000, resolve));
  }

  /**
   * Calls `wake` once `ms` emulated milliseconds have passed, unless cancelled.
   *
   * @returns a function that cancels the wait
   */
  after(ms: number, wake: () => void): () => void {
    if (this.clock.timeScale > 0) {
      const timer = setTimeout(wake, this.clock.realMs(ms / 1000));
      return () => clearTimeout(timer);
    }
    if (ms <= 0) {
      // No emulated time to wait: the host's next turn, as Node runs it.
      const settle = this.hold();
      const timer = setTimeout(() => {
        settle();
        wake();
      }, 0);
      return () => {
        clearTimeout(timer);
        settle();
      };
    }
    const sleeper: Sleeper = { atMs: this.clock.nowMs() + ms, wake, cancelled: false };
    // Binary search: the first pending wait due later than this one.
    let low = 0;
    for (let high = this.sleepers.length; low < high;) {
      const middle = (low + high) >>> 1;
      if (this.sleepers[middle].atMs <= sleeper.atMs) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    this.sleepers.splice(low, 0, sleeper);
    this.schedule(0);
    return () => {
      sleeper.cancelled = true;
    };
  }

  /** Keeps the frozen clock still until the returned function is called. */
  hold(): () => void {
    this.held += 1;
    let pending = true;
    return () => {
      if (pending) {
        pending = false;
        this.held -= 1;
      }
    };
  }

  /** `setTimeout`, `clearTimeout` and `AbortSignal` for a function's code, on this clock. */
  sandboxTimers(): SandboxTimers {
    return sandboxTimers(this);
  }

  /** Checks again after `realMs` real milliseconds (0: at the host's next turn), unless a check is pending. */
  private schedule(realMs: number): void {
    if (this.flushing) {
      return;
    }
    this.flushing = true;
    const check = () => {
      this.flushing = false;
      this.flush();
    };
    if (realMs > 0) {
      setTimeout(check, realMs);
    } else {
      setImmediate(check);
    }
  }

  private flush(): void {
    while (this.sleepers.length > 0 && this.sleepers[0].cancelled) {
      this.sleepers.shift();
    }
    if (this.sleepers.length === 0) {
      return;
    }
    if (this.busy() || http.inFlight > 0 || this.held > 0 || fileWorkPending()) {
      this.quiet = 0;
      this.schedule(REAL_PAUSE_MS);
      return;
    }
    // Quiet: confirm over the host's next turns (an answer just read may still be on its way to its caller).
    this.quiet += 1;
    if (this.quiet < QUIET_CHECKS) {
      this.schedule(0);
      return;
    }
    this.quiet = 0;
    const earliest = this.sleepers[0].atMs;
    const now = this.clock.nowMs();
    if (earliest > now) {
      this.clock.advance((earliest - now) / 1000);
    }
    let due = 0;
    while (due < this.sleepers.length && this.sleepers[due].atMs <= earliest) {
      due += 1;
    }
    this.sleepers.splice(0, due).filter((s) => !s.cancelled).forEach((s) => s.wake());
    if (this.sleepers.length > 0) {
      this.schedule(0);
    }
  }
}

/** The timer globals a function's code sees. */
export interface SandboxTimers {
  readonly setTimeout: typeof setTimeout;
  readonly clearTimeout: typeof clearTimeout;
  readonly AbortSignal: typeof AbortSignal;
}

/**
 * Timers on the emulated clock, shaped like Node's: `setTimeout` returns an
 * object with `ref`/`unref`/`hasRef`/`refresh` that converts to a number id,
 * and `clearTimeout` takes either; `AbortSignal.timeout` aborts on the clock.
 */
function sandboxTimers(waits: Waits): SandboxTimers {
  const cancels = new Map<number, () => void>();
  let nextId = 1;
  const clear = (timer: unknown) => {
    const id = Number(timer);
    cancels.get(id)?.();
    cancels.delete(id);
  };
  const set = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const id = nextId++;
    const delay = Number.isFinite(Number(ms)) ? Math.max(0, Number(ms)) : 0;
    const arm = () => waits.after(delay, () => {
      cancels.delete(id);
      callback(...args);
    });
    cancels.set(id, arm());
    const timer = {
      ref: () => timer,
      unref: () => timer,
      hasRef: () => true,
      refresh: () => {
        cancels.get(id)?.();
        cancels.set(id, arm());
        return timer;
      },
      [Symbol.toPrimitive]: () => id,
    };
    return timer;
  };
  const hostAbortSignal = AbortSignal;
  const timeout = (ms: number) => {
    const controller = new AbortController();
    set(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), ms);
    return controller.signal;
  };
  return {
    setTimeout: set as unknown as typeof setTimeout,
    clearTimeout: clear as typeof clearTimeout,
    AbortSignal: new Proxy(hostAbortSignal, {
      get: (target, property, receiver) => property === 'timeout' ? timeout : Reflect.get(target, property, receiver),
    }),
  };
}

/**
 * A `performance` whose `now()` (the monotonic clock) moves with the emulated
 * clock, from 0 when the environment starts; every other member is the host's.
 */
export function emulatedPerformance(clock: Clock): typeof performance {
  const originMs = clock.nowMs();
  const now = () => clock.nowMs() - originMs;
  return new Proxy(performance, {
    get: (target, property) => {
      if (property === 'now') {
        return now;
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * A `Date` constructor of the host's main realm whose "now" is the emulated
 * clock: `Date.now()` and `new Date()`; every other use is the real `Date`.
 */
export function emulatedDate(clock: Clock): DateConstructor {
  const RealDate = vm.runInThisContext('Date') as DateConstructor;
  const now = () => clock.nowMs();
  return new Proxy(RealDate, {
    construct: (target, args, newTarget) => Reflect.construct(target, args.length === 0 ? [now()] : args, newTarget),
    apply: () => new RealDate(now()).toString(),
    get: (target, property, receiver) => property === 'now' ? now : Reflect.get(target, property, receiver),
  });
}
