/**
 * Sections 4 and 5: a Create that cancels a pipeline deployment on the local
 * Proton endpoint, in compressed time.
 *
 * Compression: the endpoint's clock runs `timeScale` times faster than real time,
 * and the waiter's retry interval (read from the synthesized state machine) is
 * divided by the same factor, so a 2-minute cancellation polled every 15 s takes
 * 2 s polled every 250 ms. Only waits are compressed: the handler's own work
 * (SDK calls over HTTP, JSON) runs in real time and is reported as such.
 */
import { existsSync, mkdtempSync, rmSync } from 'fs';
import { createRequire } from 'module';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, CfnResource, CustomResource, Stack } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { CancelPipelineDeployment, CancelPipelineDeploymentProvider } from '../../lib';
import { LocalProton } from '../../test/local-proton';
import { resolveLongest } from './limits';
import { median, sleep } from './stats';
import { serviceName, Template } from './synth';

/** Emulated seconds per real second. */
export const TIME_SCALE = 60;
/** The "2-minute cancellation" of the call count. */
const CANCELLATION_SECONDS = 120;
/** Where the final status falls between two polls, as a fraction of the interval: a sweep. */
const PHASES = [0, 0.1, 0.3, 0.5, 0.7, 0.9];

export interface WaiterPolicy {
  readonly intervalSeconds: number;
  readonly backoffRate: number;
  readonly maxAttempts: number;
}

export interface CancellationRun {
  readonly serviceName: string;
  readonly cancelTakesSeconds: number;
  readonly status: string;
  /** Real ms from the final status to the start of the read that saw it (compressed). */
  readonly waitMs: number;
  /** Real ms from that read to the response (not compressed). */
  readonly workMs: number;
  /** Emulated (full-scale) seconds from the final status to the response: wait x scale + work. */
  readonly fullScaleSeconds: number;
  readonly cancelCalls: number;
  readonly getServiceCalls: number;
}

export interface LifecycleResult {
  /** How the Create was driven. */
  readonly driver: string;
  readonly defaultPollIntervalSeconds: number;
  readonly waiter: WaiterPolicy;
  readonly runs: readonly CancellationRun[];
  readonly medianFullScaleSeconds: number;
  readonly maxFullScaleSeconds: number;
  readonly medianWorkMs: number;
  /** The run whose cancellation takes exactly 2 minutes. */
  readonly twoMinuteRun: CancellationRun;
  readonly expected: { readonly cancelCalls: number; readonly getServiceCalls: number };
}

/** One Create, driven to its response. */
interface CreateResult {
  readonly status: 'SUCCESS' | 'FAILED';
  readonly reason?: string;
  readonly data: Record<string, string>;
  /** performance.now() when the response was sent. */
  readonly respondedAt: number;
}

interface Driver {
  readonly description: string;
  create(logicalId: string): Promise<CreateResult>;
  stop(): Promise<void>;
}

