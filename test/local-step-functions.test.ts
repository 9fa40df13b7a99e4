import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Execution, FunctionDefinition, LocalLambda, LocalStepFunctions, StateMachineDefinition, Waits } from '../local/cloudformation';
import { EmulatedClock } from '../local/proton';

// The emulated Step Functions' rules, each on a small hand-written definition
// and a tiny function: Choice, Wait, ResultPath (Task and Catch), Fail, the
// execution's TimeoutSeconds, how a function's failures are named, and that
// anything else in a definition is refused when it is added.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfn-functions-'));
fs.writeFileSync(path.join(dir, 'index.js'), `
// Answers whether the emulated time has reached the input's DoneAt.
exports.poll = async (event) => Date.now() >= event.DoneAt;
exports.value = async (event) => event.Value;
exports.fail = async () => { const e = new Error('it broke'); e.name = 'CustomError'; throw e; };
exports.hang = async () => new Promise((resolve) => setTimeout(resolve, 60000));
`);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ACCOUNT = 'arn:aws:lambda:us-east-1:123456789012:function';
const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:m';
const fn = (name: string) => `${ACCOUNT}:${name}`;

/** Step Functions on a LocalLambda with the tiny functions, on a frozen clock. */
function local(): { stepFunctions: LocalStepFunctions; clock: EmulatedClock; waits: Waits } {
  const clock = new EmulatedClock(0, new Date('2030-01-01T00:00:00Z'));
  const waits = new Waits(clock);
  const lambda = new LocalLambda({ clock, waits });
  for (const name of ['poll', 'value', 'fail', 'hang']) {
    const definition: FunctionDefinition = {
      logicalId: name, functionName: name, arn: fn(name), handler: `index.${name}`, codeDirectory: dir,
      runtime: 'nodejs22.x', timeoutSeconds: 5, memorySize: 128, environment: {},
    };
    lambda.add(definition);
  }
  return { stepFunctions: new LocalStepFunctions(lambda, waits), clock, waits };
}

/** Runs one execution of `definition` with `input` to its end. */
async function run(definition: StateMachineDefinition, input: unknown = {}): Promise<Execution & { elapsedSeconds: number }> {
  const { stepFunctions, clock } = local();
  stepFunctions.add(MACHINE, definition);
  const startMs = clock.nowMs();
  stepFunctions.startExecution({ stateMachineArn: MACHINE, input: JSON.stringify(input) });
  const [execution] = stepFunctions.executions;
  await execution.done;
  return Object.assign(execution, { elapsedSeconds: (clock.nowMs() - startMs) / 1000 });
}

const output = (execution: Execution) => JSON.parse(execution.output ?? 'null');

describe('Choice and Wait: a poll loop', () => {
  const POLL_LOOP: StateMachineDefinition = {
    Comment: 'poll until answered',
    StartAt: 'Poll',
    States: {
      'Poll': { Type: 'Task', Resource: fn('poll'), ResultPath: '$.Answered', Next: 'Answered?' },
      'Answered?': { Type: 'Choice', Choices: [{ Variable: '$.Answered', BooleanEquals: true, Next: 'Done' }], Default: 'Wait' },
      'Wait': { Type: 'Wait', Seconds: 10, Next: 'Poll' },
      'Done': { Type: 'Succeed' },
    },
  };

  test('polls, waits on the emulated clock and loops until the Choice leaves', async () => {
    // GIVEN a function that answers true from 25 s on
    const startMs = new Date('2030-01-01T00:00:00Z').getTime();

    const execution = await run(POLL_LOOP, { RequestId: 'r1', DoneAt: startMs + 25_000 });

    // THEN polls at 0, 10, 20 and 30 s, the last one answered
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.elapsedSeconds).toBe(30);
    const wait = { kind: 'wait', state: 'Wait', seconds: 10 };
    const poll = (attempt: number) => ({ kind: 'task', state: 'Poll', attempt });
    expect(execution.events).toEqual([
      poll(1), { kind: 'choice', state: 'Answered?', next: 'Wait' }, wait,
      poll(1), { kind: 'choice', state: 'Answered?', next: 'Wait' }, wait,
      poll(1), { kind: 'choice', state: 'Answered?', next: 'Wait' }, wait,
      poll(1), { kind: 'choice', state: 'Answered?', next: 'Done' },
    ]);
    // AND the result went where ResultPath put it, beside the input
    expect(output(execution)).toEqual({ RequestId: 'r1', DoneAt: startMs + 25_000, Answered: true });
  });
});

