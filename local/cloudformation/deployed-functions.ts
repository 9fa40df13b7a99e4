/**
 * The provider side of a stack as deployed: its Lambda functions on the
 * emulated Lambda, its waiter state machines on the emulated Step Functions,
 * the provider framework's outbound edges served locally, and the path of one
 * CloudFormation request from its ServiceToken to the response PUT.
 */
import * as path from 'path';
import { attributesRead, DeployTarget, StackAssembly } from './assembly';
import { Clock, Waits } from './clock';
import { accessKeyIdOf } from './iam';
import { FunctionDefinition, InvocationRecord, LocalLambda, LogRecord } from './lambda';
import { lambdaClientModule } from './lambda-client';
import { ModuleLoader } from './module-loader';
import { CloudFormationRequest, CloudFormationResponse, violations } from './requests';
import { Execution, ExecutionEvent, LocalStepFunctions, StateMachineDefinition } from './step-functions';

/** What the lifecycle reports as it goes. */
export type ProgressEvent =
  | { readonly kind: 'stack-status'; readonly status: string }
  | { readonly kind: 'request'; readonly request: CloudFormationRequest }
  | { readonly kind: 'log'; readonly record: LogRecord }
  | { readonly kind: 'waiter'; readonly event: ExecutionEvent }
  | { readonly kind: 'response'; readonly response: CloudFormationResponse; readonly bytes: number };

/** One request and the response CloudFormation received for it. */
export interface RequestResult {
  readonly request: CloudFormationRequest;
  readonly response: CloudFormationResponse;
  /** Size of the response body as sent. */
  readonly responseBytes: number;
  /** Emulated seconds from the request to the response. */
  readonly elapsedSeconds: number;
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

interface CapturedResponse {
  readonly body: string;
  readonly method?: string;
  readonly contentLength?: unknown;
  readonly atMs: number;
}

interface Pending {
  readonly responseKey: string;
  readonly responses: CapturedResponse[];
  readonly executions: Execution[];
}

/** An AWS SDK client the Lambda runtime preinstalls, which the framework's outbound.js loads (and the harness never lets it use). */
const SDK_V3_STAND_IN = ['@aws-sdk/client-sfn'];

export interface DeployedFunctionsOptions {
  readonly target: DeployTarget;
  readonly clock: Clock;
  /** Base URL of the Proton endpoint (`AWS_ENDPOINT_URL_PROTON`). */
  readonly protonEndpoint: string;
  /** Base URL of the CloudFormation endpoint (`AWS_ENDPOINT_URL_CLOUDFORMATION`). */
  readonly cloudFormationEndpoint: string;
  /** The account's Lambda concurrency (see `LocalLambda`). */
  readonly lambdaConcurrency?: number;
  readonly onProgress?: (event: ProgressEvent) => void;
}

export class DeployedFunctions {
  readonly lambda: LocalLambda;
  readonly stepFunctions: LocalStepFunctions;
  readonly waits: Waits;
  private readonly pending = new Map<string, Pending>();
  /** The role (logical id) behind each access key the functions use. */
  private readonly roles = new Map<string, string>();

  /**
   * @param stack the stack as deployed now (its functions never change; its template may)
   */
  constructor(private readonly stack: () => StackAssembly, private readonly options: DeployedFunctionsOptions) {
    this.waits = new Waits(options.clock);
    this.lambda = new LocalLambda({
      clock: options.clock,
      waits: this.waits,
      concurrency: options.lambdaConcurrency,
      onLog: (record) => options.onProgress?.({ kind: 'log', record }),
      onColdStart: (fn, loader) => this.serveOutboundEdges(fn, loader),
    });
    this.stepFunctions = new LocalStepFunctions(this.lambda, this.waits, (event) => options.onProgress?.({ kind: 'waiter', event }));
    this.addFunctions();
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
   * asynchronous Lambda invocation), waits for everything it started to end,
   * and checks the response: a request CloudFormation would not complete
   * throws a `LifecycleViolation`.
   */
  async send(request: CloudFormationRequest, logicalId: string): Promise<RequestResult> {
    const pending: Pending = { responseKey: keyOf(request.ResponseURL), responses: [], executions: [] };
    this.pending.set(request.RequestId, pending);
    const firstInvocation = this.lambda.invocations.length;
    const firstLog = this.lambda.logs.length;
    const startedMs = this.options.clock.nowMs();
    this.options.onProgress?.({ kind: 'request', request });
    try {
      // CloudFormation invokes the ServiceToken asynchronously.
      await this.lambda.invokeAsync(String(request.ResourceProperties.ServiceToken), JSON.stringify(request), request.RequestId);
      for (let seen = -1; seen !== pending.executions.length;) {
        seen = pending.executions.length;
        await Promise.all(pending.executions.map((e) => e.done));
      }
    } finally {
      this.pending.delete(request.RequestId);
    }

    const first = pending.responses[0];
    const serviceTimeout = Number(request.ResourceProperties.ServiceTimeout ?? 3600);
    const problems = violations({
      request,
      responses: pending.responses.map((r) => r.body),
      elapsedSeconds: first ? (first.atMs - startedMs) / 1000 : Infinity,
      serviceTimeoutSeconds: serviceTimeout,
      attributesRead: attributesRead(this.stack().template, logicalId),
    });
    for (const r of pending.responses) {
      if (r.method !== 'PUT' || Number(r.contentLength) !== Buffer.byteLength(r.body)) {
        problems.push(`the response was not a PUT with its Content-Length (${r.method}, ${String(r.contentLength)})`);
      }
    }
    if (problems.length > 0) {
      throw new LifecycleViolation(problems, request);
    }
    const response = JSON.parse(first.body) as CloudFormationResponse;
    const responseBytes = Buffer.byteLength(first.body);
    this.options.onProgress?.({ kind: 'response', response, bytes: responseBytes });
    return {
      request,
      response,
      responseBytes,
      elapsedSeconds: (first.atMs - startedMs) / 1000,
      invocations: this.lambda.invocations.slice(firstInvocation).filter((i) => i.tag === request.RequestId),
      logs: this.lambda.logs.slice(firstLog).filter((l) => l.tag === request.RequestId),
      executions: pending.executions,
    };
  }

