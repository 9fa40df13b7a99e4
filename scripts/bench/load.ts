/**
 * The load run: one stack of N instances, every service with a pipeline
 * deployment IN_PROGRESS, created through the local lifecycle (the provider's
 * functions and waiter state machine as synthesized) against the local Proton
 * endpoint, under AWS's limits: Proton's request rates per operation and the
 * account's Lambda concurrency.
 *
 * Virtual time: the clock is frozen and jumps to the next wait (the waiter's
 * interval, an SDK retry's backoff, Lambda's queue) whenever nothing runs, so
 * the code's own work takes no emulated time and an hour of emulated stack
 * takes seconds of real time.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { CancelPipelineDeployment, CancelPipelineDeploymentProvider } from '../../lib';
import { ProgressEvent, withDeployment } from '../../local/cloudformation';
import { OperationStats, SCENARIOS } from '../../local/proton';

export const LOAD_STACK_NAME = 'ProtonCancelLoad';

/** The limits of one run. */
export interface LoadCase {
  readonly instances: number;
  /** Proton's GetService rate, calls per second (burst: twice that). */
  readonly getServicePerSecond: number;
  /** Proton's CancelServicePipelineDeployment rate, calls per second (burst: twice that). */
  readonly cancelPerSecond: number;
  /** The account's Lambda concurrency. */
  readonly lambdaConcurrency: number;
  /**
   * Emulated milliseconds each invocation lasts on top of its waits (its
   * calls' network time and the runtime's overhead), holding its slot.
   *
   * @default 0
   */
  readonly invocationOverheadMs?: number;
  /**
   * The provider's `maxConcurrentInstances`: instance i waits for instance
   * i - lanes, so that at most `lanes` Creates run at once.
   *
   * @default - none: every Create at once
   */
  readonly lanes?: number;
}

export interface LoadResult {
  readonly loadCase: LoadCase;
  readonly stackStatus: string;
  readonly completed: number;
  readonly failed: number;
  /** Proton's counters per operation: calls, calls throttled, peak calls in one emulated second. */
  readonly proton: Readonly<Record<string, OperationStats>>;
  /** All Proton operations together. */
  readonly protonTotal: OperationStats;
  readonly lambda: {
    readonly invocations: number;
    readonly peakConcurrency: number;
    /** Synchronous invokes refused with TooManyRequestsException. */
    readonly syncThrottles: number;
    /** Asynchronous invokes sent back to the queue. */
    readonly asyncThrottles: number;
  };
  /** Emulated seconds from the stack's start to the end of its Creates (CREATE_COMPLETE, or the rollback's start). */
  readonly createSeconds: number;
  /** Emulated seconds from the stack's start to its final status (a rollback included). */
  readonly stackSeconds: number;
  /**
   * First sentence of each failed Create's reason (service names replaced), with how many had it
   * and the emulated seconds from their request to their failed response (fewest, most).
   */
  readonly failureReasons: ReadonlyArray<{ readonly reason: string; readonly count: number; readonly seconds?: readonly [number, number] }>;
  /** Real seconds the run took. */
  readonly realSeconds: number;
}

/**
 * Synthesizes the stack of `instances` instances, one service each, at most
 * `lanes` of them at once if given (the provider's `maxConcurrentInstances`);
 * returns its assembly directory (remove it when done).
 */
export function synthLoadStack(instances: number, lanes?: number): string {
  const outdir = mkdtempSync(join(tmpdir(), 'proton-cancel-load-'));
  const app = new App({ outdir, context: { ...cxapi.CURRENTLY_RECOMMENDED_FLAGS } });
  const stack = new Stack(app, LOAD_STACK_NAME);
  const provider = new CancelPipelineDeploymentProvider(stack, CancelPipelineDeploymentProvider.DEFAULT_ID, { maxConcurrentInstances: lanes });
  for (let i = 1; i <= instances; i++) {
    new CancelPipelineDeployment(stack, `Cancel${i}`, { serviceName: loadServiceName(i), provider });
  }
  app.synth();
  return outdir;
}

