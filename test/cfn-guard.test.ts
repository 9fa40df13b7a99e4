/**
 * The provider under CloudFormation Guard: the Control Tower proactive-control
 * rules bundled with @cdklabs/cdk-validator-cfnguard (and its cfn-guard binary),
 * run at synth as a validation plugin. Which rules the provider does not
 * meet, and what a user can do about each, is listed in the README.
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { CancelPipelineDeployment, CancelPipelineDeploymentProvider } from '../lib';

const GUARD = 'cdk-validator-cfnguard';
const WAITER_RULES = {
  'step_functions_state_machine_logging_enabled_check': 'CT.STEPFUNCTIONS.PR.1',
  'step_functions_state_machine_tracing_enabled_check': 'CT.STEPFUNCTIONS.PR.2',
};

interface GuardResult {
  /** Whether synth went through (it throws when a plugin reports a failure). */
  readonly synthesized: boolean;
  /** Each rule not met: its Control Tower id and the construct paths that fail it, below the stack. */
  readonly failing: Record<string, { control: string; constructs: string[] }>;
  /** Acknowledged rules, with the construct paths they were acknowledged for. */
  readonly acknowledged: Record<string, string[]>;
}

/** Synthesizes a stack with the Control Tower rules and reads the guard plugin's part of the report. */
function synthWithGuard(build: (stack: Stack) => void): GuardResult {
  const outdir = mkdtempSync(join(tmpdir(), 'cfn-guard-'));
  try {
    return synthInto(outdir, build);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function synthInto(outdir: string, build: (stack: Stack) => void): GuardResult {
  const app = new App({ outdir });
  Validations.of(app).addPlugins(new CfnGuardValidator());
  const stack = new Stack(app, 'CancelPipelineDeploymentExample');
  build(stack);

  // The plugin prints its report; the report file below is what the test reads.
  const quiet = [jest.spyOn(console, 'error'), jest.spyOn(console, 'warn')].map(spy => spy.mockImplementation(() => undefined));
  let synthesized = true;
  try {
    app.synth();
  } catch (error) {
    expect(String(error)).toMatch(/ValidationFailed/);
    synthesized = false;
  } finally {
    quiet.forEach(spy => spy.mockRestore());
  }

  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8'));
  const guard = report.pluginReports.find((plugin: { pluginName: string }) => plugin.pluginName === GUARD);
  type Violation = { ruleName: string; description: string; violatingConstructs: { constructPath: string }[]; acknowledgedAt?: string };
  const below = (path: string) => path.replace(`${stack.stackName}/`, '');
  const failing = Object.fromEntries((guard.violations as Violation[]).map(violation => [violation.ruleName, {
    control: /^\[(CT\.[\w.]+)\]/.exec(violation.description)![1],
    constructs: violation.violatingConstructs.map(construct => below(construct.constructPath)).sort(),
  }]));
  const acknowledged: Record<string, string[]> = {};
  for (const violation of (guard.suppressedViolations ?? []) as Violation[]) {
    acknowledged[violation.ruleName] = [...acknowledged[violation.ruleName] ?? [], ...violation.violatingConstructs.map(construct => below(construct.constructPath))].sort();
  }
  return { synthesized, failing, acknowledged };
}

/** The stack of examples/app.ts: one service, its outputs, the provider at its defaults. */
function exampleStack(stack: Stack): void {
  const cancel = new CancelPipelineDeployment(stack, 'CancelPipeline', { serviceName: 'my-service' });
  new CfnOutput(stack, 'DeploymentStatus', { value: cancel.deploymentStatus });
  new CfnOutput(stack, 'PipelineArn', { value: cancel.pipelineArn });
  new CfnOutput(stack, 'CancellationRequested', { value: cancel.cancellationRequested });
}

/** A provider with what a user under Control Tower sets: a year of logs, a KMS key, a VPC. */
function configuredProvider(stack: Stack): CancelPipelineDeploymentProvider {
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  });
  const key = kms.Key.fromKeyArn(stack, 'LogKey', 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab');
  const provider = new CancelPipelineDeploymentProvider(stack, 'CancelProvider', {
    logGroup: new logs.LogGroup(stack, 'ProviderLogs', { encryptionKey: key, retention: logs.RetentionDays.ONE_YEAR }),
    vpc,
    securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'ProviderSecurityGroup', 'sg-0123456789abcdef0')],
  });
  new CancelPipelineDeployment(stack, 'CancelPipeline', { serviceName: 'my-service', provider });
  return provider;
}

