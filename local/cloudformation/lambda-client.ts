/**
 * What the provider framework's `outbound.js` gets for `@aws-sdk/client-lambda`
 * (the Lambda runtime preinstalls the SDK; this project does not ship it): a
 * `Lambda` client whose `invoke` reaches the emulated Lambda and retries as
 * the SDK's standard retry mode does, and `waitUntilFunctionActiveV2`. So the
 * framework's own invoke path runs unmodified: its SDK retries on
 * `TooManyRequestsException`, then one more invoke (retried again) once the
 * function is active.
 */
import { Waits } from './clock';
import { InvokeOutput, LocalLambda } from './lambda';

/**
 * The SDK's standard retry mode (`@smithy/util-retry`): 3 attempts; a
 * throttling error waits a random time up to 500 ms × 2^retries (capped at
 * 20 s), any other retryable error up to 100 ms × 2^retries; a retry costs 5
 * tokens from a quota of 500 per client, a success gives back what its retry
 * cost (or 1).
 */
export const STANDARD_RETRY = {
  maxAttempts: 3,
  throttlingDelayBaseMs: 500,
  delayBaseMs: 100,
  maxDelayMs: 20_000,
  initialTokens: 500,
  retryCost: 5,
  noRetryIncrement: 1,
};

/** The waiter's longest wait in the framework's call (`maxWaitTime: 300`). */
const WAITER_MAX_SECONDS = 300;

interface InvokeRequest {
  readonly FunctionName: string;
  readonly Payload?: string | Uint8Array;
}

export interface LambdaClientWiring {
  readonly lambda: LocalLambda;
  readonly waits: Waits;
  /** The ARN of a function named by name or ARN. */
  functionArn(nameOrArn: string): string;
  /** What to tag the invocation with (the CloudFormation request id in its payload). */
  tagOf(payload: string): string | undefined;
}

/** The module object `require('@aws-sdk/client-lambda')` returns in an emulated function. */
export function lambdaClientModule(wiring: LambdaClientWiring): Record<string, unknown> {
  class Lambda {
    private capacity = STANDARD_RETRY.initialTokens;

    constructor(readonly config: unknown = {}) {}

    async invoke(request: InvokeRequest): Promise<InvokeOutput> {
      const payload = typeof request.Payload === 'string' ? request.Payload : Buffer.from(request.Payload ?? '{}').toString('utf8');
      const arn = wiring.functionArn(request.FunctionName);
      for (let retries = 0; ; retries++) {
        try {
          const output = await wiring.lambda.invoke(arn, payload, wiring.tagOf(payload));
          this.capacity = Math.min(STANDARD_RETRY.initialTokens, this.capacity + (retries > 0 ? STANDARD_RETRY.retryCost : STANDARD_RETRY.noRetryIncrement));
          return output;
        } catch (error) {
          const throttling = (error as { name?: string }).name === 'TooManyRequestsException';
          if (!throttling || retries + 1 >= STANDARD_RETRY.maxAttempts || this.capacity < STANDARD_RETRY.retryCost) {
            throw error;
          }
          this.capacity -= STANDARD_RETRY.retryCost;
          const ceiling = Math.min(STANDARD_RETRY.throttlingDelayBaseMs * 2 ** retries, STANDARD_RETRY.maxDelayMs);
          await wiring.waits.sleep(Math.floor(Math.random() * ceiling) / 1000);
        }
      }
    }

    /** `GetFunction`: every function of the stack is `Active` (deployed before the custom resources). */
    async getFunction(request: { FunctionName: string }): Promise<{ Configuration: { FunctionArn: string; State: string } }> {
      const arn = wiring.functionArn(request.FunctionName);
      wiring.lambda.get(arn);
      return { Configuration: { FunctionArn: arn, State: 'Active' } };
    }
  }

  /** The SDK waiter: polls GetFunction until `State` is `Active`; a missing function is polled until `maxWaitTime`. */
  async function waitUntilFunctionActiveV2(params: { client: Lambda; maxWaitTime: number }, input: { FunctionName: string }) {
    try {
      await params.client.getFunction(input);
      return { state: 'SUCCESS' };
    } catch {
      await wiring.waits.sleep(Math.min(params.maxWaitTime, WAITER_MAX_SECONDS));
      throw Object.assign(new Error(`Waiter has timed out: ${input.FunctionName} never became Active`), { name: 'TimeoutError' });
    }
  }

  return { Lambda, waitUntilFunctionActiveV2 };
}