export function loadServiceName(index: number): string {
  return `load-${String(index).padStart(3, '0')}`;
}

/** Creates the stack of `synthLoadStack(loadCase.instances, loadCase.lanes)` under the case's limits. */
export async function runLoad(assemblyDir: string, loadCase: LoadCase): Promise<LoadResult> {
  const realStart = performance.now();
  const rateLimits = {
    GetService: { perSecond: loadCase.getServicePerSecond, burst: 2 * loadCase.getServicePerSecond },
    CancelServicePipelineDeployment: { perSecond: loadCase.cancelPerSecond, burst: 2 * loadCase.cancelPerSecond },
  };
  let createsEndedMs: number | undefined;
  let now = () => 0;
  const onProgress = (event: ProgressEvent) => {
    if (event.kind === 'stack-status' && event.status !== 'CREATE_IN_PROGRESS') {
      createsEndedMs ??= now();
    }
  };
  return withDeployment(assemblyDir, LOAD_STACK_NAME, async ({ proton, cfn }) => {
    now = () => proton.clock.nowMs();
    const ids = cfn.customResourceIds;
    if (ids.length !== loadCase.instances) {
      throw new Error(`the assembly has ${ids.length} instances, the case ${loadCase.instances}`);
    }
    for (const id of ids) {
      proton.addService(String(cfn.template.Resources[id].Properties?.ServiceName), SCENARIOS['in-progress']);
    }
    const startMs = proton.clock.nowMs();
    const operation = await cfn.createStack();
    const stackSeconds = (proton.clock.nowMs() - startMs) / 1000;
    const creates = operation.requests.filter((r) => r.request.RequestType === 'Create');
    const failures = creates.filter((r) => r.response.Status !== 'SUCCESS');
    const throttles = cfn.lambda.throttles;
    return {
      loadCase,
      stackStatus: operation.stackStatus,
      completed: creates.length - failures.length,
      failed: failures.length,
      proton: proton.requestStats(),
      protonTotal: proton.totalRequestStats(),
      lambda: {
        invocations: cfn.lambda.invocations.length,
        peakConcurrency: cfn.lambda.peakConcurrency,
        syncThrottles: throttles.filter((t) => t.invocationType === 'RequestResponse').length,
        asyncThrottles: throttles.filter((t) => t.invocationType === 'Event').length,
      },
      createSeconds: ((createsEndedMs ?? now()) - startMs) / 1000,
      stackSeconds,
      failureReasons: countReasons(failures.map((r) => ({ reason: r.response.Reason ?? '', seconds: r.elapsedSeconds }))),
      realSeconds: (performance.now() - realStart) / 1000,
    };
  }, { proton: { timeScale: 0, rateLimits }, cfn: { lambdaConcurrency: loadCase.lambdaConcurrency, onProgress } });
}

/** The first sentence of a failure reason, with service names and function names made generic. */
export function firstSentence(reason: string): string {
  const line = reason.split('\n')[0].trim();
  const end = line.search(/[.;](\s|$)/);
  return (end >= 0 ? line.slice(0, end + 1) : line)
    .replace(/'load-\d+'/g, "'<service>'")
    .replace(/ProtonCancelLoad-[\w-]+/g, '<function>');
}

function countReasons(failures: ReadonlyArray<{ reason: string; seconds: number }>): Array<{ reason: string; count: number; seconds: [number, number] }> {
  const byReason = new Map<string, number[]>();
  for (const failure of failures) {
    const reason = firstSentence(failure.reason);
    byReason.set(reason, [...byReason.get(reason) ?? [], failure.seconds]);
  }
  return [...byReason].map(([reason, seconds]) => ({ reason, count: seconds.length, seconds: [Math.min(...seconds), Math.max(...seconds)] as [number, number] }))
    .sort((a, b) => b.count - a.count);
}

/** Removes an assembly directory of `synthLoadStack`. */
export function removeLoadStack(assemblyDir: string): void {
  rmSync(assemblyDir, { recursive: true, force: true });
}