const acknowledgeWaiterRules = (provider: CancelPipelineDeploymentProvider) => Validations.of(provider).acknowledge(
  ...Object.keys(WAITER_RULES).map(rule => ({ id: `${GUARD}::${rule}`, reason: 'The waiter is one logged Lambda task in a loop; logging or tracing it would need actions on *' })));

let exitCodeBefore: typeof process.exitCode;
beforeEach(() => {
  exitCodeBefore = process.exitCode;
});
afterEach(() => {
  // synth reports a failed validation by throwing here, never by setting the exit code
  expect(process.exitCode).toBe(exitCodeBefore);
});

test('the example app fails exactly these Control Tower rules, each on the provider\'s own resources', () => {
  const result = synthWithGuard(exampleStack);

  const functions = [
    'CancelPipelineDeploymentProvider/IsComplete/Resource',
    'CancelPipelineDeploymentProvider/OnEvent/Resource',
  ];
  const logGroup = ['CancelPipelineDeploymentProvider/LogGroup/Resource'];
  const waiter = ['CancelPipelineDeploymentProvider/Waiter/Resource'];
  expect(result.synthesized).toBe(false);
  expect(result.failing).toEqual({
    cloudwatch_log_group_encrypted_check: { control: 'CT.CLOUDWATCH.PR.3', constructs: logGroup },
    lambda_inside_vpc_check: { control: 'CT.LAMBDA.PR.3', constructs: functions },
    step_functions_state_machine_logging_enabled_check: { control: 'CT.STEPFUNCTIONS.PR.1', constructs: waiter },
    step_functions_state_machine_tracing_enabled_check: { control: 'CT.STEPFUNCTIONS.PR.2', constructs: waiter },
  });
  expect(result.acknowledged).toEqual({});
});

test('a KMS-encrypted log group and a VPC leave only the two rules on the waiter', () => {
  const result = synthWithGuard(configuredProvider);

  const waiter = ['CancelProvider/Waiter/Resource'];
  expect(result.synthesized).toBe(false);
  expect(result.failing).toEqual(Object.fromEntries(Object.entries(WAITER_RULES).map(([rule, control]) => [rule, { control, constructs: waiter }])));
});

test('acknowledging the two waiter rules on the provider lets that provider synthesize under the rules', () => {
  const result = synthWithGuard(stack => acknowledgeWaiterRules(configuredProvider(stack)));

  expect(result.failing).toEqual({});
  expect(result.acknowledged).toEqual(Object.fromEntries(Object.keys(WAITER_RULES).map(rule => [rule, ['CancelProvider/Waiter/Resource']])));
  expect(result.synthesized).toBe(true);
});

test('caution: once any guard finding is acknowledged, synth goes through with the others still in the report', () => {
  // GIVEN: the provider at its defaults, only the two waiter rules acknowledged
  const result = synthWithGuard(stack => {
    exampleStack(stack);
    acknowledgeWaiterRules(stack.node.findChild('CancelPipelineDeploymentProvider') as CancelPipelineDeploymentProvider);
  });

  // THEN: two rules still fail, yet synth does not stop (aws-cdk-lib 2.276 with this plugin)
  expect(Object.keys(result.failing).sort()).toEqual(['cloudwatch_log_group_encrypted_check', 'lambda_inside_vpc_check']);
  expect(result.synthesized).toBe(true);
});
