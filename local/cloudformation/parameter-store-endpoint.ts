/**
 * A local AWS Systems Manager endpoint for the emulated Parameter Store: it
 * speaks the real wire protocol (AWS JSON 1.1: a POST with
 * `X-Amz-Target: AmazonSSM.<operation>`, errors as `__type` and `message`), so
 * that a function's unmodified `@aws-sdk/client-ssm` reaches it through
 * `AWS_ENDPOINT_URL_SSM`. It serves `PutParameter`, `GetParameter` and
 * `DeleteParameter`, checks each call against the emulated IAM
 * (`ssm:<operation>` on the parameter's ARN), and can be told to fail calls
 * (throttling, server errors, dropped connections) and to limit their rate.
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import { RateLimit, RateLimiter } from '../proton/rate-limits';
import type { OperationStats } from '../proton/rate-limits';
import { LocalServer } from './local-server';
import { ParameterStore, ParameterStoreError, StoredParameter } from './parameter-store';

const TARGET_PREFIX = 'AmazonSSM.';
const OPERATIONS = ['PutParameter', 'GetParameter', 'DeleteParameter'] as const;
export type ParameterStoreOperation = typeof OPERATIONS[number];

/**
 * Default rates, per operation, as token buckets on the emulated clock.
 * `GetParameter`: AWS's published default throughput, 40 per second (shared
 * with GetParameters and GetParametersByPath, which are not emulated).
 * `PutParameter` and `DeleteParameter`: AWS publishes no figure for the
 * standard throughput; 3 per second is an assumption on the low side (the
 * figure AWS Support gave users for PutParameter). Buckets hold one second's
 * calls.
 */
export const DEFAULT_PARAMETER_STORE_RATE_LIMITS: Readonly<Record<ParameterStoreOperation, RateLimit>> = {
  GetParameter: { perSecond: 40, burst: 40 },
  PutParameter: { perSecond: 3, burst: 3 },
  DeleteParameter: { perSecond: 3, burst: 3 },
};

/** A fault the endpoint answers instead of serving a call. */
export type ParameterStoreFault = ParameterStoreFaultTarget & (
  /**
   * `ThrottlingException` "Rate exceeded": status 400, as SSM answers it (e.g. "StatusCode: 400 ... api error
   * ThrottlingException: Rate exceeded" from GetParameter), or 429.
   */
  | { readonly kind: 'throttle'; readonly status?: 400 | 429 }
  /** 500 `InternalServerError`, the error of the SSM model. */
  | { readonly kind: 'internal-error' }
  /** A bare 503 with an HTML body, as a load balancer in front of a service sends it. */
  | { readonly kind: 'unavailable' }
  /**
   * The connection closes without an answer. With `afterApplying`, the call
   * is served first (a parameter may be written or deleted) and only its
   * answer is lost.
   */
  | { readonly kind: 'drop'; readonly afterApplying?: boolean });

export interface ParameterStoreFaultTarget {
  /** Calls it hits (`Infinity`: all). @default 1 */
  readonly times?: number;
  /** Only calls about this parameter name. @default - any parameter */
  readonly name?: string;
}

/** One call received. It never holds a parameter's value. */
export interface ParameterStoreCall {
  readonly operation: string;
  /** The parameter's name, as sent. */
  readonly name?: string;
  /** From the SigV4 `Authorization` header. */
  readonly accessKeyId?: string;
  /** Emulated time, epoch milliseconds. */
  readonly atMs: number;
  /** HTTP status answered, or `'dropped'`. */
  readonly status: number | 'dropped';
  readonly errorType?: string;
  /** The injected fault that answered it. */
  readonly fault?: ParameterStoreFault['kind'];
  /** Refused by the rate limit. */
  readonly throttled?: boolean;
}

export interface LocalParameterStoreOptions {
  /** `arn:<partition>:ssm:<region>:<account>:parameter`: parameter ARNs start with it. */
  readonly arnPrefix: string;
  /** Emulated time now, epoch milliseconds. */
  nowMs(): number;
  /**
   * Whether the caller with this access key may call `ssm:<operation>` on the
   * parameter's ARN (otherwise `AccessDeniedException`).
   *
   * @default - every caller may
   */
  isAllowed?(accessKeyId: string | undefined, action: string, resource: string): boolean;
  /**
   * Rate per operation; `false` for none.
   *
   * @default DEFAULT_PARAMETER_STORE_RATE_LIMITS
   */
  readonly rateLimits?: Readonly<Record<string, RateLimit>> | false;
}

interface QueuedFault {
  readonly operation: string;
  readonly fault: ParameterStoreFault;
  remaining: number;
}

export class LocalParameterStore {
  static async start(options: LocalParameterStoreOptions): Promise<LocalParameterStore> {
    const endpoint = new LocalParameterStore(options);
    endpoint.server = await LocalServer.start((req, body, res) => endpoint.handle(req, body, res));
    return endpoint;
  }

  readonly calls: ParameterStoreCall[] = [];
  readonly store: ParameterStore;
  private server!: LocalServer;
  private faults: QueuedFault[] = [];
  private readonly limiter: RateLimiter;

  private constructor(private readonly options: LocalParameterStoreOptions) {
    this.store = new ParameterStore(options.arnPrefix);
    const limits = options.rateLimits === false ? {} : options.rateLimits ?? DEFAULT_PARAMETER_STORE_RATE_LIMITS;
    this.limiter = new RateLimiter(limits, options.nowMs());
  }

