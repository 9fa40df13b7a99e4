/**
 * A local AWS Step Functions endpoint for the emulated Step Functions: it
 * speaks the real wire protocol (AWS JSON 1.0: a POST with
 * `X-Amz-Target: AWSStepFunctions.<operation>`, errors as `__type` and
 * `message`), so that a function's unmodified `@aws-sdk/client-sfn` reaches
 * it through `AWS_ENDPOINT_URL_SFN`, and checks the caller's access key
 * against the emulated IAM. It serves `StartExecution`; any other operation
 * is refused.
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import { LocalServer } from './local-server';
import { LocalStepFunctions, StepFunctionsApiError } from './step-functions';

const TARGET_PREFIX = 'AWSStepFunctions.';

export interface LocalStepFunctionsEndpointOptions {
  /** Whether the caller with this access key may call `states:<action>` on `resource`. */
  isAllowed(accessKeyId: string | undefined, action: string, resource: string): boolean;
  /** Emulated time now: the answers' `Date` header. */
  now(): Date;
  /** What to tag an execution with, from its input (its Lambda invocations carry the tag). */
  tagOf?(input: string): string | undefined;
}

/** One call received. */
export interface StepFunctionsCall {
  readonly operation: string;
  readonly accessKeyId?: string;
  readonly input: Readonly<Record<string, unknown>>;
  /** HTTP status answered. */
  readonly status: number;
  /** `__type` of an error answered. */
  readonly errorType?: string;
}

export class LocalStepFunctionsEndpoint {
  static async start(stepFunctions: LocalStepFunctions, options: LocalStepFunctionsEndpointOptions): Promise<LocalStepFunctionsEndpoint> {
    const endpoint = new LocalStepFunctionsEndpoint(stepFunctions, options);
    endpoint.server = await LocalServer.start((req, body, res) => endpoint.handle(req, body, res));
    return endpoint;
  }

  readonly calls: StepFunctionsCall[] = [];
  private server!: LocalServer;

  private constructor(private readonly stepFunctions: LocalStepFunctions, private readonly options: LocalStepFunctionsEndpointOptions) {}

  /** Base URL, for `AWS_ENDPOINT_URL_SFN`. */
  get endpoint(): string {
    return this.server.url;
  }

  /** The tag of an execution with this input: none when the input is not what `tagOf` reads. */
  private tagOf(input: string): string | undefined {
    try {
      return this.options.tagOf?.(input);
    } catch {
      return undefined;
    }
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }

  private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const accessKeyId = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    let input: Record<string, unknown> = {};
    const answer = (status: number, payload: object, errorType?: string) => {
      this.calls.push({ operation, accessKeyId, input, status, errorType });
      res.writeHead(status, {
        'Content-Type': 'application/x-amz-json-1.0',
        'x-amzn-RequestId': randomUUID(),
        'Date': this.options.now().toUTCString(),
        ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
      });
      res.end(JSON.stringify(payload));
    };
    const fail = (errorType: string, message: string) => answer(400, { __type: errorType, message }, errorType);

    if (req.method !== 'POST' || !target.startsWith(TARGET_PREFIX) || operation !== 'StartExecution') {
      return fail('UnknownOperationException', `Operation ${target || '(none)'} is not served by the local Step Functions endpoint (StartExecution only)`);
    }
    try {
      input = JSON.parse(body || '{}') as Record<string, unknown>;
    } catch {
      return fail('SerializationException', 'The request body is not JSON');
    }
    const stateMachineArn = input.stateMachineArn;
    if (typeof stateMachineArn !== 'string') {
      return fail('ValidationException', "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null");
    }
    if (!this.options.isAllowed(accessKeyId, 'StartExecution', stateMachineArn)) {
      return fail('AccessDeniedException', `User: ${accessKeyId ?? 'anonymous'} is not authorized to perform: states:StartExecution on resource: ${stateMachineArn} because no identity-based policy allows the states:StartExecution action`);
    }
    const executionInput = typeof input.input === 'string' ? input.input : undefined;
    try {
      const started = this.stepFunctions.startExecution({
        stateMachineArn,
        name: typeof input.name === 'string' ? input.name : undefined,
        input: executionInput,
      }, this.tagOf(executionInput ?? '{}'));
      // Timestamps are epoch seconds in the JSON protocols.
      return answer(200, { executionArn: started.executionArn, startDate: started.startDate.getTime() / 1000 });
    } catch (error) {
      if (error instanceof StepFunctionsApiError) {
        return fail(error.name, error.message);
      }
      // A fault of the emulation: answered as the service's own fault, with what went wrong.
      return answer(500, { __type: 'InternalFailure', message: String(error) }, 'InternalFailure');
    }
  }
}