describe('Choice rules', () => {
  const choosing = (rule: Record<string, unknown>, withDefault = true): StateMachineDefinition => ({
    StartAt: 'Choose',
    States: {
      Choose: { Type: 'Choice', Choices: [{ Variable: '$.x.y', Next: 'Matched', ...rule } as never], ...(withDefault ? { Default: 'Other' } : {}) },
      Matched: { Type: 'Succeed' },
      Other: { Type: 'Succeed' },
    },
  });
  const chosen = (execution: Execution) => execution.events.find((e) => e.kind === 'choice');

  test.each([
    ['BooleanEquals true', { BooleanEquals: true }, true, 'Matched'],
    ['BooleanEquals true on false', { BooleanEquals: true }, false, 'Other'],
    ['BooleanEquals on the string "true"', { BooleanEquals: true }, 'true', 'Other'],
    ['StringEquals', { StringEquals: 'done' }, 'done', 'Matched'],
    ['StringEquals on another string', { StringEquals: 'done' }, 'DONE', 'Other'],
    ['NumericEquals', { NumericEquals: 3 }, 3, 'Matched'],
    ['NumericEquals on the string "3"', { NumericEquals: 3 }, '3', 'Other'],
    ['IsPresent true', { IsPresent: true }, null, 'Matched'],
  ])('%s', async (_, rule, value, next) => {
    const execution = await run(choosing(rule), { x: { y: value } });

    expect(execution.status).toBe('SUCCEEDED');
    expect(chosen(execution)).toEqual({ kind: 'choice', state: 'Choose', next });
  });

  test('IsPresent false matches a path that is not there', async () => {
    const execution = await run(choosing({ IsPresent: false }), { x: {} });

    expect(chosen(execution)).toEqual({ kind: 'choice', state: 'Choose', next: 'Matched' });
  });

  test('no rule matches and no Default: the execution fails with States.NoChoiceMatched', async () => {
    const execution = await run(choosing({ BooleanEquals: true }, false), { x: { y: false } });

    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.NoChoiceMatched' });
  });

  test('a comparison on a path that is not there fails the execution with States.Runtime', async () => {
    const execution = await run(choosing({ BooleanEquals: true }), { x: {} });

    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(execution.cause).toMatch(/Invalid path '\$\.x\.y'/);
  });
});