  /**
   * Replaces the provider framework's outbound calls to Step Functions and S3
   * with the local services, on its module object. Its Lambda invoke stays its
   * own, on the stand-in Lambda client (see lambda-client.ts).
   */
  private serveOutboundEdges(fn: FunctionDefinition, loader: ModuleLoader): void {
    if (!fn.handler.startsWith('framework.')) {
      return;
    }
    const outbound = loader.load(path.join(fn.codeDirectory, 'outbound.js')) as Record<string, unknown>;
    for (const name of ['invokeFunction', 'startExecution', 'httpRequest']) {
      if (typeof outbound[name] !== 'function') {
        throw new Error(`the provider framework's outbound.js has no ${name} export: the harness does not know this framework version`);
      }
    }
    outbound.startExecution = async (req: { stateMachineArn: string; input: string }) => {
      const requestId = requestIdOf(req.input);
      const started = this.stepFunctions.startExecution(req, requestId);
      this.pending.get(requestId ?? '')?.executions.push(this.stepFunctions.executions[this.stepFunctions.executions.length - 1]);
      return started;
    };
    outbound.httpRequest = async (options: { hostname?: string; path?: string; method?: string; headers?: Record<string, unknown> }, body: string) => {
      // Like the framework's own, this ignores the URL's port: host and path only.
      const pending = [...this.pending.values()].find((p) => p.responseKey === `${options.hostname}${options.path}`);
      if (!pending) {
        throw new Error('Unsuccessful HTTP response: 403');
      }
      pending.responses.push({ body, method: options.method, contentLength: options.headers?.['content-length'], atMs: this.options.clock.nowMs() });
    };
  }

  private functionArn(nameOrArn: string): string {
    const stack = this.stack();
    return nameOrArn.startsWith('arn:') ? nameOrArn : stack.arn(
      stack.resourcesOfType('AWS::Lambda::Function').find(([id]) => stack.physicalName(id) === nameOrArn)?.[0] ?? nameOrArn);
  }

  private addFunctions(): void {
    const stack = this.stack();
    const { region } = this.options.target;
    const standIns = {
      ...Object.fromEntries(SDK_V3_STAND_IN.map((name) => [name, notServedLocally(name)])),
      '@aws-sdk/client-lambda': lambdaClientModule({
        lambda: this.lambda,
        waits: this.waits,
        functionArn: (nameOrArn) => this.functionArn(nameOrArn),
        tagOf: requestIdOf,
      }),
    };
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
        runtimeModules: standIns,
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

/** Host and path-with-query of a URL: what the framework's response PUT uses. */
function keyOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}${parsed.pathname}${parsed.search}`;
}

/** The CloudFormation RequestId in a payload: the event's, or the one in a waiter timeout's Cause. */
function requestIdOf(payload: string): string | undefined {
  try {
    const event = JSON.parse(payload) as { RequestId?: string; Cause?: string };
    return event.RequestId ?? (JSON.parse(JSON.parse(event.Cause ?? '{}').errorMessage ?? '{}') as { RequestId?: string }).RequestId;
  } catch {
    return undefined;
  }
}

/**
 * A stand-in for an AWS SDK client that the Lambda runtime preinstalls: the
 * harness replaces every call the framework makes with it, so any use is a bug.
 */
function notServedLocally(moduleName: string): unknown {
  return new Proxy({}, {
    get: (_, property) => typeof property === 'symbol' || property === '__esModule' ? undefined : () => {
      throw new Error(`${moduleName}.${property} is not served by the local harness: an outbound edge of the provider framework was not replaced`);
    },
  });
}
