import { LoadCase, removeLoadStack, runLoad, synthLoadStack } from '../scripts/bench/load';

// The bench's load run, scaled down to 40 instances: Proton's rates a tenth of
// the bench's (1 GetService and 0.5 cancels per second, bursts of twice that),
// all 40 Creates at once through the local lifecycle, on the emulated clock.

const INSTANCES = 40;
const PROTON = { getServicePerSecond: 1, cancelPerSecond: 0.5 };

const parallel = synthLoadStack(INSTANCES);
/** One Create at a time (the provider's maxConcurrentInstances: 1). */
const chained = synthLoadStack(INSTANCES, 1);

afterAll(() => [parallel, chained].forEach(removeLoadStack));

test('40 Creates at once, Proton throttling them: every one completes', async () => {
  // GIVEN Lambda concurrency 100 (the default 1,000, scaled with the instances)
  const loadCase: LoadCase = { instances: INSTANCES, ...PROTON, lambdaConcurrency: 100 };

  const result = await runLoad(parallel, loadCase);

  expect(result.failureReasons).toEqual([]);
  expect(result).toMatchObject({ stackStatus: 'CREATE_COMPLETE', completed: INSTANCES, failed: 0 });
  // Proton did throttle: the handler rode it out rather than never meeting it.
  expect(result.proton.GetService.throttled).toBeGreaterThan(0);
  expect(result.lambda.syncThrottles).toBe(0);
}, 60_000);

test('at a low Lambda concurrency, 40 Creates at once all complete: Lambda queues CloudFormation\'s events, the waiter retries its refused polls', async () => {
  // GIVEN Lambda concurrency 5 (50, scaled): far fewer slots than Creates
  const result = await runLoad(parallel, { instances: INSTANCES, ...PROTON, lambdaConcurrency: 5 });

  expect(result.failureReasons).toEqual([]);
  expect(result).toMatchObject({ stackStatus: 'CREATE_COMPLETE', completed: INSTANCES, failed: 0 });
  // The limit was met, and held: invocations waited for a slot rather than failing.
  expect(result.lambda.peakConcurrency).toBe(5);
  expect(result.lambda.syncThrottles + result.lambda.asyncThrottles).toBeGreaterThan(0);
}, 60_000);

test('at a low Lambda concurrency, Creates chained one after another all complete', async () => {
  const result = await runLoad(chained, { instances: INSTANCES, ...PROTON, lambdaConcurrency: 5, lanes: 1 });

  expect(result.failureReasons).toEqual([]);
  expect(result).toMatchObject({ stackStatus: 'CREATE_COMPLETE', completed: INSTANCES, failed: 0 });
  // One Create at a time takes at most 2 slots (onEvent finishing while the waiter's first poll runs),
  // so a lane per 2 slots of concurrency is never refused.
  expect(result.lambda.peakConcurrency).toBeLessThanOrEqual(2);
  expect(result.lambda.syncThrottles + result.lambda.asyncThrottles).toBe(0);
  // The price: one 2-minute cancellation after another.
  expect(result.createSeconds).toBeGreaterThanOrEqual(INSTANCES * 120);
}, 60_000);
