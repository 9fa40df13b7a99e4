/**
 * Least privilege per function: the AWS API calls each entry point can make,
 * derived from its own bundle (esbuild keeps only the SDK commands its code
 * reaches), are exactly what its role allows, besides writing its logs.
 */
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { CancelPipelineDeployment } from '../lib';

/** IAM's prefix of each SDK client's service. */
const IAM_PREFIX: Record<string, string> = { sfn: 'states', ssm: 'ssm', proton: 'proton', cloudformation: 'cloudformation' };

/** The API calls an entry point of `lambda/index.ts` can make, as IAM actions, from a bundle of that entry alone. */
async function callsOf(entry: string): Promise<string[]> {
  const root = path.join(__dirname, '..');
  const result = await build({
    stdin: { contents: `export { ${entry} } from './lambda/index';`, resolveDir: root, loader: 'ts' },
    bundle: true, platform: 'node', target: 'node24', format: 'esm', mainFields: ['module', 'main'],
    alias: { '@aws-sdk/credential-provider-node': path.join(root, 'lambda', 'credentials.ts') },
    write: false, metafile: true, logLevel: 'error',
  });
  const [output] = Object.values(result.metafile.outputs);
  const commands = Object.entries(output.inputs)
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([file]) => /@aws-sdk\/client-([a-z0-9-]+)\/dist-es\/commands\/(\w+)Command\.js$/.exec(file))
    .filter((match): match is RegExpExecArray => match !== null);
  return commands.map(([, client, operation]) => `${IAM_PREFIX[client] ?? `unmapped-${client}`}:${operation}`).sort();
}

/** Every action the role of the function with this handler may take, from every policy attached to it. */
function actionsOf(template: Template, handler: string): string[] {
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Handler: handler } }));
  const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
  const policies = Object.values(template.findResources('AWS::IAM::Policy'))
    .filter(policy => (policy.Properties.Roles as Array<{ Ref: string }>).some(role => role.Ref === roleId));
  const role = template.toJSON().Resources[roleId];
  expect(role.Properties.ManagedPolicyArns ?? []).toEqual([]);
  const actions = policies.flatMap(policy => (policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>)
    .flatMap(statement => [statement.Action].flat()));
  return [...new Set(actions)].sort();
}

describe('each function\'s role allows the calls its code makes, and nothing else', () => {
  const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'us-east-1' } });
  new CancelPipelineDeployment(stack, 'Cancel', { serviceName: 'orders' });
  const template = Template.fromStack(stack);
  /** Lambda writes each function's logs with the function's role. */
  const logWriting = ['logs:CreateLogStream', 'logs:PutLogEvents'];

  test.each([
    ['onEvent', ['ssm:DeleteParameter', 'ssm:PutParameter', 'states:StartExecution']],
    ['isComplete', ['cloudformation:DescribeStacks', 'proton:CancelServicePipelineDeployment', 'proton:GetService', 'ssm:DeleteParameter', 'ssm:GetParameter']],
  ])('%s', async (entry, expected) => {
    // GIVEN the calls its bundle can make
    const calls = await callsOf(entry);
    expect(calls).toEqual(expected);

    // THEN its role allows exactly those, and log writing
    expect(actionsOf(template, `index.${entry}`)).toEqual([...calls, ...logWriting].sort());
  });

  test('the derivation sees a call the code makes: the whole handler makes every call of both', async () => {
    const [onEvent, isComplete, both] = await Promise.all([callsOf('onEvent'), callsOf('isComplete'), callsOf('onEvent, isComplete')]);
    expect(both).toEqual([...new Set([...onEvent, ...isComplete])].sort());
    expect(onEvent).not.toContain('proton:GetService');
  });
});
