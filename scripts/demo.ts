/**
 * npm run demo [-- --scenario <name>] [--time-scale <n>]
 *
 * Deploys the example app's stack locally, with no AWS account: synthesizes the
 * app (the command in cdk.json, as `cdk synth` runs it), starts a local AWS
 * Proton endpoint with a pipeline deployment in progress, and runs the stack's
 * Create through the local CloudFormation lifecycle: the bundled handler from
 * the synthesized assets, the waiter as its state machine says. Prints each step as it happens, then the attributes
 * CloudFormation would expose.
 *
 * Exits non-zero only when a scenario that should deploy does not.
 */
import { execSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { LocalCloudFormation, ProgressEvent } from '../local/cloudformation';
import { Fault, LocalProton, SCENARIOS, ServiceOptions } from '../local/proton';

const ROOT = path.join(__dirname, '..');

interface Scenario {
  readonly summary: string;
  /** The service's situation; none: the service does not exist. */
  readonly service?: ServiceOptions;
  readonly faults?: ReadonlyArray<readonly [string, Fault]>;
  readonly unreachable?: boolean;
  /** Whether the stack should deploy. */
  readonly deploys: boolean;
}

const DEMOS: Record<string, Scenario> = {
  'cancel': { summary: 'a pipeline deployment in progress is cancelled', service: SCENARIOS['in-progress'], deploys: true },
  'nothing-to-cancel': { summary: 'the last deployment already SUCCEEDED: nothing to cancel, the stack deploys anyway', service: SCENARIOS.succeeded, deploys: true },
  'cancel-fails': { summary: 'the cancellation ends FAILED: reported in DeploymentStatus', service: SCENARIOS['cancel-fails'], deploys: true },
  'finished-first': { summary: 'the deployment SUCCEEDED before the cancel took effect', service: SCENARIOS['succeeds-first'], deploys: true },
  'already-cancelling': { summary: 'a cancellation is already under way: no cancel is sent, the Create waits', service: SCENARIOS.cancelling, deploys: true },
  'throttling': {
    summary: 'AWS Proton throttles the first reads; the SDK retries them',
    service: SCENARIOS['in-progress'],
    faults: [['GetService', { kind: 'throttle', times: 3 }]],
    deploys: true,
  },
  'flaky-network': {
    summary: 'a dropped connection and a 500 on the way; the SDK retries them',
    service: SCENARIOS['in-progress'],
    faults: [['GetService', { kind: 'drop' }], ['CancelServicePipelineDeployment', { kind: 'error', name: 'InternalServerException' }]],
    deploys: true,
  },
  'unreachable': { summary: 'AWS Proton cannot be reached: the Create fails in seconds, saying why', service: SCENARIOS['in-progress'], unreachable: true, deploys: false },
  'missing-service': { summary: 'no such service: the Create fails, saying what to check', deploys: false },
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'scenario': { type: 'string', default: 'cancel' },
      'time-scale': { type: 'string', default: '0' },
      'help': { type: 'boolean', default: false },
    },
  });
  if (values.help || !(values.scenario! in DEMOS)) {
    if (!values.help) {
      console.log(`Unknown scenario '${values.scenario}'.`);
    }
    console.log('Usage: npm run demo [-- --scenario <name>] [--time-scale <n>]');
    console.log('  --time-scale  emulated seconds per real second; 0 (default): time moves only while the waiter waits');
    console.log('Scenarios:');
    Object.entries(DEMOS).forEach(([name, s]) => console.log(`  ${name.padEnd(19)} ${s.summary}`));
    return values.help ? 0 : 2;
  }
  const scenario = DEMOS[values.scenario!];
  const timeScale = Number(values['time-scale']);
  const realStart = Date.now();
  console.log(`Scenario '${values.scenario}': ${scenario.summary}.`);

  const assemblyDir = synthesizeExampleApp();
  const proton = await LocalProton.start({ timeScale });
  const watcher = watchProtonErrors(proton);
  let cfn: LocalCloudFormation | undefined;
  try {
    let requestStartMs = proton.clock.nowMs();
    const log = (who: string, text: string) => console.log(`  ${clockText((proton.clock.nowMs() - requestStartMs) / 1000).padStart(6)}  ${who.padEnd(14)} ${text}`);
    watcher.log = log;
    cfn = await LocalCloudFormation.start({
      assemblyDir,
      protonEndpoint: proton.endpoint,
      clock: proton.clock,
      region: proton.region,
      account: proton.account,
      protonIam: proton,
      onProgress: (event) => {
        if (event.kind === 'request') {
          requestStartMs = proton.clock.nowMs();
        }
        progress(event, log);
      },
    });
    const [logicalId] = cfn.customResourceIds;
    const serviceName = String(cfn.template.Resources[logicalId].Properties?.ServiceName);
    if (scenario.service) {
      proton.addService(serviceName, scenario.service);
    }
    for (const [operation, fault] of scenario.faults ?? []) {
      proton.injectFaults(operation, fault);
    }
    if (scenario.unreachable) {
      await proton.shutDown();
    }
    console.log(`Local AWS Proton at ${proton.endpoint}: service '${serviceName}' ${describeService(proton, serviceName, scenario)}.`);
    console.log(timeScale === 0
      ? 'Emulated time moves only while the waiter waits; times below are emulated, from each request.'
      : `Emulated time runs ${timeScale}x real time, the code's own work included; times below are emulated, from each request.`);

    const operation = await cfn.createStack();

    const create = operation.requests[0];
    if (operation.stackStatus === 'CREATE_COMPLETE') {
      console.log(`Attributes of ${logicalId} (Fn::GetAtt):`);
      for (const [name, value] of Object.entries(create.response.Data ?? {})) {
        console.log(`  ${name.padEnd(27)} ${value === '' ? '(empty)' : String(value)}`);
      }
      console.log('Stack outputs:');
      for (const [name, value] of Object.entries(cfn.outputs())) {
        console.log(`  ${name.padEnd(27)} ${value}`);
      }
    } else {
      console.log(`The Create failed; CloudFormation shows: ${String(create.response.Reason).split('\n')[0]}`);
    }
    const deployed = operation.stackStatus === 'CREATE_COMPLETE';
    const verdict = deployed === scenario.deploys ? 'as expected' : 'NOT as expected';
    console.log(`Done in ${((Date.now() - realStart) / 1000).toFixed(1)} s: stack ${operation.stackStatus}, ${verdict}.`);
    return scenario.deploys && !deployed ? 1 : 0;
  } finally {
    watcher.stop();
    await cfn?.stop();
    await proton.stop();
    fs.rmSync(assemblyDir, { recursive: true, force: true });
  }
}

