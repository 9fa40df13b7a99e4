/**
 * The README's figures are the code's: each figure is found by a narrow
 * pattern on its own sentence and compared with the constant the handler
 * exports, the value the synthesized template holds, or AWS's published
 * Proton model. Changing either side alone fails this test; the second half
 * proves it, changing each README figure in turn. The troubleshooting table's
 * messages are checked against the sentences the handler produces.
 */
import { readFileSync } from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import { join } from 'path';
import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ANSWER_MARGIN_MS, ANSWER_TASK_PUT_MS, THROTTLE_RETRY } from '../lambda';
import { FAULT_WINDOW_MS } from '../lambda/cancel';
import { MAX_MESSAGE_BYTES } from '../lambda/decide';
import {
  explainProtonError, invalidPropertyError, noPipelineError, noServiceError, notCancelledError, nothingToCancelError,
  responseUrlNotStoredError, timeoutError, waiterFailedError, waiterNotStartedError,
} from '../lambda/errors';
import { MAX_RESPONSE_BYTES, putTiming, sendAnswer } from '../lambda/respond';
import { BASE_BACKOFF_MS, DENIED_RETRY_MS, MAX_BACKOFF_MS } from '../lambda/retry';
import { CALL_BUDGET_MS, CLIENT_CONFIG, MAX_ATTEMPTS, POLL_CLIENT_CONFIG } from '../lambda/sdk';
import { propertyProblem } from '../lambda/validate';
import { CancelPipelineDeployment, CancelPipelineDeploymentProvider } from '../lib';
import { DEFAULTS, LIMITS } from '../lib/contract';
import { loadModel } from './proton-model';

const README = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

// ---------------------------------------------------------------------------
// What the code and the template hold
// ---------------------------------------------------------------------------

function newStack(): Stack {
  return new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
}

/** A stack of one instance with the provider's defaults. */
function defaultTemplate(): Template {
  const stack = newStack();
  new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'my-service' });
  return Template.fromStack(stack);
}

/** The `ServiceTimeout` of an instance with this timeout and poll interval. */
function serviceTimeout(timeout: Duration, pollInterval: Duration): number {
  const stack = newStack();
  const provider = new CancelPipelineDeploymentProvider(stack, 'Provider', { pollInterval });
  new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'my-service', timeout, provider });
  const [resource] = Object.values(Template.fromStack(stack).findResources('Custom::ProtonCancelPipelineDeployment'));
  return Number(resource.Properties.ServiceTimeout);
}

/** The `ServiceTimeout` of an instance whose timeout is a token. */
function tokenServiceTimeout(): number {
  const stack = newStack();
  const seconds = new CfnParameter(stack, 'Timeout', { type: 'Number' }).valueAsNumber;
  new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'my-service', timeout: Duration.seconds(seconds) });
  const [resource] = Object.values(Template.fromStack(stack).findResources('Custom::ProtonCancelPipelineDeployment'));
  return Number(resource.Properties.ServiceTimeout);
}

interface Retrier {
  readonly ErrorEquals: string[];
  readonly IntervalSeconds: number;
  readonly MaxAttempts: number;
  readonly BackoffRate: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: string;
}
interface State {
  readonly Type: string;
  readonly Next?: string;
  readonly Seconds?: number;
  readonly Retry?: Retrier[];
  readonly Default?: string;
  readonly Choices?: Array<{ readonly Next: string }>;
}
interface Definition {
  readonly StartAt: string;
  readonly States: Record<string, State>;
  readonly TimeoutSeconds: number;
}

/** The waiter's definition, with the function ARNs (tokens) as plain strings. */
function waiterDefinition(template: Template): Definition {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const joined = machine.Properties.DefinitionString['Fn::Join'][1] as unknown[];
  return JSON.parse(joined.map(part => typeof part === 'string' ? part : 'ARN').join(''));
}

function retrier(state: State, error: string): Retrier {
  const found = state.Retry!.find(retry => retry.ErrorEquals.includes(error));
  expect(found).toBeDefined();
  return found!;
}

const template = defaultTemplate();
const definition = waiterDefinition(template);
const functions = Object.values(template.findResources('AWS::Lambda::Function'));
const waitSeconds = definition.States.Wait.Seconds!;
const lambdaThrottle = retrier(definition.States.Step, 'Lambda.TooManyRequestsException');
const lambdaFault = retrier(definition.States.Step, 'Lambda.ServiceException');
const answerRetry = retrier(definition.States.Answer, 'AnswerNotSent');
const resourcesPerStack = Object.values(template.toJSON().Resources as Record<string, { Type: string }>)
  .filter(resource => resource.Type !== 'Custom::ProtonCancelPipelineDeployment').length;
