/**
 * The emulated clock of the local Proton endpoint.
 *
 * Emulated time runs `timeScale` times faster than real time (so a 120 s cancellation takes
 * 1.2 s at a scale of 100) and can also be moved forward by hand with `advance`. A scale of 0
 * freezes it: only `advance` moves it, which makes tests fully deterministic.
 */
export class EmulatedClock {
  private readonly startMs: number;
  private readonly realStart = performance.now();
  private advancedMs = 0;

  /**
   * @param timeScale emulated seconds per real second (0 freezes the clock)
   * @param start emulated time at creation
   */
  constructor(readonly timeScale = 1, start: Date = new Date()) {
    if (!(timeScale >= 0) || !Number.isFinite(timeScale)) {
      throw new Error(`timeScale must be a finite number >= 0, got ${timeScale}`);
    }
    this.startMs = start.getTime();
  }

  /** Emulated time in epoch milliseconds (whole milliseconds, like Proton's timestamps). */
  nowMs(): number {
    return Math.floor(this.startMs + (performance.now() - this.realStart) * this.timeScale + this.advancedMs);
  }

  /** Emulated time as a `Date`. */
  now(): Date {
    return new Date(this.nowMs());
  }

  /** Moves emulated time forward by `seconds` emulated seconds. */
  advance(seconds: number): void {
    if (!(seconds >= 0)) {
      throw new Error(`advance takes emulated seconds >= 0, got ${seconds}`);
    }
    this.advancedMs += seconds * 1000;
  }

  /** Real milliseconds that `seconds` emulated seconds take at this scale (Infinity when frozen). */
  realMs(seconds: number): number {
    return this.timeScale === 0 ? Infinity : (seconds * 1000) / this.timeScale;
  }
}
