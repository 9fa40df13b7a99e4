/**
 * The part of the Amazon States Language (JSONPath) that the emulated Step
 * Functions runs: the definition's shape, checked when a state machine is
 * added, and the data rules a state applies (reference paths, `ResultPath`,
 * `Choice` rules, the retry delay). A definition using anything else is
 * refused when it is added, rather than approximated.
 *
 * https://states-language.net/spec.html
 */

export interface StateMachineDefinition {
  readonly Comment?: string;
  readonly StartAt: string;
  readonly States: Readonly<Record<string, State>>;
  /** The execution's time limit: past it, the execution ends `TIMED_OUT` (`States.Timeout`). */
  readonly TimeoutSeconds?: number;
  readonly Version?: string;
  readonly QueryLanguage?: string;
}

export interface State {
  readonly Type: string;
  readonly Comment?: string;
  readonly Next?: string;
  readonly End?: boolean;
  /** Task: a Lambda function ARN. */
  readonly Resource?: string;
  /** Task: where the result goes in the state's input (`null` discards it). */
  readonly ResultPath?: string | null;
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly Catcher[];
  /** Choice. */
  readonly Choices?: readonly ChoiceRule[];
  readonly Default?: string;
  /** Wait. */
  readonly Seconds?: number;
  /** Fail. */
  readonly Error?: string;
  readonly Cause?: string;
}

export interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: 'FULL' | 'NONE';
  readonly Comment?: string;
}

export interface Catcher {
  readonly ErrorEquals: readonly string[];
  readonly Next: string;
  readonly ResultPath?: string | null;
  readonly Comment?: string;
}

export interface ChoiceRule {
  readonly Variable: string;
  readonly Next: string;
  readonly BooleanEquals?: boolean;
  readonly StringEquals?: string;
  readonly NumericEquals?: number;
  readonly IsPresent?: boolean;
  readonly Comment?: string;
}

/** Fields each state type may have here. */
const STATE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Task: ['Resource', 'ResultPath', 'Retry', 'Catch', 'Next', 'End'],
  Choice: ['Choices', 'Default'],
  Wait: ['Seconds', 'Next', 'End'],
  Pass: ['Next', 'End'],
  Succeed: [],
  Fail: ['Error', 'Cause'],
};
const RETRIER_FIELDS = ['ErrorEquals', 'IntervalSeconds', 'MaxAttempts', 'BackoffRate', 'MaxDelaySeconds', 'JitterStrategy', 'Comment'];
const CATCHER_FIELDS = ['ErrorEquals', 'Next', 'ResultPath', 'Comment'];
/** Choice rule comparisons emulated: each takes `Variable` and a value of its type. */
const COMPARISONS: Readonly<Record<string, string>> = { BooleanEquals: 'boolean', StringEquals: 'string', NumericEquals: 'number', IsPresent: 'boolean' };
const TOP_LEVEL_FIELDS = ['Comment', 'StartAt', 'States', 'TimeoutSeconds', 'Version', 'QueryLanguage'];
const LAMBDA_ARN = /^arn:[^:]+:lambda:[^:]+:\d+:function:[^:]+$/;

/** A state's failure, named as Step Functions names it (`Error`, `Cause`). */
export class StatesError extends Error {
  constructor(readonly error: string, readonly cause: string) {
    super(`${error}: ${cause}`);
    this.name = 'StatesError';
  }
}

/** Throws, naming the state and field, unless every part of the definition is emulated. */
export function checkDefinition(definition: StateMachineDefinition): void {
  unknownFields('the definition', definition as unknown as Record<string, unknown>, TOP_LEVEL_FIELDS);
  if (definition.QueryLanguage !== undefined && definition.QueryLanguage !== 'JSONPath') {
    throw new Error(`QueryLanguage ${definition.QueryLanguage} is not emulated (JSONPath only)`);
  }
  if (definition.TimeoutSeconds !== undefined && !(Number.isInteger(definition.TimeoutSeconds) && definition.TimeoutSeconds > 0)) {
    throw new Error(`TimeoutSeconds must be a positive whole number, got ${definition.TimeoutSeconds}`);
  }
  const names = Object.keys(definition.States ?? {});
  const target = (where: string, next: string | undefined) => {
    if (next === undefined || !names.includes(next)) {
      throw new Error(`${where}: no state named ${next}`);
    }
  };
  target('StartAt', definition.StartAt);
  for (const [name, state] of Object.entries(definition.States)) {
    const fields = STATE_FIELDS[state.Type];
    if (!fields) {
      throw new Error(`state ${name}: state type ${state.Type} is not emulated`);
    }
    unknownFields(`state ${name}`, state as unknown as Record<string, unknown>, ['Type', 'Comment', ...fields]);
    if (fields.includes('End')) {
      if ((state.End === true) === (state.Next !== undefined)) {
        throw new Error(`state ${name}: needs either Next or End: true`);
      }
      if (state.Next !== undefined) {
        target(`state ${name}`, state.Next);
      }
    }
    if (state.Type === 'Task' && !LAMBDA_ARN.test(state.Resource ?? '')) {
      throw new Error(`state ${name}: only Tasks invoking a Lambda function by ARN are emulated, got Resource ${state.Resource}`);
    }
    if (state.ResultPath !== undefined && state.ResultPath !== null) {
      parsePath(state.ResultPath);
    }
    for (const retrier of state.Retry ?? []) {
      unknownFields(`state ${name}: Retry`, retrier as unknown as Record<string, unknown>, RETRIER_FIELDS);
    }
    for (const catcher of state.Catch ?? []) {
      unknownFields(`state ${name}: Catch`, catcher as unknown as Record<string, unknown>, CATCHER_FIELDS);
      target(`state ${name}: Catch`, catcher.Next);
      if (catcher.ResultPath !== undefined && catcher.ResultPath !== null) {
        parsePath(catcher.ResultPath);
      }
    }
    if (state.Type === 'Choice') {
      if (!Array.isArray(state.Choices) || state.Choices.length === 0) {
        throw new Error(`state ${name}: a Choice needs Choices`);
      }
      state.Choices.forEach((rule) => checkChoiceRule(name, rule, target));
      if (state.Default !== undefined) {
        target(`state ${name}: Default`, state.Default);
      }
    }
    if (state.Type === 'Wait' && !(Number.isInteger(state.Seconds) && state.Seconds! >= 0)) {
      throw new Error(`state ${name}: only a Wait of Seconds (a whole number) is emulated`);
    }
  }
}