export async function measureLifecycle(root: string): Promise<LifecycleResult> {
  // The app under test: one instance per run, each on its own service, default provider.
  const outdir = mkdtempSync(join(tmpdir(), 'proton-cancel-lifecycle-'));
  const app = new App({ outdir, context: { ...cxapi.CURRENTLY_RECOMMENDED_FLAGS } });
  const stack = new Stack(app, 'ProtonCancelLifecycle');
  const logicalIds = PHASES.map((_, i) => {
    const instance = new CancelPipelineDeployment(stack, `Cancel${i + 1}`, { serviceName: serviceName(i + 1) });
    return stack.getLogicalId((instance.node.defaultChild as CustomResource).node.defaultChild as CfnResource);
  });
  const provider = stack.node.findChild(CancelPipelineDeploymentProvider.DEFAULT_ID) as CancelPipelineDeploymentProvider;
  const pollSeconds = provider.pollInterval.toSeconds();
  const assembly = app.synth();
  const artifact = assembly.getStackByName(stack.stackName);
  const template = artifact.template as Template;
  const waiter = waiterPolicy(template);

  const proton = await LocalProton.start({ timeScale: TIME_SCALE });
  // Maps emulated epoch ms to performance.now(); the clock is linear in it.
  const realOrigin = performance.now();
  const emulatedOrigin = proton.clock.nowMs();
  const realAt = (emulatedMs: number) => realOrigin + (emulatedMs - emulatedOrigin) / TIME_SCALE;

  const restoreLog = silenceHandlerLogs();
  const env = { AWS_ENDPOINT_URL_PROTON: proton.endpoint, AWS_REGION: proton.region };
  const driver = await harnessDriver(root, assembly.directory, stack.stackName, env)
    ?? directDriver(root, template, waiter, env);
  const runs: CancellationRun[] = [];
  try {
    for (const [i, phase] of PHASES.entries()) {
      const name = serviceName(i + 1);
      const cancelTakesSeconds = CANCELLATION_SECONDS + phase * pollSeconds;
      proton.addService(name, { pipeline: { status: 'IN_PROGRESS', cancelTakes: cancelTakesSeconds } });
      const result = await driver.create(logicalIds[i]);
      if (result.status !== 'SUCCESS') {
        throw new Error(`Create of ${name} failed: ${result.reason}`);
      }
      const calls = proton.calls.filter((c) => serviceNameOf(c.input) === name);
      const cancel = calls.find((c) => c.operation === 'CancelServicePipelineDeployment');
      const reads = calls.filter((c) => c.operation === 'GetService');
      if (!cancel || reads.length === 0) {
        throw new Error(`Create of ${name} made no cancel or no read: ${calls.map((c) => c.operation).join(', ')}`);
      }
      const finalAt = realAt(cancel.at.getTime() + cancelTakesSeconds * 1000);
      const lastReadAt = realAt(reads[reads.length - 1].at.getTime());
      const waitMs = lastReadAt - finalAt;
      const workMs = result.respondedAt - lastReadAt;
      runs.push({
        serviceName: name,
        cancelTakesSeconds,
        status: result.data.DeploymentStatus,
        waitMs,
        workMs,
        fullScaleSeconds: (waitMs * TIME_SCALE + workMs) / 1000,
        cancelCalls: calls.filter((c) => c.operation === 'CancelServicePipelineDeployment').length,
        getServiceCalls: reads.length,
      });
    }
  } finally {
    restoreLog();
    await driver.stop();
    await proton.stop();
    rmSync(outdir, { recursive: true, force: true });
  }

  const full = runs.map((r) => r.fullScaleSeconds);
  return {
    driver: driver.description,
    defaultPollIntervalSeconds: pollSeconds,
    waiter,
    runs,
    medianFullScaleSeconds: median(full),
    maxFullScaleSeconds: Math.max(...full),
    medianWorkMs: median(runs.map((r) => r.workMs)),
    twoMinuteRun: runs[0],
    // A read, the cancel, then the waiter's first isComplete at once and one per
    // interval until the read after the final status.
    expected: { cancelCalls: 1, getServiceCalls: 2 + Math.ceil(CANCELLATION_SECONDS / waiter.intervalSeconds) },
  };
}

/** The waiter's retry policy, from the synthesized state machine definition. */
function waiterPolicy(template: Template): WaiterPolicy {
  const machines = Object.values(template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) {
    throw new Error(`expected one waiter state machine, found ${machines.length}`);
  }
  const definition = JSON.parse(resolveLongest(template, machines[0].Properties?.DefinitionString) as string);
  const retry = definition.States[definition.StartAt].Retry[0];
  return { intervalSeconds: retry.IntervalSeconds, backoffRate: retry.BackoffRate, maxAttempts: retry.MaxAttempts };
}

/**
 * Drives the bundled handler as the provider framework does: onEvent, then the
 * waiter's isComplete at once and again after each retry interval. The
 * framework's own Lambda hops and the response PUT are not included.
 */
