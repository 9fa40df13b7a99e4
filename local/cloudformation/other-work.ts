/**
 * Other work of the account on Lambda: functions that are not the stack's,
 * holding slots of the account's concurrency for spans of emulated time.
 */
import { Waits } from './clock';

/** Slots of the account's concurrency that other work holds for a while. */
export interface ConcurrencyHold {
  readonly slots: number;
  /** Emulated time, epoch milliseconds. */
  readonly fromMs: number;
  readonly untilMs: number;
}

export class OtherWork {
  /** Every hold asked for, in order. */
  readonly holds: ConcurrencyHold[] = [];
  private held = 0;

  /** @param concurrency the account's concurrency: no hold may take more */
  constructor(private readonly waits: Waits, private readonly concurrency: number) {}

  /** Slots held now. */
  get heldNow(): number {
    return this.held;
  }

  /**
   * Holds `slots` for `seconds` of emulated time, from now or from `atMs`.
   *
   * @returns a function that ends the hold early (or cancels it before it starts)
   */
  hold(slots: number, seconds: number, options: { readonly atMs?: number } = {}): () => void {
    if (!Number.isInteger(slots) || slots < 1 || slots > this.concurrency) {
      throw new Error(`hold: slots must be a whole number from 1 to the account's concurrency (${this.concurrency}), got ${slots}`);
    }
    if (!(seconds > 0) || !Number.isFinite(seconds)) {
      throw new Error(`hold: seconds must be a finite number > 0, got ${seconds}`);
    }
    const nowMs = this.waits.clock.nowMs();
    const fromMs = Math.max(nowMs, options.atMs ?? nowMs);
    this.holds.push({ slots, fromMs, untilMs: fromMs + seconds * 1000 });
    let state: 'waiting' | 'holding' | 'ended' = 'waiting';
    let cancelStart = () => {};
    let cancelEnd = () => {};
    const release = () => {
      if (state === 'holding') {
        this.held -= slots;
      }
      state = 'ended';
      cancelStart();
      cancelEnd();
    };
    const start = () => {
      if (state === 'waiting') {
        state = 'holding';
        this.held += slots;
        cancelEnd = this.waits.after(seconds * 1000, release);
      }
    };
    if (fromMs > nowMs) {
      cancelStart = this.waits.after(fromMs - nowMs, start);
    } else {
      start();
    }
    return release;
  }
}
