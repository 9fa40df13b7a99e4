import * as http from 'http';
import { AddressInfo } from 'net';
import { EmulatedClock } from './clock';
import { ProtonError } from './errors';
import { Fault, FaultKind, FaultQueue } from './faults';
import { DEFAULT_RATE_LIMITS, OperationStats, RateLimit, RateLimiter } from './rate-limits';
import { CancelRefusal, EmulatedService, PipelineStatus, ServiceOptions } from './service';
import { readRequest, requireName, sendError, sendJson, sendMalformed, sendUnavailable, serviceNameOf } from './wire';

/** Options of `LocalProton.start`. */
export interface LocalProtonOptions {
  /**
   * Port to listen on, on 127.0.0.1.
   *
   * @default 0 - a free port chosen by the system
   */
  readonly port?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly account?: string;
  /**
   * Emulated seconds per real second; 0 freezes the clock (only `clock.advance` moves it).
   *
   * @default 1
   */
  readonly timeScale?: number;
  /**
   * Emulated time at start.
   *
   * @default - the real time
   */
  readonly startTime?: Date;
  /**
   * Error a cancel gets when no deployment is in progress (real Proton's choice is undocumented).
   *
   * @default 'ValidationException'
   */
  readonly cancelRefusal?: CancelRefusal;
  /**
   * Request rate of each operation, as a token bucket on the emulated clock; a call past it gets
   * a ThrottlingException (429) and changes nothing. Operations not listed are not limited; the
   * object given replaces the default (spread `DEFAULT_RATE_LIMITS` to change one operation only).
   * `false` turns rate limiting off.
   *
   * @default DEFAULT_RATE_LIMITS - GetService 10 per second (burst 20), CancelServicePipelineDeployment 5 per second (burst 10)
   */
  readonly rateLimits?: Readonly<Record<string, RateLimit>> | false;
}

/** One call received by the endpoint. */
export interface RecordedCall {
  /** Operation name from `X-Amz-Target` (the raw header when it is not a Proton target). */
  readonly operation: string;
  /** Parsed JSON body (the raw text when it is not JSON). */
  readonly input: unknown;
  /** Access key id from the SigV4 `Authorization` header, if signed. */
  readonly accessKeyId?: string;
  /** Emulated time the call arrived. */
  readonly at: Date;
  /** HTTP status answered; undefined while pending, or when no answer was sent (dropped). */
  readonly status?: number;
  /** `__type` of the error answered, if any. */
  readonly errorType?: string;
  /** Kind of the injected fault that hit this call, if any. */
  readonly fault?: FaultKind;
  /** True when the rate limit refused this call (ThrottlingException). */
  readonly throttled?: boolean;
  /** A call served, then dropped (a `drop` fault `afterApplying`): the status of the answer that was lost. */
  readonly lostAnswerStatus?: number;
}

type MutableCall = { -readonly [K in keyof RecordedCall]: RecordedCall[K] };

/**
 * A local AWS Proton endpoint speaking Proton's real wire protocol (AWS JSON 1.0), for the
 * unmodified `@aws-sdk/client-proton`: GetService and CancelServicePipelineDeployment over
 * emulated services whose pipeline deployments move on an emulated clock, with per-call fault
 * injection, an emulated IAM and a record of every call.
 *
 * @example
 * const proton = await LocalProton.start({ timeScale: 100 });
 * proton.addService('my-svc', SCENARIOS['in-progress']);
 * const client = new ProtonClient({ endpoint: proton.endpoint, region: proton.region, credentials });
 * // ...
 * await proton.stop();
 */
export class LocalProton {
  /** Starts an endpoint listening on 127.0.0.1. */
  static async start(options: LocalProtonOptions = {}): Promise<LocalProton> {
    const proton = new LocalProton(options);
    await proton.listen(options.port ?? 0);
    return proton;
  }

  /** The emulated clock; `clock.advance(seconds)` moves it by hand. */
  readonly clock: EmulatedClock;
  readonly region: string;
  readonly account: string;
  private readonly cancelRefusal: CancelRefusal;
  private server?: http.Server;
  private port = 0;
  private stopped = false;
  private readonly services = new Map<string, EmulatedService>();
  private readonly faults = new FaultQueue();
  private readonly limiter: RateLimiter;
  /** Per access key: the services each operation may touch (`'*'`: every operation not named). */
  private readonly permissions = new Map<string, Map<string, Set<string>>>();
  private readonly recorded: MutableCall[] = [];
  /** Pending `slow` delays, ended early by `shutDown` and `stop`. */
  private readonly delays = new Map<NodeJS.Timeout, () => void>();

