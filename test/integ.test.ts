import { execFileSync } from 'child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

let outdir: string | undefined;
afterAll(() => outdir && rmSync(outdir, { recursive: true, force: true }));

test('the integration test app synthesizes its stack and its assertions', () => {
  // GIVEN
  outdir = mkdtempSync(join(tmpdir(), 'integ-'));

  // WHEN: run as the CDK CLI would run it
  execFileSync(join(__dirname, '..', 'node_modules', '.bin', 'tsx'), [join(__dirname, 'integ.cancel-pipeline-deployment.ts')], {
    // tsx keeps its cache in the temp directory: the child's is the outdir, removed with it.
    env: { ...process.env, CDK_OUTDIR: outdir, TMPDIR: outdir }, stdio: 'pipe',
  });

  // THEN
  const templates = readdirSync(outdir).filter(file => file.endsWith('.template.json'));
  expect(templates).toHaveLength(2);
  const typesIn = (file: string) => Object.values(JSON.parse(readFileSync(join(outdir!, file), 'utf8')).Resources)
    .map(resource => (resource as { Type: string }).Type);
  expect(typesIn('CancelPipelineDeploymentInteg.template.json').filter(type => type === 'Custom::ProtonCancelPipelineDeployment')).toHaveLength(1);
  const assertionStack = templates.find(file => file.includes('DeployAssert'))!;
  expect(typesIn(assertionStack).filter(type => type === 'Custom::DeployAssert@AssertEquals')).toHaveLength(3);
});
