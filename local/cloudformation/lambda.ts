/**
 * Emulated AWS Lambda for the functions of a stack: the unmodified code of each
 * function's asset runs in execution environments (warm containers, a new one
 * for each concurrent invocation), with the function's environment variables
 * and the Lambda Node.js runtime's invoke contract: JSON payload in, JSON
 * payload out, and an unhandled error as `FunctionError: 'Unhandled'` with
 * `{ errorType, errorMessage, trace }`.
 *
 * The account's concurrency is a pool of slots: an invocation holds one while
 * it runs (in emulated time). Over the limit, a synchronous invocation is
 * refused with `TooManyRequestsException` (HTTP 429, as the Lambda API answers),
 * and an asynchronous one goes back to the queue and is retried, as Lambda does.
 */
import { randomUUID } from 'crypto';
import * as path from 'path';
import { format } from 'util';
import * as vm from 'vm';
import { Clock, emulatedDate, emulatedPerformance, Waits } from './clock';
import { ModuleLoader, sandboxProcess } from './module-loader';
import { ConcurrencyHold, OtherWork } from './other-work';

/** A function as the stack defines it, resolved. */
export interface FunctionDefinition {
  readonly logicalId: string;
  readonly functionName: string;
  readonly arn: string;
  /** `file.export`, e.g. `index.onEvent`. */
  readonly handler: string;
  readonly codeDirectory: string;
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  /** Every environment variable the function sees: its own and the runtime's. */
  readonly environment: Readonly<Record<string, string>>;
  /** `LoggingConfig.ApplicationLogLevel`: records below it are dropped. */
  readonly applicationLogLevel?: string;
}

/** One line an invocation logged, as the Lambda runtime records `console` calls. */
export interface LogRecord {
  readonly functionLogicalId: string;
  /** Lambda's request id of the invocation. */
  readonly requestId: string;
  readonly level: LogLevel;
  readonly message: string;
  /** Emulated time, ISO 8601. */
  readonly timestamp: string;
  /** False when the function's ApplicationLogLevel drops it (it never reaches CloudWatch). */
  readonly written: boolean;
  /** What the caller tagged the invocation with (the CloudFormation request id). */
  readonly tag?: string;
}

export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';
const LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/** What `Lambda.invoke` answers. */
export interface InvokeOutput {
  readonly StatusCode: number;
  readonly FunctionError?: 'Unhandled';
  readonly ExecutedVersion: string;
  readonly Payload: Uint8Array;
}

/** One invocation, for assertions. */
export interface InvocationRecord {
  readonly functionLogicalId: string;
  readonly requestId: string;
  /** The event's RequestType, when it has one. */
  readonly requestType?: string;
  readonly coldStart: boolean;
  /** Set once it ends: `errorType` of a failed invocation, or 'ok'. */
  outcome?: string;
  readonly tag?: string;
}

/** Lambda's limit on a synchronous invocation's response payload. */
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

interface Container {
  readonly handler: (event: unknown, context: unknown) => unknown;
  current?: { readonly requestId: string; readonly tag?: string };
  busy: boolean;
}

/** What the Lambda API answers an invocation over the account's concurrency: HTTP 429. */
export class TooManyRequestsException extends Error {
  readonly name = 'TooManyRequestsException';
  readonly Type = 'User';
  readonly Reason = 'ConcurrentInvocationLimitExceeded';
  readonly $fault = 'client';
  readonly $metadata = { httpStatusCode: 429 };

  constructor() {
    super('Rate Exceeded.');
    // Named as the SDK names it, in the stack too.
    this.stack = `${this.name}: ${this.message}${(this.stack ?? '').slice((this.stack ?? '').indexOf('\n'))}`;
  }
}

/** An invocation the account's concurrency refused (sync) or sent back to the queue (async). */
export interface ThrottleRecord {
  readonly functionLogicalId: string;
  readonly invocationType: 'RequestResponse' | 'Event';
  /** Emulated time, epoch milliseconds. */
  readonly atMs: number;
}

/** How an asynchronous invocation ended. */
export type AsyncOutcome = 'ok' | 'function-error' | 'expired';

