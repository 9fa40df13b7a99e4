/**
 * Emulated AWS Step Functions for the provider framework's waiter: runs a
 * state machine definition as synthesized (Task states that invoke Lambda
 * functions by ARN, with their Retry and Catch), waiting on the emulated clock.
 * Anything else in a definition fails loudly rather than being approximated.
 */
import { randomUUID } from 'crypto';
import { Waits } from './clock';
import { InvokeOutput, LocalLambda, TooManyRequestsException } from './lambda';

/** The subset of the Amazon States Language the waiter uses. */
export interface StateMachineDefinition {
  readonly StartAt: string;
  readonly States: Record<string, State>;
}

interface State {
  readonly Type: string;
  readonly Resource?: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly Catcher[];
  readonly [other: string]: unknown;
}

export interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: 'FULL' | 'NONE';
}

interface Catcher {
  readonly ErrorEquals: readonly string[];
  readonly Next: string;
  readonly ResultPath?: string;
}

/** One step of an execution, for assertions and progress output. */
export type ExecutionEvent =
  | { readonly kind: 'task'; readonly state: string; readonly attempt: number }
  | { readonly kind: 'task-failed'; readonly state: string; readonly error: string }
  | { readonly kind: 'retry-wait'; readonly state: string; readonly seconds: number }
  | { readonly kind: 'caught'; readonly state: string; readonly error: string; readonly next: string };

export interface Execution {
  readonly executionArn: string;
  readonly input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  /** Error of a FAILED execution. */
  error?: string;
  readonly events: ExecutionEvent[];
  /** Resolves when the execution ends (never rejects). */
  readonly done: Promise<void>;
}

/** Step Functions' limit on an execution's input. */
const MAX_INPUT_BYTES = 256 * 1024;
/** Errors that `States.ALL` does not match (they end the execution). */
const TERMINAL_ERRORS = ['States.Runtime', 'States.DataLimitExceeded'];

class TaskFailure extends Error {
  constructor(readonly error: string, readonly cause: string) {
    super(`${error}: ${cause}`);
  }
}

export class LocalStepFunctions {
  readonly executions: Execution[] = [];
  private readonly machines = new Map<string, StateMachineDefinition>();

  constructor(private readonly lambda: LocalLambda, private readonly waits: Waits, private readonly onEvent?: (e: ExecutionEvent) => void) {}

  add(stateMachineArn: string, definition: StateMachineDefinition): void {
    for (const [name, state] of Object.entries(definition.States)) {
      checkSupported(name, state);
    }
    this.machines.set(stateMachineArn, definition);
  }

  /**
   * `StartExecution`: answers at once; the execution runs on in the background.
   *
   * @param tag passed to the Lambda invocations of the execution
   */
  startExecution(request: { stateMachineArn?: string; input?: string }, tag?: string): { executionArn: string; startDate: Date } {
    const definition = request.stateMachineArn ? this.machines.get(request.stateMachineArn) : undefined;
    if (!definition) {
      throw Object.assign(new Error(`State Machine Does Not Exist: '${request.stateMachineArn}'`), { name: 'StateMachineDoesNotExist' });
    }
    const input = request.input ?? '{}';
    if (Buffer.byteLength(input) > MAX_INPUT_BYTES) {
      throw Object.assign(new Error(`The input exceeds ${MAX_INPUT_BYTES} bytes`), { name: 'InvalidExecutionInput' });
    }
    const executionArn = `${request.stateMachineArn!.replace(':stateMachine:', ':execution:')}:${randomUUID()}`;
    const events: ExecutionEvent[] = [];
    const execution: Execution = {
      executionArn,
      input,
      status: 'RUNNING',
      events,
      done: this.run(definition, JSON.parse(input), events, tag).then(
        () => { execution.status = 'SUCCEEDED'; },
        (e: Error) => { execution.status = 'FAILED'; execution.error = e.message; },
      ),
    };
    this.executions.push(execution);
    return { executionArn, startDate: new Date() };
  }

  private async run(definition: StateMachineDefinition, input: unknown, events: ExecutionEvent[], tag?: string): Promise<void> {
    const emit = (e: ExecutionEvent) => {
      events.push(e);
      this.onEvent?.(e);
    };
    let name = definition.StartAt;
    let data = input;
    for (;;) {
      const state = definition.States[name];
      switch (state.Type) {
        case 'Task': {
          const outcome = await this.task(name, state, data, emit, tag);
          if ('next' in outcome) {
            name = outcome.next;
            data = outcome.data;
            continue;
          }
          data = outcome.output;
          break;
        }
        case 'Succeed':
          return;
        case 'Fail':
          throw new Error(`${String(state.Error ?? 'States.Fail')}: ${String(state.Cause ?? '')}`);
        case 'Pass':
          break;
        default:
          throw new Error(`state type ${state.Type} is not emulated`);
      }
      if (state.End) {
        return;
      }
      name = state.Next!;
    }
  }

