/**
 * A probe provider for the local lifecycle's own tests, built as the project's
 * provider is: an OnEvent function that is the ServiceToken and, to wait,
 * starts a waiter state machine (named by the RequestId) through the AWS SDK;
 * a waiter that polls an IsComplete function (same code, same role) until it
 * answers true, and sends its failures to the same function; both functions
 * PUT the response to the ResponseURL themselves. What the probe does is set
 * by its resource's properties (see PROBE_HANDLER).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { buildSync } from 'esbuild';

/**
 * The probe's handler. Properties of the resource:
 * - WaitSeconds: start the waiter, and answer once that much emulated time has passed;
 * - PollFails: 'true' makes every poll throw (the waiter's Catch answers FAILED);
 * - PollTakesSeconds: each poll takes that much emulated time before it answers;
 * - Respond: 'twice' PUTs the response twice, 'differ' twice with another Reason the second time,
 *   'chunked' without Content-Length, 'post' with POST.
 */
const PROBE_HANDLER = `
const http = require('http');
const { SFNClient, StartExecutionCommand } = require('@aws-sdk/client-sfn');
const sfn = new SFNClient({});

function put(event, body, how) {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': '' };
    if (how !== 'chunked') headers['content-length'] = Buffer.byteLength(body);
    const req = http.request(new URL(event.ResponseURL), { method: how === 'post' ? 'POST' : 'PUT', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    if (how === 'chunked') { req.write(body); req.end(); } else { req.end(body); }
  });
}

async function answer(event, status, reason, data) {
  const body = JSON.stringify({
    Status: status, Reason: reason, PhysicalResourceId: event.PhysicalResourceId || 'probe',
    StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId, Data: data,
  });
  const how = event.ResourceProperties.Respond;
  await put(event, body, how);
  if (how === 'twice') await put(event, body, how);
  if (how === 'differ') await put(event, JSON.stringify({ ...JSON.parse(body), Reason: 'second thoughts' }), how);
}

exports.onEvent = async (event, context) => {
  const props = event.ResourceProperties;
  const data = {
    Region: process.env.AWS_REGION,
    HostOnly: process.env.LIFECYCLE_HOST_ONLY || 'absent',
    Now: new Date().toISOString(),
    FunctionName: context.functionName,
    PropertyTypes: typeof props.Count + ',' + typeof props.Enabled,
  };
  if (props.WaitSeconds && event.RequestType !== 'Delete') {
    const input = { ...event, DoneAt: Date.now() + Number(props.WaitSeconds) * 1000, Data: data };
    await sfn.send(new StartExecutionCommand({ stateMachineArn: process.env.WAITER_STATE_MACHINE_ARN, name: event.RequestId, input: JSON.stringify(input) }));
    return;
  }
  await answer(event, 'SUCCESS', undefined, data);
};

exports.isComplete = async (state) => {
  if (state.Error) {
    await answer(state, 'FAILED', state.Error.Error + ': ' + state.Error.Cause);
    return true;
  }
  if (state.ResourceProperties.PollFails === 'true') throw new Error('the poll failed');
  const takes = Number(state.ResourceProperties.PollTakesSeconds || 0) * 1000;
  if (takes > 0) await new Promise((resolve) => setTimeout(resolve, takes));
  if (Date.now() < state.DoneAt) return false;
  await answer(state, 'SUCCESS', undefined, { ...state.Data, AnsweredAt: new Date().toISOString() });
  return true;
};
`;

/**
 * The probe's code, bundled with its SDK client as the project's handler is: a
 * new asset directory, with the code of an unrelated function in `other/`.
 */
export function probeAsset(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-handler-'));
  buildSync({
    stdin: { contents: PROBE_HANDLER, resolveDir: __dirname, loader: 'js' },
    outfile: path.join(dir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    logLevel: 'warning',
  });
  fs.mkdirSync(path.join(dir, 'other'));
  fs.writeFileSync(path.join(dir, 'other', 'index.js'), 'exports.handler = async () => null;\n');
  return dir;
}

export interface ProbeOptions {
  /** The asset directory of `probeAsset()`. */
  readonly asset: string;
  /** The resource's properties (see PROBE_HANDLER). */
  readonly properties?: Record<string, unknown>;
  /** @default Duration.seconds(10) */
  readonly pollInterval?: Duration;
  /** The waiter's TimeoutSeconds. @default Duration.hours(1) */
  readonly waiterTimeout?: Duration;
  /** Whether the handler's role may start the waiter (otherwise it may only describe its executions). @default true */
  readonly allowStartExecution?: boolean;
  /** The throttled poll's retries. @default 20 */
  readonly throttleRetries?: number;
}

/** A probe provider and one resource in `stack`. */
export function probeStack(stack: Stack, options: ProbeOptions): CustomResource {
  const role = new iam.Role(stack, 'HandlerRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  const fn = (id: string, handler: string) => new lambda.Function(stack, id, {
    code: lambda.Code.fromAsset(options.asset), handler, runtime: lambda.Runtime.NODEJS_22_X, role, timeout: Duration.minutes(1),
  });
  const onEvent = fn('OnEvent', 'index.onEvent');
  const isComplete = fn('IsComplete', 'index.isComplete');

  const onThrottle: sfn.RetryProps = {
    errors: ['Lambda.TooManyRequestsException'],
    interval: Duration.seconds(1),
    backoffRate: 2,
    maxDelay: Duration.seconds(60),
    maxAttempts: options.throttleRetries ?? 20,
    jitterStrategy: sfn.JitterType.FULL,
  };
  const answerFailure = new tasks.LambdaInvoke(stack, 'Answer failure', { lambdaFunction: isComplete, payloadResponseOnly: true }).addRetry(onThrottle);
  const poll = new tasks.LambdaInvoke(stack, 'Poll', { lambdaFunction: isComplete, payloadResponseOnly: true, resultPath: '$.Answered' })
    .addRetry(onThrottle)
    .addCatch(answerFailure, { resultPath: '$.Error' });
  const wait = new sfn.Wait(stack, 'Wait', { time: sfn.WaitTime.duration(options.pollInterval ?? Duration.seconds(10)) });
  const answered = new sfn.Choice(stack, 'Answered?')
    .when(sfn.Condition.booleanEquals('$.Answered', true), new sfn.Succeed(stack, 'Done'))
    .otherwise(wait.next(poll));
  const waiter = new sfn.StateMachine(stack, 'Waiter', {
    definitionBody: sfn.DefinitionBody.fromChainable(poll.next(answered)),
    timeout: options.waiterTimeout ?? Duration.hours(1),
  });
  onEvent.addEnvironment('WAITER_STATE_MACHINE_ARN', waiter.stateMachineArn);
  // A policy of its own: in the role's default policy it would make a cycle (IsComplete waits
  // for that policy, the policy names the waiter, the waiter names IsComplete).
  const startWaiter = new iam.Policy(stack, 'StartWaiter', {
    roles: [role],
    statements: [new iam.PolicyStatement({
      actions: [options.allowStartExecution === false ? 'states:DescribeExecution' : 'states:StartExecution'],
      resources: [waiter.stateMachineArn],
    })],
  });

  // Another function with code of its own: not a handler.
  new lambda.Function(stack, 'Unrelated', {
    code: lambda.Code.fromAsset(path.join(options.asset, 'other')), handler: 'index.handler', runtime: lambda.Runtime.NODEJS_22_X,
  });

  const resource = new CustomResource(stack, 'Probe', { serviceToken: onEvent.functionArn, properties: { Count: 42, Enabled: true, ...options.properties } });
  resource.node.addDependency(startWaiter);
  return resource;
}