/** Runs cdk.json's app command with CDK_OUTDIR, as `cdk synth` does; bundles the handler first if needed. */
function synthesizeExampleApp(): string {
  if (!fs.existsSync(path.join(ROOT, 'assets', 'handler', 'index.js'))) {
    console.log('The handler asset is missing: npm run bundle');
    execSync('npm run bundle', { cwd: ROOT, stdio: 'inherit' });
  }
  const app = (JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { app: string }).app;
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-cdk-out-'));
  const started = Date.now();
  const result = spawnSync(app, { cwd: ROOT, shell: true, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, CDK_OUTDIR: outdir } });
  if (result.status !== 0) {
    throw new Error(`synthesizing the example app (${app}) failed with exit code ${result.status}`);
  }
  console.log(`Synthesized the example app (${app}) in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  return outdir;
}

function describeService(proton: LocalProton, serviceName: string, scenario: Scenario): string {
  if (!scenario.service) {
    return 'does not exist';
  }
  const status = proton.status(serviceName);
  const faults = scenario.faults?.map(([op, f]) => `${f.kind}${f.times && f.times > 1 ? ` x${f.times}` : ''} on ${op}`).join(', ');
  return [
    status ? `has its pipeline deployment ${status}` : 'has no pipeline',
    faults ? `faults: ${faults}` : undefined,
    scenario.unreachable ? 'and the endpoint is shut down' : undefined,
  ].filter(Boolean).join('; ');
}

let lastWait: number | undefined;

/** One line per step worth seeing: requests, the handler's steps, the waiter's interval, responses. */
function progress(event: ProgressEvent, log: (who: string, text: string) => void): void {
  switch (event.kind) {
    case 'stack-status':
      console.log(`Stack: ${event.status}`);
      return;
    case 'request': {
      const r = event.request;
      log('CloudFormation', `-> ${r.RequestType} ${r.LogicalResourceId} (${r.ResourceType})${r.PhysicalResourceId ? `, physical id ${r.PhysicalResourceId}` : ''}`);
      return;
    }
    case 'waiter':
      if (event.event.kind === 'wait' && event.event.seconds !== lastWait) {
        lastWait = event.event.seconds;
        log('waiter', `not final yet: isComplete again every ${event.event.seconds} s (its Wait state)`);
      } else if (event.event.kind === 'caught') {
        log('waiter', `gave up (${event.event.error}), to ${event.event.next}`);
      }
      return;
    case 'log':
      // The handler's own steps: one JSON line each.
      if (event.record.written && event.record.message.startsWith('{')) {
        log('handler', handlerStep(event.record.message));
      }
      return;
    case 'response': {
      const r = event.response;
      const firstLine = String(r.Reason).split('\n')[0];
      const reason = r.Status === 'FAILED' ? `: ${firstLine.length > 100 ? `${firstLine.slice(0, 99)}…` : firstLine}` : '';
      log('CloudFormation', `<- ${r.Status}, physical id ${r.PhysicalResourceId} (${event.bytes} bytes)${reason}`);
      return;
    }
  }
}

/** What the handler decided after its first read (the `next` of its 'read' line). */
const DECISION: Record<string, string> = {
  'cancel': ', so cancel it',
  'wait': ', so wait for its final status',
  'nothing-to-cancel': ', nothing to cancel',
};

/** A handler log line (one JSON object per step) as a short sentence. */
function handlerStep(message: string): string {
  let step: Record<string, unknown>;
  try {
    step = JSON.parse(message) as Record<string, unknown>;
  } catch {
    return message.split('\n')[0];
  }
  const status = step.deploymentStatus;
  switch (step.step) {
    case 'read':
      return `read the pipeline: ${String(status)}${DECISION[String(step.next)] ?? ''}`;
    case 'cancel-sent':
      return `cancel sent; Proton answered ${String(status)}`;
    case 'poll':
      return `status ${String(status)} after ${clockText(Number(step.waitedSeconds))}`;
    case 'cancel-lost-race':
      return `cancel refused: the deployment had already ended ${String(status)}`;
    case 'cancel-landed-earlier':
      return `cancel refused after an attempt that went unanswered: that one was taken (${String(status)})`;
    case 'step-repeat':
    case 'report-repeat':
    case 'stack-status-repeat':
      return `a passing fault: the step is taken again after the poll interval (${String(step.error).split(';')[0]})`;
    case 'waiter-started':
      return 'response URL kept in Parameter Store, waiter started: it reads, cancels and polls until the answer is decided';
    case 'waiter-already-ran':
      return 'a second delivery of a request already answered: nothing sent';
    case 'already-answered':
      return 'the answer went out at an earlier try: nothing sent';
    case 'answered':
      return `answered CloudFormation: ${String(step.status)}`;
    default:
      return message;
  }
}

/** Prints Proton calls that failed on the wire as they happen (the SDK retries them unseen). */
function watchProtonErrors(proton: LocalProton): { log?: (who: string, text: string) => void; stop(): void } {
  let seen = 0;
  const watcher: { log?: (who: string, text: string) => void; stop(): void } = { stop: () => clearInterval(timer) };
  const timer = setInterval(() => {
    for (; seen < proton.calls.length; seen++) {
      const call = proton.calls[seen];
      if (call.fault || (call.status ?? 0) >= 400) {
        watcher.log?.('AWS Proton', `${call.operation}: ${call.fault === 'drop' ? 'connection dropped' : `${call.status} ${call.errorType ?? call.fault ?? ''}`}`.trim());
      }
    }
  }, 5);
  return watcher;
}

function clockText(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

main().then((code) => process.exit(code), (e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
