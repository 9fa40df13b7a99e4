import {
  DescribeExecutionCommand, ExecutionAlreadyExists, InvalidExecutionInput, InvalidName, SFNClient, SFNServiceException, StartExecutionCommand, StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { LocalLambda, LocalStepFunctions, LocalStepFunctionsEndpoint, MAX_INPUT_BYTES, Waits } from '../local/cloudformation';
import { EmulatedClock } from '../local/proton';

// The local Step Functions endpoint as the real @aws-sdk/client-sfn sees it:
// StartExecution over AWS JSON 1.0, its name idempotency, and its errors parsed
// into the SDK's own exception classes, the emulated IAM check included.

const WAITING = 'arn:aws:states:us-east-1:123456789012:stateMachine:waiting';
const QUICK = 'arn:aws:states:us-east-1:123456789012:stateMachine:quick';
const ALLOWED_KEY = 'ASIAALLOWED000000000';
const START = new Date('2030-01-01T00:00:00Z');

/** While true, the frozen clock stays still: executions that wait keep running. */
let holdClock = true;
const clock = new EmulatedClock(0, START);
const waits = new Waits(clock, () => holdClock);
const stepFunctions = new LocalStepFunctions(new LocalLambda({ clock, waits }), waits);
stepFunctions.add(WAITING, { StartAt: 'Wait', States: { Wait: { Type: 'Wait', Seconds: 60, End: true } } });
stepFunctions.add(QUICK, { StartAt: 'Done', States: { Done: { Type: 'Succeed' } } });
let endpoint: LocalStepFunctionsEndpoint;

/** A client with the given access key (the emulated IAM allows StartExecution to ALLOWED_KEY only, on both machines). */
const client = (accessKeyId = ALLOWED_KEY) => new SFNClient({
  endpoint: endpoint.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId, secretAccessKey: 'local-secret' },
  maxAttempts: 1,
});
const start = (input: { stateMachineArn?: string; name?: string; input?: string }, accessKeyId?: string) =>
  client(accessKeyId).send(new StartExecutionCommand(input as { stateMachineArn: string }));
const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e as Error & { $metadata?: { httpStatusCode?: number } });

beforeAll(async () => {
  endpoint = await LocalStepFunctionsEndpoint.start(stepFunctions, {
    isAllowed: (accessKeyId, action, resource) => accessKeyId === ALLOWED_KEY && action === 'StartExecution' && [WAITING, QUICK].includes(resource),
    now: () => new Date(clock.nowMs()),
    tagOf: (input) => JSON.parse(input).RequestId,
  });
});

afterAll(async () => {
  holdClock = false;
  await Promise.all(stepFunctions.executions.map((e) => e.done));
  await endpoint.stop();
});

test('StartExecution starts an execution named as asked, at the emulated time, tagged from its input', async () => {
  const started = await start({ stateMachineArn: WAITING, name: 'request-1', input: '{"RequestId":"request-1"}' });

  expect(started.executionArn).toBe('arn:aws:states:us-east-1:123456789012:execution:waiting:request-1');
  expect(started.startDate).toEqual(START);
  const execution = stepFunctions.executions.find((e) => e.executionArn === started.executionArn);
  expect(execution).toMatchObject({ name: 'request-1', status: 'RUNNING', tag: 'request-1', input: '{"RequestId":"request-1"}' });
  expect(endpoint.calls.at(-1)).toMatchObject({ operation: 'StartExecution', accessKeyId: ALLOWED_KEY, status: 200 });
});

test('the same name and input while the execution runs answers that execution again', async () => {
  const first = await start({ stateMachineArn: WAITING, name: 'twice', input: '{"a":1}' });
  const second = await start({ stateMachineArn: WAITING, name: 'twice', input: '{"a":1}' });

  expect(second.executionArn).toBe(first.executionArn);
  expect(stepFunctions.executions.filter((e) => e.name === 'twice')).toHaveLength(1);
});

test('the same name with another input is ExecutionAlreadyExists (400)', async () => {
  await start({ stateMachineArn: WAITING, name: 'other-input', input: '{"a":1}' });

  const refused = await refusal(start({ stateMachineArn: WAITING, name: 'other-input', input: '{"a":2}' }));

  expect(refused).toBeInstanceOf(ExecutionAlreadyExists);
  expect(refused?.message).toBe("Execution Already Exists: 'arn:aws:states:us-east-1:123456789012:execution:waiting:other-input'");
  expect(refused?.$metadata?.httpStatusCode).toBe(400);
});