  /** Base URL, for `AWS_ENDPOINT_URL_SSM`. */
  get endpoint(): string {
    return this.server.url;
  }

  /** The parameters stored now (values included). */
  parameters(): StoredParameter[] {
    return this.store.parameters();
  }

  /** Calls per operation: `{ calls, throttled, peakPerSecond }`. */
  requestStats(): Record<string, OperationStats> {
    return this.limiter.stats();
  }

  /** Queues faults for the next calls of `operation` (`'*'`: any), in order. */
  injectFaults(operation: ParameterStoreOperation | '*', ...faults: ParameterStoreFault[]): void {
    for (const fault of faults) {
      const times = fault.times ?? 1;
      if (!(times >= 1)) {
        throw new Error(`fault ${fault.kind} for ${operation}: times must be >= 1, got ${times}`);
      }
      this.faults.push({ operation, fault, remaining: times });
    }
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }

  private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const accessKeyId = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    const atMs = this.options.nowMs();
    let input: Record<string, unknown> = {};
    const record = (call: Omit<ParameterStoreCall, 'operation' | 'name' | 'accessKeyId' | 'atMs'>) =>
      this.calls.push({ operation, name: typeof input.Name === 'string' ? input.Name : undefined, accessKeyId, atMs, ...call });
    const answer = (status: number, payload: object, errorType?: string, extra: Partial<ParameterStoreCall> = {}) => {
      record({ status, errorType, ...extra });
      res.writeHead(status, {
        'Content-Type': 'application/x-amz-json-1.1',
        'x-amzn-RequestId': randomUUID(),
        'Date': new Date(atMs).toUTCString(),
        ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
      });
      res.end(JSON.stringify(payload));
    };
    const fail = (errorType: string, message: string, status = 400, extra: Partial<ParameterStoreCall> = {}) =>
      answer(status, { __type: errorType, message }, errorType, extra);

    if (req.method !== 'POST' || !target.startsWith(TARGET_PREFIX) || !(OPERATIONS as readonly string[]).includes(operation)) {
      return fail('UnknownOperationException', `Operation ${target || '(none)'} is not served by the local Parameter Store endpoint (${OPERATIONS.join(', ')})`);
    }
    try {
      input = JSON.parse(body || '{}') as Record<string, unknown>;
    } catch {
      return fail('SerializationException', 'The request body is not JSON');
    }
    const fault = this.takeFault(operation, input.Name);
    if (fault?.kind === 'throttle') {
      return fail('ThrottlingException', 'Rate exceeded', fault.status ?? 400, { fault: 'throttle' });
    }
    if (fault?.kind === 'internal-error') {
      return fail('InternalServerError', 'An error occurred on the server side.', 500, { fault: 'internal-error' });
    }
    if (fault?.kind === 'unavailable') {
      record({ status: 503, fault: 'unavailable' });
      res.writeHead(503, { 'Content-Type': 'text/html' });
      return void res.end('<html><body><h1>503 Service Unavailable</h1></body></html>');
    }
    const drop = () => {
      record({ status: 'dropped', fault: 'drop' });
      req.socket.destroy();
    };
    if (fault?.kind === 'drop' && !fault.afterApplying) {
      return drop();
    }
    if (!this.limiter.admit(operation, atMs)) {
      return fail('ThrottlingException', 'Rate exceeded', 400, { throttled: true });
    }
    const action = `ssm:${operation}`;
    if (typeof input.Name === 'string' && !(this.options.isAllowed?.(accessKeyId, action, this.store.arnOf(input.Name.trim())) ?? true)) {
      const resource = this.store.arnOf(input.Name.trim());
      return fail('AccessDeniedException', `User: ${accessKeyId ?? 'anonymous'} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`);
    }
    let output: object;
    try {
      output = this.serve(operation as ParameterStoreOperation, input, atMs);
    } catch (error) {
      if (fault?.kind === 'drop') {
        return drop();
      }
      if (error instanceof ParameterStoreError) {
        return fail(error.name, error.message);
      }
      // A fault of the emulation: answered as the service's own fault, with what went wrong.
      return fail('InternalServerError', String(error), 500);
    }
    return fault?.kind === 'drop' ? drop() : answer(200, output);
  }

  private serve(operation: ParameterStoreOperation, input: Record<string, unknown>, nowMs: number): object {
    switch (operation) {
      case 'PutParameter': {
        const { version, tier } = this.store.put({ name: input.Name as string, value: input.Value, type: input.Type, overwrite: input.Overwrite, tier: input.Tier }, nowMs);
        return { Version: version, Tier: tier };
      }
      case 'GetParameter':
        return { Parameter: this.store.get(input.Name, input.WithDecryption === true) };
      case 'DeleteParameter':
        this.store.delete(input.Name);
        return {};
    }
  }

  /** The first queued fault for this call, one of its times used up. */
  private takeFault(operation: string, name: unknown): ParameterStoreFault | undefined {
    const entry = this.faults.find((q) => (q.operation === '*' || q.operation === operation) && (q.fault.name === undefined || q.fault.name === name));
    if (!entry) {
      return undefined;
    }
    entry.remaining -= 1;
    if (entry.remaining <= 0) {
      this.faults = this.faults.filter((q) => q !== entry);
    }
    return entry.fault;
  }
}