const protonModel = loadModel();

/** The same value in every function. */
function ofEveryFunction<T>(read: (properties: Record<string, unknown>) => T): T {
  const values = new Set(functions.map(fn => read(fn.Properties)));
  expect(values.size).toBe(1);
  return [...values][0];
}

/**
 * The waits of the answer's PUT against a URL that always answers 500,
 * with a deadline far enough to reach the cap.
 */
async function putWaits(): Promise<number[]> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(500).end());
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const waits: number[] = [];
  const sleep = putTiming.sleep;
  // The waits pass on a clock of their own: Date.now() moves by each wait.
  let slept = 0;
  const realNow = Date.now.bind(Date);
  const now = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + slept);
  putTiming.sleep = async (ms: number) => {
    waits.push(ms);
    slept += ms;
  };
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/answer`;
    const request = { StackId: 'stack', RequestId: 'request', LogicalResourceId: 'Cancel', ResponseURL: url };
    await expect(sendAnswer(request, { status: 'SUCCESS', physicalResourceId: 'my-service' }, Date.now() + 200_000)).rejects.toThrow(/HTTP 500/);
  } finally {
    putTiming.sleep = sleep;
    now.mockRestore();
    await new Promise(resolve => server.close(resolve));
  }
  return waits;
}

// ---------------------------------------------------------------------------
// The README's figures
// ---------------------------------------------------------------------------

/** A figure of the README: the sentence that holds it (`#` marks the figure) and the value the code holds. */
interface Figure {
  readonly sentence: string;
  readonly actual: () => number;
}

const WORDS: Record<string, number> = { a: 1, one: 1, two: 2, three: 3, four: 4, six: 6 };

