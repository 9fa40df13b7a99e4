/**
 * Emulated AWS Step Functions (standard workflows): `StartExecution` with its
 * name rules, and executions that run a state machine definition as
 * synthesized (see states-language.ts for what a definition may use): Tasks
 * that invoke Lambda functions by ARN with their Retry and Catch, Choice, Wait,
 * Pass, Succeed and Fail, and the execution's TimeoutSeconds. Waits pass on the
 * emulated clock.
 */
import { randomUUID } from 'crypto';
import { Waits } from './clock';
import { InvokeOutput, LocalLambda } from './lambda';
import {
  applyResultPath, checkDefinition, choiceMatches, errorMatches, retryDelaySeconds, State, StateMachineDefinition, StatesError,
} from './states-language';

export type { Retrier, StateMachineDefinition } from './states-language';

/** One step of an execution, for assertions and progress output. */
export type ExecutionEvent =
  | { readonly kind: 'task'; readonly state: string; readonly attempt: number }
  | { readonly kind: 'task-failed'; readonly state: string; readonly error: string }
  | { readonly kind: 'retry-wait'; readonly state: string; readonly seconds: number }
  | { readonly kind: 'caught'; readonly state: string; readonly error: string; readonly next: string }
  | { readonly kind: 'choice'; readonly state: string; readonly next: string }
  | { readonly kind: 'wait'; readonly state: string; readonly seconds: number };

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';

export interface Execution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: string;
  readonly startDate: Date;
  /** What the execution's Lambda invocations are tagged with. */
  readonly tag?: string;
  status: ExecutionStatus;
  /** Error name of a FAILED (or TIMED_OUT: `States.Timeout`) execution. */
  error?: string;
  cause?: string;
  /** Output of a SUCCEEDED execution, as JSON. */
  output?: string;
  readonly events: ExecutionEvent[];
  /** Resolves when the execution ends (never rejects). */
  readonly done: Promise<void>;
}

/** An error of the Step Functions API, named as the service names it (`StateMachineDoesNotExist`, ...). */
export class StepFunctionsApiError extends Error {
  constructor(readonly name: string, message: string) {
    super(message);
  }
}

/** Step Functions' limit on an execution's input (256 KiB). */
export const MAX_INPUT_BYTES = 256 * 1024;
/** What an execution name may not hold: whitespace, brackets, wildcards, special and control characters. */
const INVALID_NAME_CHARACTER = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/u;
/** Lambda API errors that a Task reports as `Lambda.<name>`. */
const LAMBDA_API_ERRORS = ['TooManyRequestsException', 'ResourceNotFoundException'];

/** The execution ended before its states did (its TimeoutSeconds passed). */
class Stopped extends Error {}

export class LocalStepFunctions {
  readonly executions: Execution[] = [];
  private readonly machines = new Map<string, StateMachineDefinition>();

  constructor(private readonly lambda: LocalLambda, private readonly waits: Waits, private readonly onEvent?: (e: ExecutionEvent) => void) {}

  /** Adds a state machine; a definition using what is not emulated throws here. */
  add(stateMachineArn: string, definition: StateMachineDefinition): void {
    checkDefinition(definition);
    this.machines.set(stateMachineArn, definition);
  }

  /** The state machine ARNs known. */
  get stateMachineArns(): string[] {
    return [...this.machines.keys()];
  }

