import { mayReturn, ProtonErrorName } from './errors';

/** What a fault does to the call it hits. */
export type Fault =
  /** 429 ThrottlingException "Rate exceeded". */
  | FaultBase & { readonly kind: 'throttle' }
  /**
   * A Proton error answer (default: 500 InternalServerException). It only hits calls of an operation
   * that may return it in Proton's model (with `'*'`, other calls pass it by).
   */
  | FaultBase & { readonly kind: 'error'; readonly name?: ProtonErrorName; readonly message?: string }
  /** A bare 503 with an HTML body, as a load balancer in front of a service sends it. */
  | FaultBase & { readonly kind: 'unavailable' }
  /** Waits `delayMs` real milliseconds, then answers normally. */
  | FaultBase & { readonly kind: 'slow'; readonly delayMs: number }
  /**
   * Destroys the socket without any response. With `afterApplying`, the call is
   * served first (a cancel takes effect) and only its answer is lost.
   */
  | FaultBase & { readonly kind: 'drop'; readonly afterApplying?: boolean }
  /** 200 with a body that is not valid JSON. */
  | FaultBase & { readonly kind: 'malformed' };

/** What every fault has. */
export interface FaultBase {
  /**
   * How many matching calls this fault hits (`Infinity`: all of them).
   *
   * @default 1
   */
  readonly times?: number;
  /**
   * Only calls about this service (`name` or `serviceName` of the input) match.
   *
   * @default - calls about any service
   */
  readonly serviceName?: string;
  /**
   * How many matching calls pass untouched before this fault hits: 1 lets the
   * first read through and hits the second one.
   *
   * @default 0
   */
  readonly skip?: number;
}

/** Kind of a fault, as recorded on the calls it hit. */
export type FaultKind = Fault['kind'];

interface QueuedFault {
  readonly operation: string;
  readonly fault: Fault;
  remaining: number;
  skipping: number;
}

/** Faults waiting for their calls, in the order they were injected. */
export class FaultQueue {
  private queue: QueuedFault[] = [];

  /** Queues faults for `operation` (`'*'` for any operation). */
  add(operation: string, faults: readonly Fault[]): void {
    for (const fault of faults) {
      const times = fault.times ?? 1;
      if (!(times >= 1)) {
        throw new Error(`fault ${fault.kind} for ${operation}: times must be >= 1, got ${times}`);
      }
      if (operation !== '*' && !hits(fault, operation)) {
        throw new Error(`fault ${fault.kind} for ${operation}: Proton's model does not let ${operation} return ${errorOf(fault)}`);
      }
      if (!(Number.isInteger(fault.skip ?? 0) && (fault.skip ?? 0) >= 0)) {
        throw new Error(`fault ${fault.kind} for ${operation}: skip must be a whole number >= 0, got ${fault.skip}`);
      }
      this.queue.push({ operation, fault, remaining: times, skipping: fault.skip ?? 0 });
    }
  }

  /** Drops every fault still queued. */
  clear(): void {
    this.queue = [];
  }

  /**
   * Takes the first fault matching this call, if any, and uses up one of its
   * times; a fault still skipping counts the call and lets it pass.
   */
  take(operation: string, serviceName: string | undefined): Fault | undefined {
    const matching = this.queue.filter((q) => (q.operation === '*' || q.operation === operation)
      && (q.fault.serviceName === undefined || q.fault.serviceName === serviceName)
      && hits(q.fault, operation));
    let entry: QueuedFault | undefined;
    for (const q of matching) {
      if (q.skipping > 0) {
        q.skipping -= 1;
      } else {
        entry ??= q;
      }
    }
    if (!entry) {
      return undefined;
    }
    entry.remaining -= 1;
    if (entry.remaining <= 0) {
      this.queue = this.queue.filter((q) => q !== entry);
    }
    return entry.fault;
  }
}

/** The error a fault answers, if it is an `error` fault. */
function errorOf(fault: Fault): ProtonErrorName | undefined {
  return fault.kind === 'error' ? fault.name ?? 'InternalServerException' : undefined;
}

/** False for an error fault that `operation` may not return in Proton's model; true for other faults. */
function hits(fault: Fault, operation: string): boolean {
  const error = errorOf(fault);
  return error === undefined || mayReturn(operation, error);
}
