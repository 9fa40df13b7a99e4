import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { StackAssembly, synthesize } from '../local/cloudformation';
import { cancelStack } from './cancel-stack';

// The handler runs on AWS Lambda's Node.js runtime, not on the Node.js that runs
// jest: one Create through the local lifecycle, in a child process on the
// Node.js major of the synthesized functions' runtime, fetched with
// `npx -p node@<major>` from the npm registry.

const ROOT = path.join(__dirname, '..');
const SERVICE = 'web-api';
/** Set to skip the run on a machine that cannot reach the npm registry. */
const OPT_OUT = 'SKIP_LAMBDA_NODE_RUN';

const assemblyDir = synthesize((app) => cancelStack(new Stack(app, 'Runtime'), { serviceName: SERVICE }));
/** The child's temp directory, where tsx keeps its cache. */
const childTmp = fs.mkdtempSync(path.join(os.tmpdir(), 'node-runtime-'));
afterAll(() => [assemblyDir, childTmp].forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** The Node.js major of the handler functions' runtime, from the template (nodejs24.x: 24). */
function runtimeMajor(): string {
  const stack = StackAssembly.load(assemblyDir, { partition: 'aws', region: 'us-east-1', account: '123456789012' }, 'Runtime');
  const handlers = stack.resourcesOfType('AWS::Lambda::Function').filter(([, r]) => String(r.Properties?.Handler).startsWith('index.'));
  const runtimes = [...new Set(handlers.map(([, r]) => String(r.Properties?.Runtime)))];
  const major = runtimes.length === 1 ? /^nodejs(\d+)\.x$/.exec(runtimes[0])?.[1] : undefined;
  if (!major) {
    throw new Error(`expected one nodejs<major>.x runtime for the handler functions, got ${runtimes.join(', ')}`);
  }
  return major;
}

/** That Node.js binary, fetched with npx; fails with npx's reason when it cannot be had. */
function nodeBinary(major: string): string {
  const found = spawnSync('npx', ['-y', '-p', `node@${major}`, 'node', '-p', 'process.execPath'], { encoding: 'utf8', timeout: 180_000 });
  const binary = found.stdout?.trim().split('\n').pop();
  if (found.status !== 0 || !binary) {
    const reason = (found.stderr || String(found.error ?? `exit ${found.status}`)).trim().slice(0, 500);
    throw new Error(`'npx -p node@${major}' could not get the Node.js ${major} binary (set ${OPT_OUT}=1 to skip this test offline): ${reason}`);
  }
  return binary;
}

const major = runtimeMajor();

// Runs unless explicitly skipped: a missing binary fails, it does not pass quietly.
(process.env[OPT_OUT] ? test.skip : test)(`the bundled handler cancels under Node.js ${major}, its Lambda runtime's major`, () => {
  const node = nodeBinary(major);

  // WHEN one Create runs in a child process on that binary
  const child = spawnSync(node, [
    path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
    path.join(__dirname, '..', 'local', 'cloudformation', 'run-create.ts'),
    assemblyDir,
    'Runtime',
  ], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '', TMPDIR: childTmp } });
  expect(child.status).toBe(0);
  // Nothing on stderr: no warning from the handler's code on that runtime.
  expect(child.stderr.split('\n').filter((line) => line.trim() !== '')).toEqual([]);

  // THEN it ran there, and CloudFormation got the cancel's outcome
  const outcome = JSON.parse(child.stdout.trim().split('\n').pop()!);
  expect(outcome.node.split('.')[0]).toBe(major);
  expect(outcome.stackStatus).toBe('CREATE_COMPLETE');
  expect(outcome.responses).toEqual([expect.objectContaining({
    Status: 'SUCCESS',
    PhysicalResourceId: SERVICE,
    Data: expect.objectContaining({ DeploymentStatus: 'CANCELLED', CancellationRequested: 'true' }),
  })]);
  expect(outcome.protonCalls.slice(0, 2)).toEqual([
    { operation: 'GetService', status: 200 },
    { operation: 'CancelServicePipelineDeployment', status: 200 },
  ]);
}, 240_000);