/** Lambda's account concurrency quota before any increase. */
export const DEFAULT_CONCURRENCY = 1000;
/** Lambda's retries of an asynchronous invocation that returned an error: after 1 minute, then 2. */
const ASYNC_RETRY_SECONDS = [60, 120];
/** An event throttled by concurrency goes back to the queue, retried 1 s later, then twice as late each time, up to 5 minutes... */
const ASYNC_THROTTLE_FIRST_SECONDS = 1;
const ASYNC_THROTTLE_MAX_SECONDS = 300;
/** ...until the event is 6 hours old (the default maximum event age); then it is dropped. */
const MAX_EVENT_AGE_SECONDS = 6 * 3600;

export interface LocalLambdaOptions {
  readonly clock: Clock;
  /** Waits on the clock: the functions' timers, timeouts and Lambda's own retries. */
  readonly waits: Waits;
  /**
   * The account's concurrency: invocations that may run at once, all functions together.
   *
   * @default 1000
   */
  readonly concurrency?: number;
  /**
   * Emulated milliseconds every invocation lasts on top of its own waits: the
   * network time of its calls and the runtime's overhead, which the frozen
   * clock does not see. Its concurrency slot stays taken meanwhile.
   *
   * @default 0
   */
  readonly invocationOverheadMs?: number;
  /** Called with every log record as it is written. */
  readonly onLog?: (record: LogRecord) => void;
}

export class LocalLambda {
  readonly logs: LogRecord[] = [];
  readonly invocations: InvocationRecord[] = [];
  /** Invocations refused or sent back to the queue for lack of concurrency. */
  readonly throttles: ThrottleRecord[] = [];
  /** The account's concurrency. */
  readonly concurrency: number;
  /** Most invocations of the stack's functions that ran at once (other work's holds not counted). */
  peakConcurrency = 0;
  /** Invocations running now: the slots taken. */
  private running = 0;
  /** Slots that other work of the account holds. */
  private readonly otherWork: OtherWork;
  /** The invocations running now, with their tags. */
  private readonly inFlight = new Set<{ readonly tag?: string; readonly ended: Promise<unknown> }>();
  private readonly functions = new Map<string, FunctionDefinition>();
  private readonly containers = new Map<string, Container[]>();
  private readonly hostJson = vm.runInThisContext('JSON') as JSON;