  /** Runs a Task state with its retriers; returns its output, or where its Catch leads. */
  private async task(name: string, state: State, data: unknown, emit: (e: ExecutionEvent) => void, tag?: string):
  Promise<{ output: unknown } | { next: string; data: unknown }> {
    const retries = (state.Retry ?? []).map(() => 0);
    for (let attempt = 1; ; attempt++) {
      emit({ kind: 'task', state: name, attempt });
      let failure: TaskFailure;
      try {
        return { output: await this.invoke(state.Resource!, data, tag) };
      } catch (e) {
        failure = e instanceof TaskFailure ? e : new TaskFailure('States.Runtime', String(e));
      }
      emit({ kind: 'task-failed', state: name, error: failure.error });
      const index = (state.Retry ?? []).findIndex((r) => errorMatches(r.ErrorEquals, failure.error));
      if (index >= 0 && retries[index] < (state.Retry![index].MaxAttempts ?? 3)) {
        const seconds = retryDelaySeconds(state.Retry![index], retries[index]);
        retries[index] += 1;
        emit({ kind: 'retry-wait', state: name, seconds });
        await this.waits.sleep(seconds);
        continue;
      }
      const catcher = (state.Catch ?? []).find((c) => errorMatches(c.ErrorEquals, failure.error));
      if (!catcher) {
        throw failure;
      }
      emit({ kind: 'caught', state: name, error: failure.error, next: catcher.Next });
      return { next: catcher.Next, data: { Error: failure.error, Cause: failure.cause } };
    }
  }

  /**
   * A Task whose Resource is a Lambda function ARN: the payload is the state
   * input. Lambda's refusals are the state's errors, prefixed `Lambda.`
   * (`Lambda.TooManyRequestsException` over the account's concurrency).
   */
  private async invoke(functionArn: string, data: unknown, tag?: string): Promise<unknown> {
    let output: InvokeOutput;
    try {
      output = await this.lambda.invoke(functionArn, JSON.stringify(data), tag);
    } catch (error) {
      if (error instanceof TooManyRequestsException) {
        throw new TaskFailure(`Lambda.${error.name}`, JSON.stringify({ errorMessage: error.message, errorType: error.name }));
      }
      throw error;
    }
    const payload = Buffer.from(output.Payload).toString('utf8');
    if (output.FunctionError) {
      // The Lambda error's type becomes the state error; its whole body, the cause.
      const body = JSON.parse(payload) as { errorType?: string };
      throw new TaskFailure(body.errorType ?? 'Lambda.Unknown', payload);
    }
    return JSON.parse(payload);
  }
}

/** The wait before retry number `retriesSoFar + 1`: IntervalSeconds × BackoffRate^retriesSoFar, capped. */
export function retryDelaySeconds(retrier: Retrier, retriesSoFar: number): number {
  const delay = (retrier.IntervalSeconds ?? 1) * Math.pow(retrier.BackoffRate ?? 2, retriesSoFar);
  const capped = Math.min(delay, retrier.MaxDelaySeconds ?? Infinity);
  return retrier.JitterStrategy === 'FULL' ? Math.random() * capped : capped;
}

function errorMatches(errorEquals: readonly string[], error: string): boolean {
  return errorEquals.some((e) => e === error
    || (e === 'States.ALL' && !TERMINAL_ERRORS.includes(error))
    || (e === 'States.TaskFailed' && !TERMINAL_ERRORS.includes(error) && error !== 'States.Timeout'));
}

function checkSupported(name: string, state: State): void {
  const known = ['Type', 'Resource', 'Next', 'End', 'Retry', 'Catch', 'Comment', 'Error', 'Cause'];
  const unknown = Object.keys(state).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new Error(`state ${name}: ${unknown.join(', ')} not emulated`);
  }
  if (state.Type === 'Task' && !/^arn:[^:]+:lambda:[^:]+:\d+:function:[^:]+$/.test(state.Resource ?? '')) {
    throw new Error(`state ${name}: only Tasks invoking a Lambda function by ARN are emulated, got Resource ${state.Resource}`);
  }
  for (const c of state.Catch ?? []) {
    if (c.ResultPath !== undefined && c.ResultPath !== '$') {
      throw new Error(`state ${name}: Catch ResultPath ${c.ResultPath} not emulated`);
    }
  }
}
