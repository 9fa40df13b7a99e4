/**
 * Emulated AWS Lambda for the functions of a stack: the unmodified code of each
 * function's asset runs in execution environments (warm containers, a new one
 * for each concurrent invocation), with the function's environment variables
 * and the Lambda Node.js runtime's invoke contract: JSON payload in, JSON
 * payload out, and an unhandled error as `FunctionError: 'Unhandled'` with
 * `{ errorType, errorMessage, trace }`.
 */
import { randomUUID } from 'crypto';
import * as path from 'path';
import { format } from 'util';
import * as vm from 'vm';
import { Clock, emulatedDate } from './clock';
import { ModuleLoader, sandboxProcess } from './module-loader';

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
  /** Modules the runtime provides outside the function's code (by name). */
  readonly runtimeModules?: Readonly<Record<string, unknown>>;
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

/** What `Lambda.invoke` answers (the fields the provider framework reads). */
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
  /** The loaded code of the environment, to reach its other modules. */
  readonly loader: ModuleLoader;
  current?: { readonly requestId: string; readonly tag?: string };
  busy: boolean;
}

export interface LocalLambdaOptions {
  readonly clock: Clock;
  /** Called with every log record as it is written. */
  readonly onLog?: (record: LogRecord) => void;
  /** Called when an environment starts, before its first invocation (to wire its modules). */
  readonly onColdStart?: (fn: FunctionDefinition, loader: ModuleLoader) => void;
}

export class LocalLambda {
  readonly logs: LogRecord[] = [];
  readonly invocations: InvocationRecord[] = [];
  /** Invocations running now. */
  private running = 0;
  private readonly functions = new Map<string, FunctionDefinition>();
  private readonly containers = new Map<string, Container[]>();
  private readonly hostJson = vm.runInThisContext('JSON') as JSON;

  constructor(private readonly options: LocalLambdaOptions) {}

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

  /** Whether an invocation is running. */
  get busy(): boolean {
    return this.running > 0;
  }

  /**
   * A synchronous (RequestResponse) invocation.
   *
   * @param tag recorded with the invocation and its logs
   */
  async invoke(arn: string, payload: string, tag?: string): Promise<InvokeOutput> {
    this.running += 1;
    try {
      return await this.run(arn, payload, tag);
    } finally {
      this.running -= 1;
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
    let timer: NodeJS.Timeout | undefined;
    try {
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimedOut(fn.timeoutSeconds)), fn.timeoutSeconds * 1000);
        timer.unref();
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
      clearTimeout(timer);
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
    }, fn.runtimeModules);
    const module = loader.load(path.join(fn.codeDirectory, `${file}.js`)) as Record<string, unknown>;
    const handler = module[exportName];
    if (typeof handler !== 'function') {
      throw Object.assign(new Error(`${fn.handler} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
    }
    this.options.onColdStart?.(fn, loader);
    const container: Container = { handler: handler as Container['handler'], loader, busy: false };
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