/** The sentence as a pattern: its words as they are (any line breaks between them), the figure captured. */
function patternOf(sentence: string): RegExp {
  const parts = sentence.split('#').map(part => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+'));
  expect(parts).toHaveLength(2);
  return new RegExp(`${parts[0]}(\\d[\\d,]*(?:\\.\\d+)?|a|one|two|three|four|six)${parts[1]}`, 'gd');
}

function valueOf(text: string): number {
  return WORDS[text] ?? Number(text.replace(/,/g, ''));
}

const FIGURES: Figure[] = [
  // The end of support, as the handler's message about an unreachable Proton gives it.
  { sentence: 'ended support for AWS Proton on **October #, 2026**', actual: () => Number(/on October (\d+), 2026/.exec(unreachableMessage())![1]) },

  // Options and their ranges.
  { sentence: '| `pollInterval` | # seconds |', actual: () => waitSeconds },
  { sentence: 'any whole number of seconds from # seconds to 5 minutes', actual: () => LIMITS.minPollIntervalSeconds },
  { sentence: 'any whole number of seconds from 5 seconds to # minutes', actual: () => LIMITS.maxPollIntervalSeconds / 60 },
  { sentence: '| `timeout` | # minutes |', actual: () => DEFAULTS.timeoutSeconds / 60 },
  { sentence: 'a whole number of seconds from # minute to 50 minutes', actual: () => LIMITS.minTimeoutSeconds / 60 },
  { sentence: 'a whole number of seconds from 1 minute to # minutes', actual: () => LIMITS.maxTimeoutSeconds / 60 },
  { sentence: '`timeout` (whole seconds, 60 to #)', actual: () => LIMITS.maxTimeoutSeconds },
  { sentence: '`timeout` (whole seconds, # to 3,000)', actual: () => LIMITS.minTimeoutSeconds },
  { sentence: 'Raise `timeout` (at most # minutes)', actual: () => LIMITS.maxTimeoutSeconds / 60 },
  { sentence: 'The Proton service. 1–# characters', actual: () => protonModel.shapes.ResourceName.max! },
  { sentence: 'The Proton service. 1–# characters', actual: () => LIMITS.serviceNameMaxLength },
  { sentence: '`serviceName` (1 to # letters', actual: () => LIMITS.serviceNameMaxLength },

  // ServiceTimeout and the waiter's hour.
  { sentence: 'the resource\'s `ServiceTimeout` is then # seconds', actual: () => tokenServiceTimeout() },
  { sentence: '`ServiceTimeout` is its `timeout` + one poll interval + # seconds', actual: () => serviceTimeout(Duration.minutes(20), Duration.seconds(30)) - 20 * 60 - 30 },
  { sentence: 'at most # seconds for any valid pair', actual: () => serviceTimeout(Duration.seconds(LIMITS.maxTimeoutSeconds), Duration.seconds(LIMITS.maxPollIntervalSeconds)) },
  { sentence: 'The waiter state machine\'s `TimeoutSeconds` is a fixed #', actual: () => definition.TimeoutSeconds },
  { sentence: 'is `timeout` + one poll interval + # seconds (3,600 seconds', actual: () => serviceTimeout(Duration.seconds(LIMITS.minTimeoutSeconds), Duration.seconds(5)) - LIMITS.minTimeoutSeconds - 5 },
  { sentence: '(# seconds when `timeout` is a token), so a lost answer', actual: () => tokenServiceTimeout() },

  // Sizes.
  { sentence: 'Proton\'s message, at most # bytes', actual: () => MAX_MESSAGE_BYTES },
  { sentence: 'The service\'s `spec` (up to # characters)', actual: () => protonModel.shapes.SpecContents.max! },
  { sentence: 'under CloudFormation\'s #-byte cap', actual: () => MAX_RESPONSE_BYTES },

  // What it creates.
  { sentence: 'Per stack, once, # resources', actual: () => resourcesPerStack },
  { sentence: 'resources: # functions (Node.js', actual: () => functions.length },
  { sentence: '# roles, one for each function and one for the waiter', actual: () => Object.keys(template.findResources('AWS::IAM::Role')).length },
  { sentence: 'with # IAM policies', actual: () => Object.keys(template.findResources('AWS::IAM::Policy')).length },
  { sentence: 'functions (Node.js #, arm64', actual: () => Number(/^nodejs(\d+)\.x$/.exec(ofEveryFunction(p => p.Runtime as string))![1]) },
  { sentence: 'arm64, # MB', actual: () => ofEveryFunction(p => p.MemorySize as number) },
  { sentence: 'a #-minute timeout)', actual: () => ofEveryFunction(p => p.Timeout as number) / 60 },
  { sentence: 'one log group (#-year retention', actual: () => Object.values(template.findResources('AWS::Logs::LogGroup'))[0].Properties.RetentionInDays / 365 },

  // The AWS calls.
  { sentence: 'Each call gives up after # seconds', actual: () => CALL_BUDGET_MS / 1000 },
  { sentence: 'seconds (a #-second connection timeout per attempt)', actual: () => CLIENT_CONFIG.requestHandler.connectionTimeout / 1000 },
  { sentence: 'Each AWS call makes up to # attempts', actual: () => MAX_ATTEMPTS },
  { sentence: 'with a #-second connection timeout, 10 seconds per attempt', actual: () => CLIENT_CONFIG.requestHandler.connectionTimeout / 1000 },
  { sentence: 'connection timeout, # seconds per attempt', actual: () => CLIENT_CONFIG.requestHandler.requestTimeout / 1000 },
  { sentence: 'per attempt and # seconds per call', actual: () => CALL_BUDGET_MS / 1000 },
  { sentence: 'A poll makes # attempt', actual: () => POLL_CLIENT_CONFIG.maxAttempts },
  { sentence: 'is retried for # seconds from the first denial', actual: () => DENIED_RETRY_MS / 1000 },
  { sentence: 'Still denied after # seconds of retries', actual: () => DENIED_RETRY_MS / 1000 },
  { sentence: 'taken again at the next interval within # minutes of the request\'s arrival', actual: () => FAULT_WINDOW_MS / 60_000 },
  { sentence: 'Proton kept failing: for # minutes in the first step', actual: () => FAULT_WINDOW_MS / 60_000 },

  // OnEvent's retries.
  { sentence: 'a random wait up to # second, doubling', actual: () => BASE_BACKOFF_MS / 1000 },
  { sentence: 'doubling, at most # seconds) for up to 2.5 minutes', actual: () => MAX_BACKOFF_MS / 1000 },
  { sentence: 'at most 15 seconds) for up to # minutes', actual: () => THROTTLE_RETRY.onEventMs / 60_000 },
  { sentence: 'call with full jitter for up to # minutes', actual: () => THROTTLE_RETRY.onEventMs / 60_000 },

  // The answer.
  { sentence: 'retried in place (waits from # second, doubling', actual: () => putWaitsSeen[0] / 1000 },
  { sentence: 'doubling, at most # seconds apart)', actual: () => Math.max(...putWaitsSeen) / 1000 },
  { sentence: 'at most 30 seconds apart) for # seconds; then', actual: () => ANSWER_TASK_PUT_MS / 1000 },
  { sentence: 'retries the `Answer` task (# seconds, doubling', actual: () => answerRetry.IntervalSeconds },
  { sentence: '(10 seconds, doubling to # minutes', actual: () => answerRetry.MaxDelaySeconds! / 60 },
  { sentence: 'doubling to 2 minutes, # attempts)', actual: () => answerRetry.MaxAttempts },
  { sentence: 'is retried until # seconds before the function\'s', actual: () => ANSWER_MARGIN_MS / 1000 },
  { sentence: 'seconds before the function\'s #-minute timeout', actual: () => ofEveryFunction(p => p.Timeout as number) / 60 },

  // Lambda's concurrency and faults.
  { sentence: 'retried by the state machine # times, with full jitter', actual: () => lambdaThrottle.MaxAttempts },
  { sentence: 'with full jitter, up to # minute apart: longer', actual: () => lambdaThrottle.MaxDelaySeconds! / 60 },
  { sentence: 'Lambda refuses # times, with full jitter', actual: () => lambdaThrottle.MaxAttempts },
  { sentence: 'with full jitter, up to # minute apart, beyond', actual: () => lambdaThrottle.MaxDelaySeconds! / 60 },
  { sentence: 'are retried # times, from 2 seconds', actual: () => lambdaFault.MaxAttempts },
  { sentence: 'retried 6 times, from # seconds, doubling', actual: () => lambdaFault.IntervalSeconds },

  // What it costs: the waiter's state transitions and invocations for a 2-minute cancellation.
  { sentence: 'ends 2 minutes after the cancel, polled every # seconds', actual: () => waitSeconds },
  { sentence: 'polled every 15 seconds, is # polls', actual: () => pollsFor(exampleSeconds()) },
  { sentence: 'is 8 polls and # transitions', actual: () => transitionsFor(pollsFor(exampleSeconds())) },
  // OnEvent, the first Step, one Step per poll, Answer.
  { sentence: 'one for `Answer` (# in all', actual: () => 1 + 1 + pollsFor(exampleSeconds()) + 1 },
];

/** The example's cancellation: how long after the cancel it ends, as the README says. */
function exampleSeconds(): number {
  return 60 * valueOf(/a cancellation that ends (\d+) minutes after the cancel/.exec(README)![1]);
}

/** Polls until a final status reached this long after the cancel: the first one a poll interval after it. */
function pollsFor(seconds: number): number {
  return Math.ceil(seconds / waitSeconds);
}

/** State transitions of a Create: the first Step and its choice, 3 per poll, then Answer. */
function transitionsFor(polls: number): number {
  return firstPathLength() + polls * loopLength();
}

/** States from the start to the first Wait, plus the Answer: Step, Decided?, Answer. */
function firstPathLength(): number {
  const { States: states, StartAt: start } = definition;
  expect(states[start].Next).toBe('Decided?');
  expect(states['Decided?'].Default).toBe('Wait');
  expect(states['Decided?'].Choices!.map(choice => choice.Next)).toEqual(['Answer']);
  return ['Step', 'Decided?', 'Answer'].length;
}

/** States of one poll: from Wait back to Wait. */
function loopLength(): number {
  const states = definition.States;
  let length = 1;
  for (let state = states.Wait.Next!; state !== 'Wait'; state = states[state].Next ?? states[state].Default!) {
    length++;
  }
  return length;
}

function unreachableMessage(): string {
  return explainProtonError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'GetService', CONTEXT).message;
}

