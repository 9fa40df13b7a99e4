/**
 * The provider side of a stack as deployed: its Lambda functions on the
 * emulated Lambda, its state machines on the emulated Step Functions (behind
 * a local Step Functions endpoint), and the path of one CloudFormation
 * request from its ServiceToken to the response PUT on the local response
 * endpoint.
 */
import type { RateLimit } from '../proton';
import { attributesRead, DeployTarget, StackAssembly } from './assembly';
import { Clock, Waits } from './clock';
import { accessKeyIdOf } from './iam';
import { AsyncOutcome, InvocationRecord, LocalLambda, LogRecord } from './lambda';
import { LocalParameterStore } from './parameter-store-endpoint';
import { CloudFormationRequest, CloudFormationResponse, violations } from './requests';
import { CapturedResponse, LocalResponseEndpoint } from './response-endpoint';
import { Execution, ExecutionEvent, LocalStepFunctions, StateMachineDefinition } from './step-functions';
import { LocalStepFunctionsEndpoint } from './step-functions-endpoint';

/** What the lifecycle reports as it goes. */
export type ProgressEvent =
  | { readonly kind: 'stack-status'; readonly status: string }
  | { readonly kind: 'request'; readonly request: CloudFormationRequest }
  | { readonly kind: 'log'; readonly record: LogRecord }
  | { readonly kind: 'waiter'; readonly event: ExecutionEvent }
  | { readonly kind: 'response'; readonly response: CloudFormationResponse; readonly bytes: number };

/**
 * How Lambda delivers a request's asynchronous event (it promises at least
 * once): `'once'`; `'after-answer'`, a second delivery once the first one's
 * invocation and everything it started have ended; `'concurrent'`, two
 * deliveries at the same moment.
 */
export type Delivery = 'once' | 'after-answer' | 'concurrent';

/** One request and the response CloudFormation received for it. */
export interface RequestResult {
  readonly request: CloudFormationRequest;
  /** The answer CloudFormation read: the body of the last successful PUT. */
  readonly response: CloudFormationResponse;
  /** Size of the response body as sent. */
  readonly responseBytes: number;
  /** Emulated seconds from the request to the first successful PUT. */
  readonly elapsedSeconds: number;
  /** Every request made to the response URL while it was open, failed attempts included, with the status answered. */
  readonly responseAttempts: readonly CapturedResponse[];
  /** How each delivery of the event to the ServiceToken ended. */
  readonly deliveries: readonly AsyncOutcome[];
  readonly invocations: readonly InvocationRecord[];
  /** What the functions logged while serving the request. */
  readonly logs: readonly LogRecord[];
  readonly executions: readonly Execution[];
}

/** A request whose response CloudFormation would not take, or never got. */
export class LifecycleViolation extends Error {
  constructor(readonly problems: readonly string[], readonly request: CloudFormationRequest) {
    super(`${request.RequestType} of ${request.LogicalResourceId}: ${problems.join('; ')}`);
    this.name = 'LifecycleViolation';
  }
}

export interface DeployedFunctionsOptions {
  readonly target: DeployTarget;
  readonly clock: Clock;
  /** Base URL of the Proton endpoint (`AWS_ENDPOINT_URL_PROTON`). */
  readonly protonEndpoint: string;
  /** Base URL of the CloudFormation endpoint (`AWS_ENDPOINT_URL_CLOUDFORMATION`). */
  readonly cloudFormationEndpoint: string;
  /** The account's Lambda concurrency (see `LocalLambda`). */
  readonly lambdaConcurrency?: number;
  /** Emulated milliseconds each invocation lasts on top of its waits (see `LocalLambda`). */
  readonly invocationOverheadMs?: number;
  /** Whether the caller with this access key may call `states:<action>` on `resource` (the emulated IAM). */
  readonly stepFunctionsAllowed: (accessKeyId: string | undefined, action: string, resource: string) => boolean;
  /** Whether the caller with this access key may call `ssm:<action>` on `resource` (the emulated IAM). */
  readonly parameterStoreAllowed: (accessKeyId: string | undefined, action: string, resource: string) => boolean;
  /** The Parameter Store's rates (see `LocalParameterStore`). @default DEFAULT_PARAMETER_STORE_RATE_LIMITS */
  readonly parameterStoreRateLimits?: Readonly<Record<string, RateLimit>> | false;
  readonly onProgress?: (event: ProgressEvent) => void;
}