test('the same name and input once the execution has ended is ExecutionAlreadyExists', async () => {
  await start({ stateMachineArn: QUICK, name: 'ended', input: '{}' });
  await stepFunctions.executions.find((e) => e.name === 'ended')!.done;

  expect(await refusal(start({ stateMachineArn: QUICK, name: 'ended', input: '{}' }))).toBeInstanceOf(ExecutionAlreadyExists);
});

test('an unknown state machine is StateMachineDoesNotExist', async () => {
  const unknown = 'arn:aws:states:us-east-1:123456789012:stateMachine:nope';
  const endpointAllowingAll = await LocalStepFunctionsEndpoint.start(stepFunctions, { isAllowed: () => true, now: () => new Date(clock.nowMs()) });
  try {
    const sfn = new SFNClient({ endpoint: endpointAllowingAll.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'ASIAANY', secretAccessKey: 's' }, maxAttempts: 1 });

    const refused = await refusal(sfn.send(new StartExecutionCommand({ stateMachineArn: unknown })));

    expect(refused).toBeInstanceOf(StateMachineDoesNotExist);
    expect(refused?.message).toBe(`State Machine Does Not Exist: '${unknown}'`);
  } finally {
    await endpointAllowingAll.stop();
  }
});

test.each([
  ['over 256 KiB', JSON.stringify({ pad: 'x'.repeat(MAX_INPUT_BYTES) }), /over the limit of 262144/],
  ['not JSON', '{"RequestId":', /^Invalid State Machine Execution Input/],
])('an input %s is InvalidExecutionInput', async (_, input, message) => {
  const refused = await refusal(start({ stateMachineArn: QUICK, input }));

  expect(refused).toBeInstanceOf(InvalidExecutionInput);
  expect(refused?.message).toMatch(message);
});

test.each([
  ['with a space', 'a b'],
  ['with a slash', 'a/b'],
  ['with a colon', 'a:b'],
  ['of 81 characters', 'x'.repeat(81)],
])('a name %s is InvalidName', async (_, name) => {
  const refused = await refusal(start({ stateMachineArn: QUICK, name }));

  expect(refused).toBeInstanceOf(InvalidName);
  expect(refused?.message).toBe(`Invalid Name: '${name}'`);
});

test('a name of 80 characters is valid', async () => {
  await expect(start({ stateMachineArn: QUICK, name: 'x'.repeat(80) })).resolves.toMatchObject({ executionArn: expect.stringMatching(/:x{80}$/) });
});

test('a caller whose policies do not allow states:StartExecution is AccessDeniedException, and nothing starts', async () => {
  const before = stepFunctions.executions.length;

  const refused = await refusal(start({ stateMachineArn: QUICK, name: 'denied' }, 'ASIAOTHER00000000000'));

  // The service model names no AccessDeniedException: the SDK parses it as a service exception of that name.
  expect(refused).toBeInstanceOf(SFNServiceException);
  expect(refused?.name).toBe('AccessDeniedException');
  expect(refused?.message).toMatch(/^User: ASIAOTHER00000000000 is not authorized to perform: states:StartExecution on resource: arn:aws:states:us-east-1:123456789012:stateMachine:quick/);
  expect(stepFunctions.executions).toHaveLength(before);
  expect(endpoint.calls.at(-1)).toMatchObject({ status: 400, errorType: 'AccessDeniedException', accessKeyId: 'ASIAOTHER00000000000' });
});

test('a StartExecution without a state machine ARN is ValidationException', async () => {
  const refused = await refusal(start({ name: 'no-arn' }));

  expect(refused?.name).toBe('ValidationException');
  expect(refused?.message).toMatch(/'stateMachineArn' failed to satisfy constraint: Member must not be null/);
});

test('an operation other than StartExecution is refused as unknown', async () => {
  const refused = await refusal(client().send(new DescribeExecutionCommand({ executionArn: `${WAITING.replace(':stateMachine:', ':execution:')}:request-1` })));

  expect(refused).toBeInstanceOf(SFNServiceException);
  expect(refused?.name).toBe('UnknownOperationException');
  expect(endpoint.calls.at(-1)).toMatchObject({ operation: 'DescribeExecution', status: 400 });
});