let putWaitsSeen: number[] = [];

/** Each figure's value in the code, computed once (some synthesize a stack). */
const actuals = new Map<Figure, number>();
function actualOf(figure: Figure): number {
  if (!actuals.has(figure)) {
    actuals.set(figure, figure.actual());
  }
  return actuals.get(figure)!;
}

/** Each figure that does not match: its sentence, the README's value and the code's. */
function mismatches(readme: string): string[] {
  const found: string[] = [];
  for (const figure of FIGURES) {
    const matches = [...readme.matchAll(patternOf(figure.sentence))];
    if (matches.length !== 1) {
      found.push(`${figure.sentence}: found ${matches.length} times in the README, not once`);
      continue;
    }
    const documented = valueOf(matches[0][1]);
    const actual = actualOf(figure);
    if (documented !== actual) {
      found.push(`${figure.sentence}: the README says ${documented}, the code holds ${actual}`);
    }
  }
  return found;
}

beforeAll(async () => {
  putWaitsSeen = await putWaits();
});

describe('the README\'s figures', () => {
  test('each is the value the code, the template or the Proton model holds', () => {
    expect(mismatches(README)).toEqual([]);
  });

  test('each fails the check when the README alone changes it', () => {
    for (const figure of FIGURES) {
      // GIVEN the README with this figure changed to 7, or to 8 if it is 7
      const [match] = [...README.matchAll(patternOf(figure.sentence))];
      const [start, end] = (match as RegExpMatchArray & { indices: Array<[number, number]> }).indices[1];
      const changed = valueOf(match[1]) === 7 ? '8' : '7';
      const readme = README.slice(0, start) + changed + README.slice(end);

      // THEN that figure is reported (a figure whose sentence quotes the changed one no longer finds its sentence)
      expect(mismatches(readme)).toContain(`${figure.sentence}: the README says ${changed}, the code holds ${actualOf(figure)}`);
    }
  });

  test('a code value that moves alone fails the check', () => {
    // GIVEN a figure whose code side is not the README's
    const figure = FIGURES.find(f => f.sentence.startsWith('Each AWS call makes up to'))!;
    const moved: Figure = { ...figure, actual: () => figure.actual() + 1 };
    const all = FIGURES.splice(0, FIGURES.length, moved);
    try {
      // THEN it is reported
      expect(mismatches(README)).toEqual([`${figure.sentence}: the README says ${MAX_ATTEMPTS}, the code holds ${MAX_ATTEMPTS + 1}`]);
    } finally {
      FIGURES.splice(0, FIGURES.length, ...all);
    }
  });

  test('the PUT\'s waits double from the first', () => {
    expect(putWaitsSeen.slice(0, 3)).toEqual([putWaitsSeen[0], 2 * putWaitsSeen[0], 4 * putWaitsSeen[0]]);
  });

  test('the answer task\'s retries double, and the waiter\'s retries of a refused task outlast its hour', () => {
    expect(answerRetry.BackoffRate).toBe(2);
    expect(lambdaFault.BackoffRate).toBe(2);
    expect(lambdaThrottle.JitterStrategy).toBe('FULL');
    // With full jitter each wait averages half its ceiling: 1, 2, 4 ... seconds doubling, at most MaxDelaySeconds.
    let expectedSeconds = 0;
    for (let attempt = 0; attempt < lambdaThrottle.MaxAttempts; attempt++) {
      expectedSeconds += Math.min(lambdaThrottle.IntervalSeconds * lambdaThrottle.BackoffRate ** attempt, lambdaThrottle.MaxDelaySeconds!) / 2;
    }
    expect(expectedSeconds).toBeGreaterThan(definition.TimeoutSeconds);
  });

  test('the provider\'s pollInterval is the seconds of the waiter\'s Wait state', () => {
    const stack = newStack();
    new CancelPipelineDeploymentProvider(stack, 'Provider', { pollInterval: Duration.seconds(40) });
    expect(waiterDefinition(Template.fromStack(stack)).States.Wait.Seconds).toBe(40);
  });

  test('Lambda\'s own retries of an event apply: the functions set no event invoke configuration', () => {
    expect(README).toMatch(/Lambda's own two retries of the event/);
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 0);
  });
});