describe('ResultPath', () => {
  const task = (resultPath: string | null | undefined): StateMachineDefinition => ({
    StartAt: 'Call',
    States: { Call: { Type: 'Task', Resource: fn('value'), End: true, ...(resultPath === undefined ? {} : { ResultPath: resultPath }) } },
  });
  const INPUT = { Value: { answer: 42 }, Keep: 'me' };

  test.each([
    ['absent: the result replaces the input', undefined, { answer: 42 }],
    ['$: the result replaces the input', '$', { answer: 42 }],
    ['$.Result: the result joins the input', '$.Result', { ...INPUT, Result: { answer: 42 } }],
    ['$.Keep: the result replaces that field', '$.Keep', { Value: { answer: 42 }, Keep: { answer: 42 } }],
    ['$.A.B: the objects on the way are created', '$.A.B', { ...INPUT, A: { B: { answer: 42 } } }],
    ['null: the result is discarded', null, INPUT],
  ])('Task, %s', async (_, resultPath, expected) => {
    const execution = await run(task(resultPath), INPUT);

    expect(execution.status).toBe('SUCCEEDED');
    expect(output(execution)).toEqual(expected);
  });

  test('Task: a path through a field that is not an object fails with States.ResultPathMatchFailure', async () => {
    const execution = await run(task('$.Keep.Deeper'), INPUT);

    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.ResultPathMatchFailure' });
  });

  const catching = (resultPath?: string): StateMachineDefinition => ({
    StartAt: 'Call',
    States: {
      Call: { Type: 'Task', Resource: fn('fail'), End: true, Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught', ...(resultPath ? { ResultPath: resultPath } : {}) }] },
      Caught: { Type: 'Pass', End: true },
    },
  });

  test('Catch, $.Error: the error joins the state\'s input; the function\'s error type is the error name', async () => {
    const execution = await run(catching('$.Error'), { RequestId: 'r1' });

    expect(execution.status).toBe('SUCCEEDED');
    const { RequestId, Error: error } = output(execution);
    expect(RequestId).toBe('r1');
    expect(error.Error).toBe('CustomError');
    expect(JSON.parse(error.Cause)).toMatchObject({ errorType: 'CustomError', errorMessage: 'it broke' });
    expect(execution.events).toContainEqual({ kind: 'caught', state: 'Call', error: 'CustomError', next: 'Caught' });
  });

  test('Catch, absent: the error output replaces the input', async () => {
    const execution = await run(catching(), { RequestId: 'r1' });

    expect(Object.keys(output(execution))).toEqual(['Error', 'Cause']);
  });
});

describe('Retry', () => {
  const retrying = (retrier: Record<string, unknown>): StateMachineDefinition => ({
    StartAt: 'Call',
    States: { Call: { Type: 'Task', Resource: fn('fail'), End: true, Retry: [{ ErrorEquals: ['CustomError'], ...retrier }] } },
  });
  const waits = (execution: Execution) => execution.events.flatMap((e) => e.kind === 'retry-wait' ? [e.seconds] : []);

  test('waits IntervalSeconds × BackoffRate^n, capped at MaxDelaySeconds, MaxAttempts times, then the error stands', async () => {
    const execution = await run(retrying({ IntervalSeconds: 1, BackoffRate: 2, MaxDelaySeconds: 3, MaxAttempts: 4 }));

    expect(waits(execution)).toEqual([1, 2, 3, 3]);
    expect(execution.events.filter((e) => e.kind === 'task')).toHaveLength(5);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'CustomError', elapsedSeconds: 9 });
  });

  test('JitterStrategy FULL waits a random share of each of those delays', async () => {
    const execution = await run(retrying({ IntervalSeconds: 1, BackoffRate: 2, MaxDelaySeconds: 3, MaxAttempts: 4, JitterStrategy: 'FULL' }));

    const caps = [1, 2, 3, 3];
    expect(waits(execution)).toHaveLength(4);
    waits(execution).forEach((seconds, i) => {
      expect(seconds).toBeGreaterThanOrEqual(0);
      expect(seconds).toBeLessThan(caps[i]);
    });
  });

  test('an error no retrier names is not retried', async () => {
    const execution = await run({ StartAt: 'Call', States: { Call: { Type: 'Task', Resource: fn('fail'), End: true, Retry: [{ ErrorEquals: ['OtherError'] }] } } });

    expect(waits(execution)).toEqual([]);
    expect(execution.error).toBe('CustomError');
  });
});

