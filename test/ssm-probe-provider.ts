/**
 * A probe provider built as the redesigned provider is, for the local
 * lifecycle's tests of what that design needs: OnEvent (the ServiceToken)
 * starts the waiter with an input WITHOUT the ResponseURL, then keeps the URL
 * in Parameter Store (a SecureString named `<prefix>/<RequestId>`); the
 * waiter's IsComplete reads it back with decryption, PUTs the answer and
 * deletes the parameter. Each function has a role of its own. What the probe
 * does is set by its resource's properties (see SSM_PROBE_HANDLER).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ArnFormat, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { buildSync } from 'esbuild';

/** Where the probe keeps response URLs. */
export const PARAMETER_PREFIX = '/cdk-proton-cancel-pipeline-deployment/probe';

/**
 * The probe's handler. Properties of the resource:
 * - WaitSeconds: wait through the waiter, and answer once that much emulated time has passed
 *   (otherwise OnEvent answers at once);
 * - Overwrite: 'true' puts the parameter with Overwrite;
 * - Nonce: 'true' puts a random number in the answer's Data (two runs never answer alike);
 * - UrlInInput: 'true' passes the ResponseURL in the waiter's input too (the old design).
 * A PUT of the answer that fails (5xx, dropped connection) is tried again, up to 4 times, 1 s apart.
 */
const SSM_PROBE_HANDLER = `
const http = require('http');
const { SFNClient, StartExecutionCommand } = require('@aws-sdk/client-sfn');
const { SSMClient, PutParameterCommand, GetParameterCommand, DeleteParameterCommand } = require('@aws-sdk/client-ssm');
const sfn = new SFNClient({});
const ssm = new SSMClient({});
const parameterName = (requestId) => process.env.PARAMETER_PREFIX + '/' + requestId;

function putOnce(url, body) {
  return new Promise((resolve) => {
    const req = http.request(new URL(url), { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve('dropped'));
    req.end(body);
  });
}

async function answer(url, event, status, reason, data) {
  const body = JSON.stringify({
    Status: status, Reason: reason, PhysicalResourceId: event.PhysicalResourceId || 'ssm-probe',
    StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId, Data: data,
  });
  for (let attempt = 1; ; attempt++) {
    const result = await putOnce(url, body);
    console.log(JSON.stringify({ step: 'answer', attempt, result }));
    if (result === 200) return;
    if (attempt === 5) throw new Error('the answer could not be sent');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const dataOf = (props) => ({ Answer: 'probe', ...(props.Nonce === 'true' ? { Nonce: String(Math.random()) } : {}) });

exports.onEvent = async (event) => {
  const props = event.ResourceProperties;
  if (!props.WaitSeconds || event.RequestType === 'Delete') {
    await answer(event.ResponseURL, event, 'SUCCESS', undefined, dataOf(props));
    return;
  }
  const { ResponseURL, ...rest } = event;
  const input = { ...rest, ...(props.UrlInInput === 'true' ? { ResponseURL } : {}), DoneAt: Date.now() + Number(props.WaitSeconds) * 1000 };
  try {
    await sfn.send(new StartExecutionCommand({ stateMachineArn: process.env.WAITER_STATE_MACHINE_ARN, name: event.RequestId, input: JSON.stringify(input) }));
  } catch (error) {
    // A delivery after the waiter ended: the answer is already sent.
    if (error.name === 'ExecutionAlreadyExists') return;
    throw error;
  }
  try {
    await ssm.send(new PutParameterCommand({ Name: parameterName(event.RequestId), Value: ResponseURL, Type: 'SecureString', Overwrite: props.Overwrite === 'true' }));
  } catch (error) {
    // A concurrent delivery put it first.
    if (error.name !== 'ParameterAlreadyExists') throw error;
  }
};

exports.isComplete = async (state) => {
  if (Date.now() < state.DoneAt) return false;
  const name = parameterName(state.RequestId);
  const url = (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter.Value;
  await answer(url, state, 'SUCCESS', undefined, dataOf(state.ResourceProperties));
  try {
    await ssm.send(new DeleteParameterCommand({ Name: name }));
  } catch (error) {
    console.log(JSON.stringify({ step: 'delete-parameter', error: error.name }));
  }
  return true;
};
`;