// ---------------------------------------------------------------------------
// The troubleshooting table's messages
// ---------------------------------------------------------------------------

const CONTEXT = { serviceName: 'my-service', region: 'eu-west-1' };

/** Every failure sentence the handler produces, one of each kind. */
function handlerMessages(): string[] {
  const awsError = (name: string, fields: Record<string, unknown>) => Object.assign(new Error(`${name} message`), { name }, fields);
  return [
    explainProtonError(awsError('ResourceNotFoundException', { $metadata: { httpStatusCode: 400 } }), 'GetService', CONTEXT),
    explainProtonError(awsError('AccessDeniedException', { $metadata: { httpStatusCode: 403 } }), 'GetService', CONTEXT),
    explainProtonError(awsError('ThrottlingException', { $metadata: { httpStatusCode: 429 } }), 'GetService', CONTEXT),
    explainProtonError(awsError('Error', { code: 'ECONNREFUSED' }), 'GetService', CONTEXT),
    explainProtonError(awsError('InternalServerException', { $fault: 'server', $metadata: { httpStatusCode: 500 } }), 'GetService', CONTEXT),
    explainProtonError(awsError('InternalServerException', { $fault: 'server', $metadata: {} }), 'GetService', CONTEXT),
    explainProtonError(awsError('SyntaxError', {}), 'GetService', CONTEXT),
    explainProtonError(awsError('ValidationException', { $metadata: { httpStatusCode: 400 } }), 'CancelServicePipelineDeployment', CONTEXT),
    noServiceError(CONTEXT),
    invalidPropertyError(CONTEXT, propertyProblem({ ServiceName: 'not a name' })!),
    noPipelineError(CONTEXT),
    nothingToCancelError(CONTEXT, 'SUCCEEDED'),
    notCancelledError(CONTEXT, 'FAILED'),
    notCancelledError(CONTEXT, 'SUCCEEDED'),
    timeoutError(CONTEXT, 'CANCELLING', 1800),
    responseUrlNotStoredError(CONTEXT, awsError('AccessDeniedException', {})),
    waiterNotStartedError(CONTEXT, awsError('AccessDeniedException', {})),
    waiterFailedError(CONTEXT, { Error: 'Lambda.Unknown', Cause: '{}' }),
  ].map(error => error.message);
}