export class DeployedFunctions {
  /** Starts the local Step Functions, Parameter Store and response endpoints, and deploys the stack's functions and state machines. */
  static async start(stack: () => StackAssembly, options: DeployedFunctionsOptions): Promise<DeployedFunctions> {
    const functions = new DeployedFunctions(stack, options);
    const { partition, region, account } = options.target;
    const [stepFunctionsEndpoint, responses, parameterStore] = await Promise.all([
      LocalStepFunctionsEndpoint.start(functions.stepFunctions, {
        isAllowed: options.stepFunctionsAllowed,
        now: () => new Date(options.clock.nowMs()),
        tagOf: requestIdOf,
      }),
      LocalResponseEndpoint.start(options.clock),
      LocalParameterStore.start({
        arnPrefix: `arn:${partition}:ssm:${region}:${account}:parameter`,
        nowMs: () => options.clock.nowMs(),
        isAllowed: options.parameterStoreAllowed,
        rateLimits: options.parameterStoreRateLimits,
      }),
    ]);
    functions.stepFunctionsEndpoint = stepFunctionsEndpoint;
    functions.responses = responses;
    functions.parameterStore = parameterStore;
    functions.addFunctions();
    return functions;
  }

  readonly lambda: LocalLambda;
  readonly stepFunctions: LocalStepFunctions;
  readonly waits: Waits;
  /** The endpoint the functions' Step Functions clients reach (`AWS_ENDPOINT_URL_SFN`). */
  stepFunctionsEndpoint!: LocalStepFunctionsEndpoint;
  /** Where the response URLs of requests point. */
  responses!: LocalResponseEndpoint;
  /** The endpoint the functions' SSM clients reach (`AWS_ENDPOINT_URL_SSM`). */
  parameterStore!: LocalParameterStore;
  /** The role (logical id) behind each access key the functions use. */
  private readonly roles = new Map<string, string>();

  /**
   * @param stack the stack as deployed now (its functions never change; its template may)
   */
  private constructor(private readonly stack: () => StackAssembly, private readonly options: DeployedFunctionsOptions) {
    this.waits = new Waits(options.clock);
    this.lambda = new LocalLambda({
      clock: options.clock,
      waits: this.waits,
      concurrency: options.lambdaConcurrency,
      invocationOverheadMs: options.invocationOverheadMs,
      onLog: (record) => options.onProgress?.({ kind: 'log', record }),
    });
    this.stepFunctions = new LocalStepFunctions(this.lambda, this.waits, (event) => options.onProgress?.({ kind: 'waiter', event }));
  }

  /** Stops the local endpoints; executions and invocations under way end on their own. */
  async stop(): Promise<void> {
    await Promise.all([this.stepFunctionsEndpoint.stop(), this.responses.stop(), this.parameterStore.stop()]);
  }

  /** The logical id of the role whose credentials carry this access key. */
  roleOf(accessKeyId: string): string | undefined {
    return this.roles.get(accessKeyId);
  }

  /** A function's own environment variables, resolved. */
  functionEnvironment(logicalId: string): Record<string, string> {
    const variables = (this.stack().resource(logicalId).Properties?.Environment as { Variables?: unknown } | undefined)?.Variables;
    return (this.stack().resolve(variables ?? {}) ?? {}) as Record<string, string>;
  }

  /**
   * Sends a request to the resource's ServiceToken as CloudFormation does (an
   * asynchronous Lambda invocation, delivered once or twice as `delivery`
   * says), waits for everything it started to end (the invocations, the
   * executions whose input carries its RequestId, and their invocations), and
   * checks the answer: a request CloudFormation would not complete throws a
   * `LifecycleViolation`.
   */
  async send(request: CloudFormationRequest, logicalId: string, delivery: Delivery = 'once'): Promise<RequestResult> {
    const attempts = this.responses.expect(request.ResponseURL);
    const firstInvocation = this.lambda.invocations.length;
    const firstLog = this.lambda.logs.length;
    const startedMs = this.options.clock.nowMs();
    this.options.onProgress?.({ kind: 'request', request });
    const deliver = () => this.lambda.invokeAsync(String(request.ResourceProperties.ServiceToken), JSON.stringify(request), request.RequestId);
    const deliveries: AsyncOutcome[] = [];
    try {
      // CloudFormation invokes the ServiceToken asynchronously; Lambda may deliver the event twice.
      deliveries.push(...await Promise.all(delivery === 'concurrent' ? [deliver(), deliver()] : [deliver()]));
      await this.settled(request.RequestId);
      if (delivery === 'after-answer') {
        deliveries.push(await deliver());
        await this.settled(request.RequestId);
      }
    } finally {
      this.responses.close(request.ResponseURL);
    }

    // Failed attempts (a 5xx, a dropped connection) wrote nothing; CloudFormation reads what the successful ones wrote.
    const answers = attempts.filter((a) => a.method === 'PUT' && a.status === 200);
    const first = answers[0];
    const last = answers[answers.length - 1];
    const serviceTimeout = Number(request.ResourceProperties.ServiceTimeout ?? 3600);
    const problems = violations({
      request,
      responses: answers.map((a) => a.body),
      elapsedSeconds: first ? (first.atMs - startedMs) / 1000 : Infinity,
      serviceTimeoutSeconds: serviceTimeout,
      attributesRead: attributesRead(this.stack().template, logicalId),
    });
    for (const a of attempts) {
      if (a.method !== 'PUT' || Number(a.contentLength) !== Buffer.byteLength(a.body)) {
        problems.push(`the response was not a PUT with its Content-Length (${a.method}, ${String(a.contentLength)})`);
      }
    }
    if (problems.length > 0) {
      throw new LifecycleViolation(problems, request);
    }
    const response = JSON.parse(last.body) as CloudFormationResponse;
    const responseBytes = Buffer.byteLength(last.body);
    this.options.onProgress?.({ kind: 'response', response, bytes: responseBytes });
    return {
      request,
      response,
      responseBytes,
      elapsedSeconds: (first.atMs - startedMs) / 1000,
      responseAttempts: [...attempts],
      deliveries,
      invocations: this.lambda.invocations.slice(firstInvocation).filter((i) => i.tag === request.RequestId),
      logs: this.lambda.logs.slice(firstLog).filter((l) => l.tag === request.RequestId),
      executions: this.stepFunctions.executions.filter((e) => e.tag === request.RequestId),
    };
  }

