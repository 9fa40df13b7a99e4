import * as http from 'http';
import { AddressInfo } from 'net';
import { WaiterState } from '../lambda/cancel';
import { LocalProton, SCENARIOS } from '../local/proton';

// 40 waiters at once, from source over HTTP, against the local Proton
// endpoint behind a front that throttles each operation as AWS does (token
// buckets); each steps every half second, as the provider's state machine does
// every poll interval. The handler's retry waits are real. A measurement as
// much as a test: kept out of the mutation run, which would repeat its 15
// seconds for every mutant.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.AWS_ACCESS_KEY_ID = 'AKIDHANDLERLOAD';
process.env.AWS_SECRET_ACCESS_KEY = 'secret';

/** A Create as the waiter gets it (the request less its URL). */
function request(serviceName: string): WaiterState {
  return {
    RequestType: 'Create', ServiceToken: 'token', StackId: 'stack', RequestId: `r-${serviceName}`,
    LogicalResourceId: 'Cancel', ResourceType: 'Custom::ProtonCancelPipelineDeployment',
    ResourceProperties: { ServiceToken: 'token', ServiceName: serviceName },
  } as WaiterState;
}

beforeEach(() => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterEach(() => {
  jest.restoreAllMocks();
});

/** A front for the local endpoint that throttles each operation with a token bucket (rate per second, burst twice it). */
async function throttlingFront(target: string, rates: Record<string, number>): Promise<{ url: string; throttled: () => number; close: () => Promise<void> }> {
  const buckets = new Map(Object.entries(rates).map(([op, rate]) => [op, { tokens: 2 * rate, last: Date.now(), rate }]));
  let throttled = 0;
  const server = http.createServer((req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop()!;
    const bucket = buckets.get(operation);
    if (bucket) {
      const now = Date.now();
      bucket.tokens = Math.min(2 * bucket.rate, bucket.tokens + (now - bucket.last) * bucket.rate / 1000);
      bucket.last = now;
      if (bucket.tokens < 1) {
        throttled++;
        req.resume();
        res.writeHead(429, { 'Content-Type': 'application/x-amz-json-1.0', 'x-amzn-ErrorType': 'ThrottlingException' });
        res.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
        return;
      }
      bucket.tokens -= 1;
    }
    const url = new URL(target);
    const upstream = http.request({ host: url.hostname, port: url.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    throttled: () => throttled,
    close: () => new Promise(resolve => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe('many instances at once over the wire', () => {
  test('40 waiters at 10 GetService and 5 cancels per second all cancel, each once', async () => {
    // GIVEN 40 IN_PROGRESS services behind a throttling front, and a handler whose clients reach it
    const fast = await LocalProton.start({ timeScale: 100 });
    const front = await throttlingFront(fast.endpoint, { GetService: 10, CancelServicePipelineDeployment: 5 });
    process.env.AWS_ENDPOINT_URL_PROTON = front.url;
    process.env.AWS_REGION = fast.region;
    try {
      // A fresh copy of the handler, whose clients reach the front; its retry waits are real, as in Lambda.
      let handler!: typeof import('../lambda/cancel');
      jest.isolateModules(() => {
        /* eslint-disable @typescript-eslint/no-require-imports */
        handler = require('../lambda/cancel');
        const retry: typeof import('../lambda/retry') = require('../lambda/retry');
        /* eslint-enable @typescript-eslint/no-require-imports */
        jest.spyOn(retry.timing, 'sleep').mockImplementation(ms => new Promise(resolve => setTimeout(resolve, ms)));
      });
      const names = Array.from({ length: 40 }, (_, i) => `svc-${i}`);
      names.forEach(name => fast.addService(name, SCENARIOS['in-progress']));

      // WHEN each waiter steps every half second (50 emulated seconds) until its answer
      const answers = await Promise.all(names.map(async (name) => {
        let state = request(name);
        const arrivedAt = Date.now();
        for (;;) {
          state = await handler.step(state, async () => arrivedAt);
          if (state.Answer) {
            return { answer: state.Answer, status: fast.status(name) };
          }
          await new Promise(resolve => setTimeout(resolve, 500));
        }
      }));

      // THEN every one is cancelled, though Proton throttled
      expect(answers.map(a => a.status)).toEqual(Array(40).fill('CANCELLED'));
      expect(answers.every(a => a.answer.status === 'SUCCESS' && a.answer.data?.CancellationRequested === 'true')).toBe(true);
      // A throttled step is repeated, never decided: one cancel reached Proton per service.
      expect(fast.count('CancelServicePipelineDeployment')).toBe(40);
      expect(front.throttled()).toBeGreaterThan(0);
    } finally {
      await front.close();
      await fast.stop();
    }
  }, 60_000);
});