  private constructor(options: LocalProtonOptions) {
    this.clock = new EmulatedClock(options.timeScale ?? 1, options.startTime);
    this.region = options.region ?? 'us-east-1';
    this.account = options.account ?? '123456789012';
    this.cancelRefusal = options.cancelRefusal ?? 'ValidationException';
    this.limiter = new RateLimiter(options.rateLimits === false ? {} : options.rateLimits ?? DEFAULT_RATE_LIMITS, this.clock.nowMs());
  }

  /** Base URL for the SDK's `endpoint` option or `AWS_ENDPOINT_URL_PROTON`, e.g. http://127.0.0.1:PORT. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Every call received so far, in arrival order. */
  get calls(): readonly RecordedCall[] {
    return this.recorded;
  }

  /** Number of calls received for `operation`. */
  count(operation: string): number {
    return this.recorded.filter((c) => c.operation === operation).length;
  }

  /** The request rates in force per operation (empty when rate limiting is off). */
  get rateLimits(): Readonly<Record<string, RateLimit>> {
    return this.limiter.rateLimits;
  }

  /**
   * Calls received, calls throttled by the rate limit, and the peak calls per emulated second,
   * per operation called so far (keyed by operation name).
   */
  requestStats(): Record<string, OperationStats> {
    return this.limiter.stats();
  }

  /** The same counters for all operations together (`peakPerSecond`: all calls in one emulated second). */
  totalRequestStats(): OperationStats {
    return this.limiter.total();
  }

  /** ARN of the service `name`: arn:aws:proton:REGION:ACCOUNT:service/NAME. */
  serviceArn(name: string): string {
    return `arn:aws:proton:${this.region}:${this.account}:service/${name}`;
  }

  /** Adds (or replaces) a service; its pipeline timings start now on the emulated clock. */
  addService(name: string, options: ServiceOptions = {}): void {
    this.services.set(name, new EmulatedService(name, this.serviceArn(name), options, this.clock));
  }

  /** Removes a service, if there is one: calls about it then find no such service. */
  removeService(name: string): void {
    this.services.delete(name);
  }

  /** Current pipeline deployment status of `name` (undefined: no such service, or no pipeline). */
  status(name: string): PipelineStatus | undefined {
    return this.services.get(name)?.status();
  }

  /** Queues faults for the next calls of `operation` (`'*'`: any operation), consumed in order. */
  injectFaults(operation: string, ...faults: Fault[]): void {
    this.faults.add(operation, faults);
  }

  /** Drops every injected fault not used up yet. */
  clearFaults(): void {
    this.faults.clear();
  }

  /**
   * Emulated IAM: the access key `accessKeyId` may only touch these services (others get
   * AccessDeniedException), with every operation, or with `operation` only (then the key's
   * other operations keep what they were given). Keys never passed here may touch everything.
   */
  allow(accessKeyId: string, serviceNames: readonly string[], operation?: string): void {
    const byOperation = operation === undefined ? new Map<string, Set<string>>() : this.permissions.get(accessKeyId) ?? new Map([['*', new Set<string>()]]);
    byOperation.set(operation ?? '*', new Set(serviceNames));
    this.permissions.set(accessKeyId, byOperation);
  }

  /** Proton is gone: stops listening (callers get ECONNREFUSED) and drops open connections; state is kept. */
  async shutDown(): Promise<void> {
    await this.close();
  }

  /** Listens again on the same port after `shutDown`. */
  async resume(): Promise<void> {
    if (this.stopped) {
      throw new Error('LocalProton was stopped; start a new one');
    }
    if (!this.server) {
      await this.listen(this.port);
    }
  }