function directDriver(root: string, template: Template, waiter: WaiterPolicy, env: Record<string, string>): Driver {
  Object.assign(process.env, env, { AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_EC2_METADATA_DISABLED: 'true' });
  const handler = createRequire(__filename)(join(root, 'assets', 'handler', 'index.js')) as HandlerModule;
  return {
    description: 'bundled handler driven directly by the bench (onEvent, then isComplete at the waiter\'s interval); '
      + 'the local lifecycle harness was not available, so the provider framework\'s hops and the response PUT are not included',
    async create(logicalId) {
      const resource = template.Resources[logicalId];
      const event = {
        RequestType: 'Create',
        ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:bench',
        ResponseURL: 'http://127.0.0.1:9/unused',
        StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/ProtonCancelLifecycle/00000000-0000-0000-0000-000000000000',
        RequestId: `bench-${logicalId}`,
        LogicalResourceId: logicalId,
        ResourceType: resource.Type,
        ResourceProperties: resource.Properties,
      };
      const started = await handler.onEvent(event);
      const request = { ...event, ...started };
      for (let attempt = 0; attempt <= waiter.maxAttempts; attempt++) {
        const polled = await handler.isComplete(request);
        if (polled.IsComplete) {
          return { status: 'SUCCESS', data: { ...started.Data, ...polled.Data }, respondedAt: performance.now() };
        }
        await sleep(waiter.intervalSeconds * 1000 * waiter.backoffRate ** attempt / TIME_SCALE);
      }
      return { status: 'FAILED', reason: 'waiter attempts exhausted', data: {}, respondedAt: performance.now() };
    },
    async stop() {},
  };
}

interface HandlerModule {
  onEvent(event: unknown): Promise<{ PhysicalResourceId: string; Data?: Record<string, string> }>;
  isComplete(event: unknown): Promise<{ IsComplete: boolean; Data?: Record<string, string> }>;
}

/**
 * The local CloudFormation lifecycle harness (test/local-cloudformation), when present.
 *
 * Assumed API, to be wired once the harness lands:
 *   LocalCloudFormation.start({ assemblyDir, stackName, timeScale, env }) -> Promise<harness>
 *   harness.create(logicalId) -> Promise<{ response: { Status, Reason?, Data? }, respondedAt }>
 *     (respondedAt: performance.now() when the framework's response PUT arrived)
 *   harness.stop() -> Promise<void>
 * Returns undefined when the harness is missing or exports something else.
 */
async function harnessDriver(root: string, assemblyDir: string, stackName: string, env: Record<string, string>): Promise<Driver | undefined> {
  const index = join(root, 'test', 'local-cloudformation', 'index.ts');
  if (!existsSync(index)) {
    return undefined;
  }
  const harness = await import(index);
  if (typeof harness.LocalCloudFormation?.start !== 'function') {
    console.warn(`bench: ${index} does not export LocalCloudFormation.start (exports: ${Object.keys(harness).join(', ')}); driving the handler directly`);
    return undefined;
  }
  const cfn = await harness.LocalCloudFormation.start({ assemblyDir, stackName, timeScale: TIME_SCALE, env });
  return {
    description: 'local CloudFormation lifecycle harness (test/local-cloudformation): provider framework runtime from the assembly, bundled handler, response PUT',
    async create(logicalId) {
      const { response, respondedAt } = await cfn.create(logicalId);
      return { status: response.Status, reason: response.Reason, data: response.Data ?? {}, respondedAt };
    },
    stop: () => cfn.stop(),
  };
}

/** The handler logs one JSON line per step; keep them out of the bench's output. */
function silenceHandlerLogs(): () => void {
  const log = console.log;
  console.log = () => undefined;
  return () => {
    console.log = log;
  };
}

function serviceNameOf(input: unknown): string | undefined {
  const record = input as { name?: unknown; serviceName?: unknown } | undefined;
  const name = record?.name ?? record?.serviceName;
  return typeof name === 'string' ? name : undefined;
}