  /** Resolves once the request's invocations and executions have ended, and any invocation still running after its execution timed out. */
  private async settled(requestId: string): Promise<void> {
    for (;;) {
      await this.lambda.settled(requestId);
      const running = this.stepFunctions.executions.filter((e) => e.tag === requestId && e.status === 'RUNNING');
      if (running.length === 0) {
        return;
      }
      await Promise.all(running.map((e) => e.done));
    }
  }

  private addFunctions(): void {
    const stack = this.stack();
    const { region } = this.options.target;
    for (const [logicalId, resource] of stack.resourcesOfType('AWS::Lambda::Function')) {
      const props = resource.Properties ?? {};
      const roleArn = String(stack.resolve(props.Role));
      const accessKeyId = accessKeyIdOf(roleArn);
      const roleId = (props.Role as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0];
      if (roleId) {
        this.roles.set(accessKeyId, roleId);
      }
      const functionName = stack.physicalName(logicalId);
      const logging = (stack.resolve(props.LoggingConfig ?? {}) ?? {}) as { LogGroup?: string; LogFormat?: string; ApplicationLogLevel?: string };
      const runtime = String(props.Runtime);
      this.lambda.add({
        logicalId,
        functionName,
        arn: stack.arn(logicalId),
        handler: String(props.Handler),
        codeDirectory: stack.codeDirectory(logicalId),
        runtime,
        timeoutSeconds: Number(props.Timeout ?? 3),
        memorySize: Number(props.MemorySize ?? 128),
        applicationLogLevel: logging.LogFormat === 'JSON' ? logging.ApplicationLogLevel ?? 'INFO' : undefined,
        environment: {
          // What Lambda sets (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime)
          AWS_REGION: region,
          AWS_DEFAULT_REGION: region,
          AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
          AWS_LAMBDA_FUNCTION_NAME: functionName,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(props.MemorySize ?? 128),
          AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
          AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
          AWS_LAMBDA_LOG_GROUP_NAME: logging.LogGroup ?? `/aws/lambda/${functionName}`,
          AWS_LAMBDA_LOG_STREAM_NAME: `2024/01/01/[$LATEST]${accessKeyId.slice(4).toLowerCase()}`,
          ...(logging.LogFormat === 'JSON' ? { AWS_LAMBDA_LOG_FORMAT: 'JSON' } : {}),
          AWS_ACCESS_KEY_ID: accessKeyId,
          AWS_SECRET_ACCESS_KEY: 'local-secret-access-key',
          AWS_SESSION_TOKEN: 'local-session-token',
          LAMBDA_TASK_ROOT: '/var/task',
          LAMBDA_RUNTIME_DIR: '/var/runtime',
          TZ: ':UTC',
          LANG: 'en_US.UTF-8',
          // No ~/.aws in Lambda: keep the host's shared config out of the SDK's way.
          AWS_CONFIG_FILE: '/nonexistent/aws/config',
          AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws/credentials',
          // The local services, for the unmodified SDK clients.
          AWS_ENDPOINT_URL_PROTON: this.options.protonEndpoint,
          AWS_ENDPOINT_URL_CLOUDFORMATION: this.options.cloudFormationEndpoint,
          AWS_ENDPOINT_URL_SFN: this.stepFunctionsEndpoint.endpoint,
          AWS_ENDPOINT_URL_SSM: this.parameterStore.endpoint,
          ...this.functionEnvironment(logicalId),
        },
      });
    }
    for (const [logicalId, resource] of stack.resourcesOfType('AWS::StepFunctions::StateMachine')) {
      const definition = JSON.parse(String(stack.resolve(resource.Properties?.DefinitionString))) as StateMachineDefinition;
      this.stepFunctions.add(stack.arn(logicalId), definition);
    }
  }
}

/** The CloudFormation RequestId an execution's input carries at its top level (`$.RequestId`). */
function requestIdOf(input: string): string | undefined {
  try {
    const requestId = (JSON.parse(input) as { RequestId?: unknown } | null)?.RequestId;
    return typeof requestId === 'string' ? requestId : undefined;
  } catch {
    return undefined;
  }
}
