import { execFileSync } from 'child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

test('the integration test app synthesizes its stack and its assertions', () => {
  // GIVEN
  const outdir = mkdtempSync(join(tmpdir(), 'integ-'));

  // WHEN: run as the CDK CLI would run it
  execFileSync(join(__dirname, '..', 'node_modules', '.bin', 'tsx'), [join(__dirname, 'integ.cancel-pipeline-deployment.ts')], {
    env: { ...process.env, CDK_OUTDIR: outdir }, stdio: 'pipe',
  });

  // THEN
  const templates = readdirSync(outdir).filter(file => file.endsWith('.template.json'));
  const stack = JSON.parse(readFileSync(join(outdir, 'CancelPipelineDeploymentInteg.template.json'), 'utf8'));
  const assertions = templates.map(file => readFileSync(join(outdir, file), 'utf8')).join('');
  expect(Object.values(stack.Resources).filter(r => (r as { Type: string }).Type === 'Custom::ProtonCancelPipelineDeployment')).toHaveLength(1);
  expect(templates.length).toBe(2);
  expect(assertions).toContain('DeploymentStatus');
  expect(assertions).toContain('Custom::DeployAssert@AssertEquals');
});