function checkChoiceRule(name: string, rule: ChoiceRule, target: (where: string, next: string | undefined) => void): void {
  const fields = Object.keys(rule).filter((k) => k !== 'Comment');
  const comparisons = fields.filter((k) => k in COMPARISONS);
  const others = fields.filter((k) => !(k in COMPARISONS) && k !== 'Variable' && k !== 'Next');
  if (others.length > 0 || comparisons.length !== 1 || rule.Variable === undefined) {
    throw new Error(`state ${name}: choice rule ${JSON.stringify(rule)} is not emulated (Variable with one of ${Object.keys(COMPARISONS).join(', ')})`);
  }
  const comparison = comparisons[0] as keyof ChoiceRule;
  if (typeof rule[comparison] !== COMPARISONS[comparison]) {
    throw new Error(`state ${name}: ${comparison} takes a ${COMPARISONS[comparison]}, got ${JSON.stringify(rule[comparison])}`);
  }
  parsePath(rule.Variable);
  target(`state ${name}: choice rule`, rule.Next);
}

function unknownFields(where: string, value: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(value).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new Error(`${where}: ${unknown.join(', ')} not emulated`);
  }
}

/** The field names of a reference path: `$` is [], `$.a.b` is ['a', 'b']. Other JSONPath fails loudly. */
export function parsePath(path: string): string[] {
  if (path === '$') {
    return [];
  }
  const names = path.startsWith('$.') ? path.slice(2).split('.') : [];
  if (names.length === 0 || !names.every((n) => /^[A-Za-z_][A-Za-z0-9_-]*$/.test(n))) {
    throw new Error(`path ${path} is not emulated (only $ and $.field.field)`);
  }
  return names;
}

/** The value at a reference path, or `undefined` when it is not there. */
export function valueAt(data: unknown, path: string): unknown {
  let value = data;
  for (const name of parsePath(path)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !(name in value)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

/**
 * A state's output under `ResultPath`: `$` (the default) is the result itself,
 * `null` is the input unchanged, `$.a.b` is the input with the result at `a.b`
 * (objects created on the way; anything else on the way is
 * `States.ResultPathMatchFailure`).
 */
export function applyResultPath(input: unknown, result: unknown, resultPath: string | null | undefined): unknown {
  if (resultPath === null) {
    return input;
  }
  const names = parsePath(resultPath ?? '$');
  if (names.length === 0) {
    return result;
  }
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(input)) {
    throw new StatesError('States.ResultPathMatchFailure', `Unable to apply ResultPath ${resultPath} to input ${JSON.stringify(input)}`);
  }
  const output = structuredClone(input);
  let parent = output;
  for (const name of names.slice(0, -1)) {
    if (parent[name] === undefined) {
      parent[name] = {};
    }
    const child = parent[name];
    if (!isObject(child)) {
      throw new StatesError('States.ResultPathMatchFailure', `Unable to apply ResultPath ${resultPath}: ${name} is not an object`);
    }
    parent = child;
  }
  parent[names[names.length - 1]] = result;
  return output;
}

/**
 * Whether a choice rule matches. A comparison with a value of another type is
 * false; a comparison (other than `IsPresent`) on a path that is not there is
 * `States.Runtime`, which fails the execution.
 */
export function choiceMatches(rule: ChoiceRule, data: unknown): boolean {
  const value = valueAt(data, rule.Variable);
  if (rule.IsPresent !== undefined) {
    return (value !== undefined) === rule.IsPresent;
  }
  if (value === undefined) {
    throw new StatesError('States.Runtime', `Invalid path '${rule.Variable}': The choice state's condition path references an invalid value.`);
  }
  if (rule.BooleanEquals !== undefined) {
    return value === rule.BooleanEquals;
  }
  if (rule.StringEquals !== undefined) {
    return value === rule.StringEquals;
  }
  return typeof value === 'number' && value === rule.NumericEquals;
}

/** The wait before retry number `retriesSoFar + 1`: IntervalSeconds × BackoffRate^retriesSoFar, capped, with full jitter a random share of it. */
export function retryDelaySeconds(retrier: Retrier, retriesSoFar: number): number {
  const delay = (retrier.IntervalSeconds ?? 1) * Math.pow(retrier.BackoffRate ?? 2, retriesSoFar);
  const capped = Math.min(delay, retrier.MaxDelaySeconds ?? Infinity);
  return retrier.JitterStrategy === 'FULL' ? Math.random() * capped : capped;
}

/** Errors that `States.ALL` does not match (they end the execution). */
const TERMINAL_ERRORS = ['States.Runtime', 'States.DataLimitExceeded'];

/** Whether a retrier's or catcher's `ErrorEquals` matches an error name. */
export function errorMatches(errorEquals: readonly string[], error: string): boolean {
  return errorEquals.some((e) => e === error
    || (e === 'States.ALL' && !TERMINAL_ERRORS.includes(error))
    || (e === 'States.TaskFailed' && !TERMINAL_ERRORS.includes(error) && error !== 'States.Timeout'));
}