  /**
   * `StartExecution`: answers at once; the execution runs on in the
   * background. A name already used answers the same execution while it
   * runs with the same input, and `ExecutionAlreadyExists` otherwise.
   *
   * @param tag passed to the execution's Lambda invocations
   */
  startExecution(request: { stateMachineArn?: string; name?: string; input?: string }, tag?: string): { executionArn: string; startDate: Date } {
    const stateMachineArn = request.stateMachineArn ?? '';
    const definition = this.machines.get(stateMachineArn);
    if (!definition) {
      throw new StepFunctionsApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    }
    const name = request.name ?? randomUUID();
    if (name.length < 1 || name.length > 80 || INVALID_NAME_CHARACTER.test(name)) {
      throw new StepFunctionsApiError('InvalidName', `Invalid Name: '${name}'`);
    }
    const input = request.input ?? '{}';
    if (Buffer.byteLength(input) > MAX_INPUT_BYTES) {
      throw new StepFunctionsApiError('InvalidExecutionInput', `Invalid State Machine Execution Input: the input is ${Buffer.byteLength(input)} bytes, over the limit of ${MAX_INPUT_BYTES}`);
    }
    let data: unknown;
    try {
      data = JSON.parse(input);
    } catch (e) {
      throw new StepFunctionsApiError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${(e as Error).message}'`);
    }
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.find((e) => e.executionArn === executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn, startDate: existing.startDate };
      }
      throw new StepFunctionsApiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const execution: { -readonly [K in keyof Execution]: Execution[K] } = {
      executionArn,
      stateMachineArn,
      name,
      input,
      startDate: new Date(this.waits.clock.nowMs()),
      tag,
      status: 'RUNNING',
      events: [],
      done: Promise.resolve(),
    };
    this.executions.push(execution);
    execution.done = this.run(definition, data, execution);
    return { executionArn, startDate: execution.startDate };
  }

  /** Runs the execution to its end, within the definition's TimeoutSeconds, and records how it ended. */
  private async run(definition: StateMachineDefinition, input: unknown, execution: Execution): Promise<void> {
    // StartExecution answers first: the execution starts at the host's next turn, so a
    // function's cold start in its first Task never holds up the caller's answer.
    await new Promise<void>((resolve) => this.waits.after(0, resolve));
    const pending = new Set<() => void>();
    let stopped = false;
    const sleep = (seconds: number) => new Promise<void>((resolve) => {
      const wake = () => {
        pending.delete(stop);
        resolve();
      };
      const cancel = this.waits.after(seconds * 1000, wake);
      const stop = () => {
        cancel();
        wake();
      };
      pending.add(stop);
    });
    const context: RunContext = {
      execution,
      sleep,
      checkRunning: () => {
        if (stopped) {
          throw new Stopped();
        }
      },
      emit: (e) => {
        if (!stopped) {
          execution.events.push(e);
          this.onEvent?.(e);
        }
      },
    };
    let cancelTimeout = () => {};
    const timedOut = new Promise<'timed-out'>((resolve) => {
      if (definition.TimeoutSeconds !== undefined) {
        cancelTimeout = this.waits.after(definition.TimeoutSeconds * 1000, () => {
          // The execution ends now: no state starts at or after its time limit. A Lambda
          // invocation under way runs on to its own end, unheard.
          stopped = true;
          [...pending].forEach((stop) => stop());
          resolve('timed-out');
        });
      }
    });
    const states = this.runStates(definition, input, context).then(
      (output) => ({ output }),
      (error: unknown) => ({ error }),
    );
    const outcome = await Promise.race([states, timedOut]);
    cancelTimeout();
    if (outcome === 'timed-out' || stopped) {
      Object.assign(execution, { status: 'TIMED_OUT', error: 'States.Timeout', cause: `The execution ran longer than its TimeoutSeconds (${definition.TimeoutSeconds})` });
    } else if ('output' in outcome) {
      Object.assign(execution, { status: 'SUCCEEDED', output: JSON.stringify(outcome.output) });
    } else {
      const failure = outcome.error instanceof StatesError ? outcome.error : new StatesError('States.Runtime', String(outcome.error));
      Object.assign(execution, { status: 'FAILED', error: failure.error, cause: failure.cause });
    }
  }

  /** Runs the states from StartAt; resolves with the execution's output, or rejects with its error. */
  private async runStates(definition: StateMachineDefinition, input: unknown, context: RunContext): Promise<unknown> {
    let name = definition.StartAt;
    let data = input;
    for (;;) {
      context.checkRunning();
      const state = definition.States[name];
      switch (state.Type) {
        case 'Task': {
          const outcome = await this.task(name, state, data, context);
          data = outcome.data;
          if (outcome.next) {
            // A Catch leads on: the state's own End or Next no longer applies.
            name = outcome.next;
            continue;
          }
          break;
        }
        case 'Choice': {
          const rule = state.Choices!.find((r) => choiceMatches(r, data));
          const chosen = rule?.Next ?? state.Default;
          if (chosen === undefined) {
            throw new StatesError('States.NoChoiceMatched', `No Matches! (state ${name})`);
          }
          context.emit({ kind: 'choice', state: name, next: chosen });
          name = chosen;
          continue;
        }
        case 'Wait':
          context.emit({ kind: 'wait', state: name, seconds: state.Seconds! });
          await context.sleep(state.Seconds!);
          break;
        case 'Pass':
          break;
        case 'Succeed':
          return data;
        case 'Fail':
          throw new StatesError(state.Error ?? 'States.Fail', state.Cause ?? '');
      }
      if (state.End) {
        return data;
      }
      name = state.Next!;
    }
  }

  /** Runs a Task state with its retriers: its output, or the data and the state its Catch leads to. */
  private async task(name: string, state: State, input: unknown, context: RunContext): Promise<{ data: unknown; next?: string }> {
    const retriers = state.Retry ?? [];
    const retries = retriers.map(() => 0);
    for (let attempt = 1; ; attempt++) {
      context.checkRunning();
      context.emit({ kind: 'task', state: name, attempt });
      let failure: StatesError;
      try {
        const result = await this.invoke(state.Resource!, input, context.execution.tag);
        context.checkRunning();
        return { data: applyResultPath(input, result, state.ResultPath) };
      } catch (e) {
        if (e instanceof Stopped) {
          throw e;
        }
        failure = e instanceof StatesError ? e : new StatesError('States.Runtime', String(e));
      }
      context.emit({ kind: 'task-failed', state: name, error: failure.error });
      const index = retriers.findIndex((r) => errorMatches(r.ErrorEquals, failure.error));
      if (index >= 0 && retries[index] < (retriers[index].MaxAttempts ?? 3)) {
        const seconds = retryDelaySeconds(retriers[index], retries[index]);
        retries[index] += 1;
        context.emit({ kind: 'retry-wait', state: name, seconds });
        await context.sleep(seconds);
        continue;
      }
      const catcher = (state.Catch ?? []).find((c) => errorMatches(c.ErrorEquals, failure.error));
      if (!catcher) {
        throw failure;
      }
      context.emit({ kind: 'caught', state: name, error: failure.error, next: catcher.Next });
      return { next: catcher.Next, data: applyResultPath(input, { Error: failure.error, Cause: failure.cause }, catcher.ResultPath) };
    }
  }

  /**
   * A Task whose Resource is a Lambda function ARN: the payload is the state
   * input, the result the function's. Lambda's refusals are the state's
   * errors, prefixed `Lambda.` (`Lambda.TooManyRequestsException` over the
   * account's concurrency); a function's unhandled error is its `errorType`;
   * a function that timed out is `Lambda.Unknown`, as Step Functions reports
   * function timeouts
   * (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).
   */
  private async invoke(functionArn: string, data: unknown, tag?: string): Promise<unknown> {
    let output: InvokeOutput;
    try {
      output = await this.lambda.invoke(functionArn, JSON.stringify(data), tag);
    } catch (error) {
      const errorName = (error as { name?: string }).name ?? '';
      if (LAMBDA_API_ERRORS.includes(errorName)) {
        throw new StatesError(`Lambda.${errorName}`, JSON.stringify({ errorMessage: (error as Error).message, errorType: errorName }));
      }
      throw error;
    }
    const payload = Buffer.from(output.Payload).toString('utf8');
    if (output.FunctionError) {
      // The cause is the Lambda error's whole body.
      const errorType = (JSON.parse(payload) as { errorType?: string }).errorType;
      throw new StatesError(errorType === undefined || errorType === 'Sandbox.Timedout' ? 'Lambda.Unknown' : errorType, payload);
    }
    return JSON.parse(payload);
  }
}

/** What the states of one execution share. */
interface RunContext {
  readonly execution: Execution;
  /** A wait on the emulated clock, cut short when the execution ends. */
  sleep(seconds: number): Promise<void>;
  /** Throws once the execution has ended (timed out). */
  checkRunning(): void;
  emit(e: ExecutionEvent): void;
}