/** The probe's code, bundled with its SDK clients: a new asset directory. */
export function ssmProbeAsset(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ssm-probe-handler-'));
  buildSync({
    stdin: { contents: SSM_PROBE_HANDLER, resolveDir: __dirname, loader: 'js' },
    outfile: path.join(dir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    logLevel: 'warning',
  });
  return dir;
}

export interface SsmProbeOptions {
  /** The asset directory of `ssmProbeAsset()`. */
  readonly asset: string;
  /** Logical ids and properties of the resources (see SSM_PROBE_HANDLER). */
  readonly resources: Record<string, Record<string, unknown>>;
  /** Whether IsComplete's role may delete the parameters. @default true */
  readonly allowDelete?: boolean;
  /** Proton actions each role may call on the service `web`. @default - none */
  readonly protonActions?: { readonly onEvent?: string[]; readonly isComplete?: string[] };
}

/** An SSM probe provider and its resources in `stack`. */
export function ssmProbeStack(stack: Stack, options: SsmProbeOptions): void {
  const parameters = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${PARAMETER_PREFIX.slice(1)}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  const fn = (id: string, handler: string) => new lambda.Function(stack, id, {
    code: lambda.Code.fromAsset(options.asset),
    handler,
    runtime: lambda.Runtime.NODEJS_22_X,
    timeout: Duration.minutes(1),
    environment: { PARAMETER_PREFIX },
  });
  const onEvent = fn('OnEvent', 'index.onEvent');
  const isComplete = fn('IsComplete', 'index.isComplete');
  onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: ['ssm:PutParameter'], resources: [parameters] }));
  isComplete.addToRolePolicy(new iam.PolicyStatement({
    actions: options.allowDelete === false ? ['ssm:GetParameter'] : ['ssm:GetParameter', 'ssm:DeleteParameter'],
    resources: [parameters],
  }));

  const web = stack.formatArn({ service: 'proton', resource: 'service', resourceName: 'web', arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  for (const [fn, actions] of [[onEvent, options.protonActions?.onEvent], [isComplete, options.protonActions?.isComplete]] as const) {
    if (actions) {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: [web] }));
    }
  }

  const onThrottle: sfn.RetryProps = {
    errors: ['Lambda.TooManyRequestsException'], interval: Duration.seconds(1), backoffRate: 2, maxDelay: Duration.seconds(60), maxAttempts: 20,
    jitterStrategy: sfn.JitterType.FULL,
  };
  const poll = new tasks.LambdaInvoke(stack, 'Poll', { lambdaFunction: isComplete, payloadResponseOnly: true, resultPath: '$.Answered' }).addRetry(onThrottle);
  const wait = new sfn.Wait(stack, 'Wait', { time: sfn.WaitTime.duration(Duration.seconds(10)) });
  const answered = new sfn.Choice(stack, 'Answered?')
    .when(sfn.Condition.booleanEquals('$.Answered', true), new sfn.Succeed(stack, 'Done'))
    .otherwise(wait.next(poll));
  const waiter = new sfn.StateMachine(stack, 'Waiter', { definitionBody: sfn.DefinitionBody.fromChainable(poll.next(answered)), timeout: Duration.hours(1) });
  onEvent.addEnvironment('WAITER_STATE_MACHINE_ARN', waiter.stateMachineArn);
  // A policy of its own, as in probe-provider.ts (in the role's default policy it would make a cycle).
  const startWaiter = new iam.Policy(stack, 'StartWaiter', {
    roles: [onEvent.role!],
    statements: [new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [waiter.stateMachineArn] })],
  });

  for (const [id, properties] of Object.entries(options.resources)) {
    const resource = new CustomResource(stack, id, { serviceToken: onEvent.functionArn, properties });
    resource.node.addDependency(startWaiter);
  }
}