describe('how an execution ends', () => {
  test('a Fail state fails it with its Error and Cause', async () => {
    const execution = await run({ StartAt: 'Stop', States: { Stop: { Type: 'Fail', Error: 'Custom.Stop', Cause: 'stopped on purpose' } } });

    expect(execution).toMatchObject({ status: 'FAILED', error: 'Custom.Stop', cause: 'stopped on purpose' });
  });

  test('a function error without a Catch fails it with the function\'s error type', async () => {
    const execution = await run({ StartAt: 'Call', States: { Call: { Type: 'Task', Resource: fn('fail'), End: true } } });

    expect(execution).toMatchObject({ status: 'FAILED', error: 'CustomError' });
  });

  test('a function that times out is Lambda.Unknown, as Step Functions reports it', async () => {
    // GIVEN a function with a 5-second timeout that takes a minute
    const execution = await run({ StartAt: 'Call', States: { Call: { Type: 'Task', Resource: fn('hang'), End: true } } });

    expect(execution).toMatchObject({ status: 'FAILED', error: 'Lambda.Unknown' });
    expect(JSON.parse(execution.cause!)).toMatchObject({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(/Task timed out after 5\.00 seconds/) });
    expect(execution.elapsedSeconds).toBe(5);
  });

  test('past TimeoutSeconds it ends TIMED_OUT with States.Timeout, and its pending wait never moves the clock', async () => {
    // GIVEN an execution limited to 30 s that waits 100 s
    const { stepFunctions, clock, waits } = local();
    stepFunctions.add(MACHINE, { StartAt: 'Wait', TimeoutSeconds: 30, States: { Wait: { Type: 'Wait', Seconds: 100, Next: 'Call' }, Call: { Type: 'Task', Resource: fn('value'), End: true } } });
    const startMs = clock.nowMs();

    stepFunctions.startExecution({ stateMachineArn: MACHINE });
    const [execution] = stepFunctions.executions;
    await execution.done;

    // THEN it ended at 30 s, without reaching the Task
    expect(execution).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    expect((clock.nowMs() - startMs) / 1000).toBe(30);
    expect(execution.events).toEqual([{ kind: 'wait', state: 'Wait', seconds: 100 }]);
    // AND the next wait due is a later one, not the cancelled 100-second Wait
    await waits.sleep(1);
    expect((clock.nowMs() - startMs) / 1000).toBe(31);
  });

  test('a state due at the time limit does not start', async () => {
    const execution = await run({ StartAt: 'Wait', TimeoutSeconds: 20, States: { Wait: { Type: 'Wait', Seconds: 20, Next: 'Call' }, Call: { Type: 'Task', Resource: fn('value'), End: true } } });

    expect(execution).toMatchObject({ status: 'TIMED_OUT', elapsedSeconds: 20 });
    expect(execution.events.map((e) => e.kind)).toEqual(['wait']);
  });
});

describe('what a definition may not use', () => {
  test.each([
    ['a state type not emulated', { StartAt: 'P', States: { P: { Type: 'Parallel', Branches: [], End: true } } }, /state type Parallel is not emulated/],
    ['Parameters on a Task', { StartAt: 'T', States: { T: { Type: 'Task', Resource: fn('value'), Parameters: {}, End: true } } }, /Parameters not emulated/],
    ['a Task that is not a Lambda function', { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', End: true } } }, /only Tasks invoking a Lambda function/],
    ['JSONata', { QueryLanguage: 'JSONata', StartAt: 'S', States: { S: { Type: 'Succeed' } } }, /QueryLanguage JSONata is not emulated/],
    ['a choice comparison not emulated', { StartAt: 'C', States: { C: { Type: 'Choice', Choices: [{ Variable: '$.x', NumericGreaterThan: 1, Next: 'S' }] }, S: { Type: 'Succeed' } } }, /choice rule .* is not emulated/],
    ['a Wait on a timestamp', { StartAt: 'W', States: { W: { Type: 'Wait', Timestamp: '2030-01-01T00:00:00Z', End: true } } }, /Timestamp not emulated/],
    ['a path with brackets', { StartAt: 'T', States: { T: { Type: 'Task', Resource: fn('value'), ResultPath: "$['x']", End: true } } }, /path \$\['x'\] is not emulated/],
    ['a Next to no state', { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 1, Next: 'Nowhere' } } }, /no state named Nowhere/],
    ['a top-level field not emulated', { StartAt: 'S', States: { S: { Type: 'Succeed' } }, ProcessorConfig: {} }, /ProcessorConfig not emulated/],
  ])('fails when it has %s', (_, definition, message) => {
    const { stepFunctions } = local();

    expect(() => stepFunctions.add(MACHINE, definition as unknown as StateMachineDefinition)).toThrow(message);
  });
});
