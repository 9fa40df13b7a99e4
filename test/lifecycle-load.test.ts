import { LoadCase, removeLoadStack, runLoad, synthLoadStack } from '../scripts/bench/load';

// The bench's load run, scaled down to 40 instances: Proton's rates a tenth of
// the bench's (1 GetService and 0.5 cancels per second, bursts of twice that),
// all 40 Creates at once through the local lifecycle, on the emulated clock.

const INSTANCES = 40;
const PROTON = { getServicePerSecond: 1, cancelPerSecond: 0.5 };

const parallel = synthLoadStack(INSTANCES);
/** The workaround at a low concurrency: one Create at a time (the provider's maxConcurrentInstances: 1). */
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

test('at a low Lambda concurrency, the provider framework\'s synchronous invoke of the handler is what fails', async () => {
  // GIVEN Lambda concurrency 5 (50, scaled): the framework's onEvent instances take every slot
  const result = await runLoad(parallel, { instances: INSTANCES, ...PROTON, lambdaConcurrency: 5 });

  expect(result.failed).toBeGreaterThan(0);
  expect(result.failureReasons.map((f) => f.reason)).toEqual(['TooManyRequestsException: Rate Exceeded.']);
  expect(result.stackStatus).toBe('ROLLBACK_COMPLETE');
}, 60_000);

test('at a low Lambda concurrency, Creates chained one after another all complete', async () => {
  const result = await runLoad(chained, { instances: INSTANCES, ...PROTON, lambdaConcurrency: 5, lanes: 1 });

  expect(result.failureReasons).toEqual([]);
  expect(result).toMatchObject({ stackStatus: 'CREATE_COMPLETE', completed: INSTANCES, failed: 0 });
  // One Create at a time takes at most 3 slots (the framework's onEvent finishing while the waiter's
  // first isComplete invokes the handler), so a lane per 3 slots of concurrency is never refused.
  expect(result.lambda.peakConcurrency).toBeLessThanOrEqual(3);
  expect(result.lambda.syncThrottles + result.lambda.asyncThrottles).toBe(0);
  // The price: one 2-minute cancellation after another.
  expect(result.createSeconds).toBeGreaterThanOrEqual(INSTANCES * 120);
}, 60_000);
