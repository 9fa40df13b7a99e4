/**
 * Sections 4 and 5: a Create that cancels a pipeline deployment, through the
 * local CloudFormation lifecycle (local/cloudformation: the bundled handler
 * from the synthesized assembly, the waiter as its state machine definition
 * says, the response PUT)
 * against the local Proton endpoint (local/proton).
 *
 * Compression: the harness, the waiter and the endpoint share one clock that
 * runs `TIME_SCALE` times faster than real time, so a 2-minute cancellation
 * polled every 15 s takes 2 s of real time, polled every 250 ms. Waits are
 * compressed; the code's own work (the invocations, the read over HTTP, the PUT) is
 * real time, so on the shared clock it counts `TIME_SCALE` times over; the
 * full-scale latency divides it back.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, CfnResource, CustomResource, Stack } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { CancelPipelineDeployment, CancelPipelineDeploymentProvider } from '../../lib';
import { withDeployment } from '../../local/cloudformation';
import { LocalProton, serviceNameOf } from '../../local/proton';
import { resolveLongest } from './limits';
import { median } from './stats';
import { serviceName, Template } from './synth';

/** Emulated seconds per real second. */
export const TIME_SCALE = 60;
/** The "2-minute cancellation" of the call count. */
export const CANCELLATION_SECONDS = 120;
/** Where the final status falls between two polls, as a fraction of the interval: a sweep. */
const PHASES = [0, 0.1, 0.3, 0.5, 0.7, 0.9];

export interface WaiterPolicy {
  /** The waiter's Wait state between two polls. */
  readonly waitSeconds: number;
}

export interface CancellationRun {
  readonly serviceName: string;
  readonly cancelTakesSeconds: number;
  readonly status: string;
  /** Emulated seconds from the final status to the start of the read that saw it. */
  readonly waitSeconds: number;
  /** Real ms from that read to the response PUT (the code's own work). */
  readonly workMs: number;
  /** Final status to response on the compressed clock, in poll intervals. */
  readonly compressedIntervals: number;
  /** Full-scale seconds from the final status to the response: wait + real work. */
  readonly fullScaleSeconds: number;
  readonly cancelCalls: number;
  readonly getServiceCalls: number;
}

export interface LifecycleResult {
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

export async function measureLifecycle(): Promise<LifecycleResult> {
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
  const waiter = waiterPolicy(assembly.getStackByName(stack.stackName).template as Template);

  const deploy = { assemblyDir: assembly.directory, stackName: stack.stackName, pollSeconds };
  try {
    // Latency: the running, compressed clock, a sweep of final-status phases.
    const runs = await withLifecycle(deploy, TIME_SCALE, async (create) => {
      const done: CancellationRun[] = [];
      for (const [i, phase] of PHASES.entries()) {
        done.push(await create(logicalIds[i], serviceName(i + 1), CANCELLATION_SECONDS + phase * pollSeconds));
      }
      return done;
    });
    // Calls: a frozen clock, so only the waiter's own intervals move it and the
    // count is the one the synthesized Wait state gives, free of compression drift.
    const [counted] = await withLifecycle(deploy, 0, async (create) => [await create(logicalIds[0], serviceName(1), CANCELLATION_SECONDS)]);

    const full = runs.map((r) => r.fullScaleSeconds);
    return {
      defaultPollIntervalSeconds: pollSeconds,
      waiter,
      runs,
      medianFullScaleSeconds: median(full),
      maxFullScaleSeconds: Math.max(...full),
      medianWorkMs: median(runs.map((r) => r.workMs)),
      twoMinuteRun: counted,
      // The first step's read and cancel, then one read per interval until the
      // read at or after the final status.
      expected: { cancelCalls: 1, getServiceCalls: 1 + Math.ceil(CANCELLATION_SECONDS / waiter.waitSeconds) },
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

type Create = (logicalId: string, name: string, cancelTakesSeconds: number) => Promise<CancellationRun>;

/**
 * Deploys the stack on the local lifecycle (the test fixture: emulated IAM of
 * its handler role included) against a local Proton endpoint on a clock of
 * `timeScale` (0: frozen), and gives `fn` a function that runs one measured Create.
 */
async function withLifecycle<T>(deploy: { assemblyDir: string; stackName: string; pollSeconds: number }, timeScale: number,
  fn: (create: Create) => Promise<T>): Promise<T> {
  return withDeployment(deploy.assemblyDir, deploy.stackName, ({ proton, cfn }) => fn(async (logicalId, name, cancelTakesSeconds) => {
    proton.addService(name, { pipeline: { status: 'IN_PROGRESS', cancelTakes: cancelTakesSeconds } });
    // The request starts in this tick, on the same clock.
    const requestAtMs = proton.clock.nowMs();
    const result = await cfn.sendRequest('Create', logicalId, {});
    if (result.response.Status !== 'SUCCESS') {
      const steps = result.logs.map((l) => l.message).filter((m) => m.startsWith('{'));
      throw new Error(`Create of ${name} failed: ${result.response.Reason}\nHandler steps:\n${steps.join('\n')}`);
    }
    const respondedAtMs = requestAtMs + result.elapsedSeconds * 1000;
    return measureRun(proton, name, cancelTakesSeconds, respondedAtMs, deploy.pollSeconds, timeScale,
      String(result.response.Data?.DeploymentStatus));
  }), { proton: { timeScale } });
}

/** Times one Create from the calls the endpoint recorded (all on the shared clock). */
function measureRun(proton: LocalProton, name: string, cancelTakesSeconds: number, respondedAtMs: number, pollSeconds: number,
  timeScale: number, status: string): CancellationRun {
  const calls = proton.calls.filter((c) => serviceNameOf(c.input as Record<string, unknown> | undefined) === name);
  const cancels = calls.filter((c) => c.operation === 'CancelServicePipelineDeployment');
  const reads = calls.filter((c) => c.operation === 'GetService');
  if (cancels.length === 0 || reads.length === 0) {
    throw new Error(`Create of ${name} made no cancel or no read: ${calls.map((c) => c.operation).join(', ')}`);
  }
  const finalAtMs = cancels[0].at.getTime() + cancelTakesSeconds * 1000;
  const lastReadAtMs = reads[reads.length - 1].at.getTime();
  const waitSeconds = (lastReadAtMs - finalAtMs) / 1000;
  // On a frozen clock the work takes no emulated time, and its real time is not seen.
  const workMs = timeScale === 0 ? 0 : (respondedAtMs - lastReadAtMs) / timeScale;
  return {
    serviceName: name,
    cancelTakesSeconds,
    status,
    waitSeconds,
    workMs,
    compressedIntervals: (respondedAtMs - finalAtMs) / 1000 / pollSeconds,
    fullScaleSeconds: waitSeconds + workMs / 1000,
    cancelCalls: cancels.length,
    getServiceCalls: reads.length,
  };
}

/** The waiter's wait between polls, from the synthesized state machine definition. */
function waiterPolicy(template: Template): WaiterPolicy {
  const machines = Object.values(template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) {
    throw new Error(`expected one waiter state machine, found ${machines.length}`);
  }
  const definition = JSON.parse(resolveLongest(template, machines[0].Properties?.DefinitionString) as string);
  const waits = Object.values(definition.States as Record<string, { Type: string; Seconds?: number }>).filter((state) => state.Type === 'Wait');
  if (waits.length !== 1 || waits[0].Seconds === undefined) {
    throw new Error(`expected one Wait state with Seconds in the waiter, found ${waits.length}`);
  }
  return { waitSeconds: waits[0].Seconds };
}