/** The table's first column, as patterns: `…` and `<placeholders>` stand for any text, `5xx` for a server status. */
function troubleshootingPatterns(readme: string): Array<{ row: string; pattern: RegExp }> {
  const section = /^## Troubleshooting\n([\s\S]*?)^## /m.exec(readme)![1];
  const rows = [...section.matchAll(/^\| `([^`]+)`( \(or `([^`]+)`\))? \|/gm)];
  const toPattern = (text: string) => new RegExp('^' + text
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/…|<[A-Za-z]+>/g, '.+?')
    .replace(/5xx/g, '5\\d\\d'));
  return rows.flatMap(([, primary, , alternative]) => {
    const patterns = [{ row: primary, pattern: toPattern(primary) }];
    if (alternative !== undefined) {
      // The alternative stands for the status word, or the phrase from `with` on.
      const variant = alternative.startsWith('with ') ? primary.replace(/with .*$/, alternative) : primary.replace(/\b[A-Z]{4,}\b/, alternative);
      expect(variant).not.toBe(primary);
      patterns.push({ row: `${primary} (or ${alternative})`, pattern: toPattern(variant) });
    }
    return patterns;
  });
}

describe('the README\'s troubleshooting table', () => {
  const messages = handlerMessages();
  const patterns = troubleshootingPatterns(README);

  test('lists messages the handler produces', () => {
    expect(patterns.length).toBeGreaterThan(10);
    const unproduced = patterns.filter(({ pattern }) => !messages.some(message => pattern.test(message))).map(({ row }) => row);
    expect(unproduced).toEqual([]);
  });

  test('has a row for every message the handler produces', () => {
    const undocumented = messages.filter(message => !patterns.some(({ pattern }) => pattern.test(message)));
    expect(undocumented).toEqual([]);
  });

  test('fails on a row the handler does not produce', () => {
    const readme = README.replace('| `Timed out after …` |', '| `Gave up after …` |');
    const unproduced = troubleshootingPatterns(readme).filter(({ pattern }) => !messages.some(message => pattern.test(message)));
    expect(unproduced.map(({ row }) => row)).toEqual(['Gave up after …']);
  });
});

describe('the README is for users', () => {
  test('it holds no contributor\'s commands: those are in CONTRIBUTING.md', () => {
    const contributing = readFileSync(join(__dirname, '..', 'CONTRIBUTING.md'), 'utf8');
    for (const command of ['npm ci', 'npm test', 'npm run setup', 'npm run demo', 'npm run mutation', 'apt-get']) {
      expect(README).not.toContain(command);
      expect(contributing).toContain(command);
    }
  });
});