  /** Stops for good; nothing is left running. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.close();
  }

  private listen(port: number): Promise<void> {
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    // Idle keep-alive sockets stay open as long as AWS's endpoints keep them: with Node's 5 s
    // default, a client reusing a socket the server is just closing gets ECONNRESET under load.
    server.keepAliveTimeout = 65_000;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        this.server = server;
        this.port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const [timer, end] of this.delays) {
      clearTimeout(timer);
      end();
    }
    this.delays.clear();
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // The emulated time, as AWS sends its own: the SDK corrects its clock skew from this header.
    res.setHeader('Date', this.clock.now().toUTCString());
    const request = await readRequest(req);
    const call: MutableCall = {
      operation: request.operation,
      input: request.input ?? request.raw,
      accessKeyId: request.accessKeyId,
      at: this.clock.now(),
    };
    this.recorded.push(call);

    // Throttling comes first, as at AWS's front door: a throttled call uses up no fault and changes nothing.
    if (!this.limiter.admit(request.operation, call.at.getTime())) {
      call.throttled = true;
      this.fail(res, call, new ProtonError('ThrottlingException', 'Rate exceeded'));
      return;
    }
    const fault = this.faults.take(request.operation, serviceNameOf(request.input));
    if (fault) {
      call.fault = fault.kind;
      if (await this.applyFault(fault, res, call)) {
        return;
      }
    }
    // A dropped answer after the call was served: it takes effect, the caller never hears.
    const answerLost = fault?.kind === 'drop' && fault.afterApplying === true;
    try {
      if (!request.isProtonCall) {
        throw new ProtonError('UnknownOperationException', `Unknown operation: ${request.operation}`);
      }
      if (!request.input) {
        throw new ProtonError('SerializationException', 'The request body is not a JSON object.');
      }
      const output = this.dispatch(request.operation, request.input, request.accessKeyId);
      if (answerLost) {
        call.lostAnswerStatus = 200;
        res.socket?.destroy();
        return;
      }
      if (sendJson(res, 200, output)) {
        call.status = 200;
      }
    } catch (e) {
      const error = e instanceof ProtonError ? e : new ProtonError('InternalServerException', `Local Proton failed: ${String(e)}`);
      if (answerLost) {
        call.lostAnswerStatus = error.status;
        res.socket?.destroy();
        return;
      }
      this.fail(res, call, error);
    }
  }

  /** The emulated operations. */
  private dispatch(operation: string, input: Record<string, unknown>, accessKeyId: string | undefined): unknown {
    switch (operation) {
      case 'GetService':
        return { service: this.service(operation, requireName(input, 'name'), accessKeyId).describe() };
      case 'CancelServicePipelineDeployment':
        return { pipeline: this.service(operation, requireName(input, 'serviceName'), accessKeyId).cancel(this.cancelRefusal) };
      default:
        // Real Proton knows these, the local endpoint does not: a loud error shows unexpected calls.
        throw new ProtonError('UnknownOperationException', `Operation ${operation} is not emulated by the local Proton endpoint.`);
    }
  }

  /** The service a call is about, after the emulated IAM check (which, as in AWS, comes before the lookup). */
  private service(operation: string, name: string, accessKeyId: string | undefined): EmulatedService {
    const arn = this.serviceArn(name);
    const byOperation = accessKeyId === undefined ? undefined : this.permissions.get(accessKeyId);
    const allowed = byOperation && (byOperation.get(operation) ?? byOperation.get('*'));
    if (allowed && !allowed.has(name)) {
      throw new ProtonError('AccessDeniedException', `User: arn:aws:iam::${this.account}:user/${accessKeyId} is not authorized `
        + `to perform: proton:${operation} on resource: ${arn} because no identity-based policy allows the proton:${operation} action`);
    }
    const service = this.services.get(name);
    if (!service) {
      throw new ProtonError('ResourceNotFoundException', `The requested resource ${name} was not found.`);
    }
    return service;
  }

  /** Applies a fault; returns true when the call is fully handled by it. */
  private async applyFault(fault: Fault, res: http.ServerResponse, call: MutableCall): Promise<boolean> {
    switch (fault.kind) {
      case 'throttle':
        this.fail(res, call, new ProtonError('ThrottlingException', 'Rate exceeded'));
        return true;
      case 'error': {
        const name = fault.name ?? 'InternalServerException';
        this.fail(res, call, new ProtonError(name, fault.message ?? `Injected ${name}.`));
        return true;
      }
      case 'unavailable':
        sendUnavailable(res);
        call.status = 503;
        return true;
      case 'drop':
        if (fault.afterApplying) {
          return false;
        }
        res.socket?.destroy();
        return true;
      case 'malformed':
        sendMalformed(res);
        call.status = 200;
        return true;
      case 'slow':
        await this.delay(fault.delayMs);
        return false;
    }
  }

  private fail(res: http.ServerResponse, call: MutableCall, error: ProtonError): void {
    if (sendError(res, error)) {
      call.status = error.status;
      call.errorType = error.type;
    }
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.delays.delete(timer);
        resolve();
      }, ms);
      this.delays.set(timer, resolve);
    });
  }
}