  constructor(private readonly options: LocalLambdaOptions) {
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new Error(`concurrency must be a whole number of at least 1, got ${this.concurrency}`);
    }
    this.otherWork = new OtherWork(options.waits, this.concurrency);
  }

  add(fn: FunctionDefinition): void {
    this.functions.set(fn.arn, fn);
    this.containers.set(fn.arn, []);
  }

  /** The function behind an ARN. */
  get(arn: string): FunctionDefinition {
    const fn = this.functions.get(arn);
    if (!fn) {
      throw Object.assign(new Error(`Function not found: ${arn}`), { name: 'ResourceNotFoundException' });
    }
    return fn;
  }

  /** Invocations running now. */
  get runningNow(): number {
    return this.running;
  }

  /** Slots of the account's concurrency free now. */
  get freeSlots(): number {
    return Math.max(0, this.concurrency - this.running - this.otherWork.heldNow);
  }

  /**
   * Other work of the account (other functions) holds `slots` of its
   * concurrency for `seconds` of emulated time, from now or from `atMs`: the
   * stack's invocations find that much less of the pool meanwhile.
   *
   * @returns a function that ends the hold early
   */
  hold(slots: number, seconds: number, options: { readonly atMs?: number } = {}): () => void {
    return this.otherWork.hold(slots, seconds, options);
  }

  /** What other work held of the account's concurrency (see `hold`). */
  get holds(): readonly ConcurrencyHold[] {
    return this.otherWork.holds;
  }

  /**
   * A synchronous (RequestResponse) invocation. Over the account's concurrency
   * it throws `TooManyRequestsException`, as the Lambda API refuses it.
   *
   * @param tag recorded with the invocation and its logs
   */
  async invoke(arn: string, payload: string, tag?: string): Promise<InvokeOutput> {
    const fn = this.get(arn);
    if (this.freeSlots === 0) {
      this.throttles.push({ functionLogicalId: fn.logicalId, invocationType: 'RequestResponse', atMs: this.options.clock.nowMs() });
      throw new TooManyRequestsException();
    }
    this.running += 1;
    this.peakConcurrency = Math.max(this.peakConcurrency, this.running);
    const ended = this.run(arn, payload, tag);
    const entry = { tag, ended };
    this.inFlight.add(entry);
    try {
      const output = await ended;
      if (this.options.invocationOverheadMs) {
        await this.options.waits.sleep(this.options.invocationOverheadMs / 1000);
      }
      return output;
    } finally {
      this.running -= 1;
      this.inFlight.delete(entry);
    }
  }

  /** Resolves once no invocation tagged `tag` is running (those that start meanwhile included). */
  async settled(tag: string): Promise<void> {
    for (;;) {
      const running = [...this.inFlight].filter((i) => i.tag === tag);
      if (running.length === 0) {
        return;
      }
      await Promise.allSettled(running.map((i) => i.ended));
    }
  }

  /**
   * An asynchronous (Event) invocation, as Lambda's queue runs it: an event
   * throttled by concurrency goes back to the queue and is retried with
   * backoff until it is 6 hours old; an event whose invocation returns an
   * error is retried twice, after 1 and 2 minutes.
   */
  async invokeAsync(arn: string, payload: string, tag?: string): Promise<AsyncOutcome> {
    const fn = this.get(arn);
    const queuedAtMs = this.options.clock.nowMs();
    for (let throttled = 0, failed = 0; ;) {
      if (this.freeSlots === 0) {
        this.throttles.push({ functionLogicalId: fn.logicalId, invocationType: 'Event', atMs: this.options.clock.nowMs() });
        // Jittered within the doubled interval, so that queued events do not all come back at once.
        const interval = Math.min(ASYNC_THROTTLE_MAX_SECONDS, ASYNC_THROTTLE_FIRST_SECONDS * 2 ** throttled);
        const seconds = interval / 2 + Math.random() * interval / 2;
        if ((this.options.clock.nowMs() - queuedAtMs) / 1000 + seconds > MAX_EVENT_AGE_SECONDS) {
          return 'expired';
        }
        throttled += 1;
        await this.options.waits.sleep(seconds);
        continue;
      }
      const output = await this.invoke(arn, payload, tag);
      if (!output.FunctionError) {
        return 'ok';
      }
      if (failed >= ASYNC_RETRY_SECONDS.length) {
        return 'function-error';
      }
      await this.options.waits.sleep(ASYNC_RETRY_SECONDS[failed++]);
    }
  }

  private async run(arn: string, payload: string, tag?: string): Promise<InvokeOutput> {
    const fn = this.get(arn);
    const requestId = randomUUID();
    const event = this.hostJson.parse(payload) as { RequestType?: string } | null;
    const pool = this.containers.get(arn)!;
    let container = pool.find((c) => !c.busy);
    const record: InvocationRecord = { functionLogicalId: fn.logicalId, requestId, requestType: event?.RequestType, coldStart: !container, tag };
    this.invocations.push(record);
    try {
      container ??= this.start(fn, pool);
    } catch (error) {
      record.outcome = 'Runtime.ImportModuleError';
      return errorOutput(errorPayload(error, 'Runtime.ImportModuleError'));
    }
    container.busy = true;
    container.current = { requestId, tag };
    const deadline = Date.now() + fn.timeoutSeconds * 1000;
    const context = {
      functionName: fn.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: fn.arn,
      memoryLimitInMB: String(fn.memorySize),
      awsRequestId: requestId,
      logGroupName: fn.environment.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: fn.environment.AWS_LAMBDA_LOG_STREAM_NAME,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let cancelTimeout: (() => void) | undefined;
    try {
      const timedOut = new Promise<never>((_, reject) => {
        cancelTimeout = this.options.waits.after(fn.timeoutSeconds * 1000, () => reject(new TimedOut(fn.timeoutSeconds)));
      });
      const result = await Promise.race([Promise.resolve(container.handler(event, context)), timedOut]);
      const json = JSON.stringify(result) ?? 'null';
      if (Buffer.byteLength(json) > MAX_RESPONSE_BYTES) {
        record.outcome = 'Function.ResponseSizeTooLarge';
        return errorOutput({ errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).` });
      }
      record.outcome = 'ok';
      return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: Buffer.from(json) };
    } catch (error) {
      if (error instanceof TimedOut) {
        // Lambda stops the environment; a late result of this one is never used.
        pool.splice(pool.indexOf(container), 1);
        record.outcome = 'Sandbox.Timedout';
        this.log(fn, container, 'ERROR', `RequestId: ${requestId} Error: Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`);
        return errorOutput({ errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds` });
      }
      const body = errorPayload(error);
      record.outcome = body.errorType;
      // The runtime logs the error it returns.
      this.log(fn, container, 'ERROR', `Invoke Error ${JSON.stringify(body)}`);
      return errorOutput(body);
    } finally {
      cancelTimeout?.();
      container.busy = false;
      container.current = undefined;
    }
  }

  /** Starts an execution environment: loads the handler's module (the "init" phase). */
  private start(fn: FunctionDefinition, pool: Container[]): Container {
    const [file, exportName] = splitHandler(fn.handler);
    // Logs of the init phase have no invocation; later ones belong to the environment's current one.
    const started: { container?: Container } = {};
    const console = this.console(fn, () => started.container);
    const loader = new ModuleLoader({
      process: sandboxProcess({ ...fn.environment }, (text) => this.log(fn, started.container, 'WARN', text)),
      console,
      Date: emulatedDate(this.options.clock),
      performance: emulatedPerformance(this.options.clock),
      ...this.options.waits.sandboxTimers(),
    });
    const module = loader.load(path.join(fn.codeDirectory, `${file}.js`)) as Record<string, unknown>;
    const handler = module[exportName];
    if (typeof handler !== 'function') {
      throw Object.assign(new Error(`${fn.handler} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
    }
    const container: Container = { handler: handler as Container['handler'], busy: false };
    started.container = container;
    pool.push(container);
    return container;
  }

  /** The `console` of an environment: each call is one log record of the current invocation. */
  private console(fn: FunctionDefinition, current: () => Container | undefined): Console {
    const at = (level: LogLevel) => (...args: unknown[]) => this.log(fn, current(), level, format(...args));
    return {
      log: at('INFO'), info: at('INFO'), warn: at('WARN'), error: at('ERROR'), debug: at('DEBUG'), trace: at('TRACE'),
    } as unknown as Console;
  }

  private log(fn: FunctionDefinition, container: Container | undefined, level: LogLevel, message: string): void {
    const threshold = LEVELS.indexOf((fn.applicationLogLevel ?? 'TRACE') as LogLevel);
    const record: LogRecord = {
      functionLogicalId: fn.logicalId,
      requestId: container?.current?.requestId ?? 'init',
      level,
      message,
      timestamp: new Date(this.options.clock.nowMs()).toISOString(),
      written: LEVELS.indexOf(level) >= threshold,
      tag: container?.current?.tag,
    };
    this.logs.push(record);
    this.options.onLog?.(record);
  }
}

class TimedOut extends Error {
  constructor(seconds: number) {
    super(`timed out after ${seconds} s`);
  }
}

function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}

/** The body the Lambda Node.js runtime returns for an unhandled error. */
function errorPayload(error: unknown, errorType?: string): { errorType: string; errorMessage: string; trace?: string[] } {
  const e = error as { name?: string; message?: string; stack?: string } | undefined;
  if (e && typeof e === 'object' && typeof e.message === 'string') {
    return { errorType: errorType ?? e.name ?? 'Error', errorMessage: e.message, trace: (e.stack ?? '').split('\n') };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

function errorOutput(body: object): InvokeOutput {
  return { StatusCode: 200, FunctionError: 'Unhandled', ExecutedVersion: '$LATEST', Payload: Buffer.from(JSON.stringify(body)) };
}
