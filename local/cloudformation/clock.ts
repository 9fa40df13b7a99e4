/**
 * Emulated time for the lifecycle: one clock read by the local Proton endpoint,
 * the waiter and every emulated Lambda function's `Date`, so that compressing
 * the waits never changes what the handler decides.
 */
import * as vm from 'vm';

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

/**
 * Idle waits on the emulated clock (the waiter's Retry intervals, Lambda's
 * async retries).
 *
 * On a running clock a wait sleeps its real share of time. On a frozen clock,
 * time jumps only while nothing runs (`busy` says whether something does): then
 * the clock moves to the earliest wait due and wakes every wait due by then, so
 * concurrent executions keep in step and never add up their waits.
 */
export class Waits {
  private sleepers: Array<{ readonly atMs: number; readonly wake: () => void }> = [];
  private flushing?: NodeJS.Timeout;

  constructor(readonly clock: Clock, private readonly busy: () => boolean = () => false) {}

  /** Resolves once `seconds` emulated seconds have passed. */
  sleep(seconds: number): Promise<void> {
    if (this.clock.timeScale > 0) {
      return new Promise((resolve) => setTimeout(resolve, this.clock.realMs(seconds)));
    }
    return new Promise((resolve) => {
      this.sleepers.push({ atMs: this.clock.nowMs() + seconds * 1000, wake: resolve });
      this.flushing ??= setTimeout(() => this.flush(), REAL_PAUSE_MS);
    });
  }

  private flush(): void {
    this.flushing = undefined;
    if (this.busy()) {
      this.flushing = setTimeout(() => this.flush(), REAL_PAUSE_MS);
      return;
    }
    const earliest = Math.min(...this.sleepers.map((s) => s.atMs));
    const now = this.clock.nowMs();
    if (earliest > now) {
      this.clock.advance((earliest - now) / 1000);
    }
    const due = this.sleepers.filter((s) => s.atMs <= this.clock.nowMs());
    this.sleepers = this.sleepers.filter((s) => !due.includes(s));
    due.forEach((s) => s.wake());
    if (this.sleepers.length > 0) {
      this.flushing = setTimeout(() => this.flush(), REAL_PAUSE_MS);
    }
  }
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
