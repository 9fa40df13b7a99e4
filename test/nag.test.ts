import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { CancelPipelineDeployment } from '../lib';

function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node.findAll().flatMap(construct => construct.node.metadata
    .filter(entry => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap(entry => Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ path: construct.node.path, id, reason }))));
}

test('a stack with the construct passes the AwsSolutions rule pack', () => {
  // GIVEN
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'nag-')) });
  const stack = new Stack(app, 'NagStack', { env: { account: '123456789012', region: 'us-east-1' } });
  new CancelPipelineDeployment(stack, 'A', { serviceName: 'service-a' });
  new CancelPipelineDeployment(stack, 'B', { serviceName: 'service-b' });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  // WHEN / THEN: synth throws on any finding not acknowledged
  expect(() => app.synth()).not.toThrow();
});

test('each acknowledged finding is on a resource of the provider, with a reason, never stack-wide', () => {
  const stack = new Stack(new App(), 'NagStack');
  new CancelPipelineDeployment(stack, 'A', { serviceName: 'service-a' });

  const acks = acknowledgements(stack);

  expect(acks.map(a => `${a.path.replace('NagStack/CancelPipelineDeploymentProvider/', '')} ${a.id.replace(/<CancelPipelineDeploymentProvider(\w+?)[0-9A-F]{8}\.Arn>/, '<$1>')}`).sort()).toEqual([
    'FrameworkCompleteRole AwsSolutions::AwsSolutions-IAM5[Resource::<IsComplete>:*]',
    'FrameworkCompleteRole AwsSolutions::AwsSolutions-IAM5[Resource::<OnEvent>:*]',
    'FrameworkOnEventRole AwsSolutions::AwsSolutions-IAM5[Resource::<IsComplete>:*]',
    'FrameworkOnEventRole AwsSolutions::AwsSolutions-IAM5[Resource::<OnEvent>:*]',
    'Provider/waiter-state-machine AwsSolutions::AwsSolutions-SF1',
    'Provider/waiter-state-machine AwsSolutions::AwsSolutions-SF2',
    'Provider/waiter-state-machine/Role AwsSolutions::AwsSolutions-IAM5[Resource::<frameworkisComplete>:*]',
    'Provider/waiter-state-machine/Role AwsSolutions::AwsSolutions-IAM5[Resource::<frameworkonTimeout>:*]',
  ]);
  for (const ack of acks) {
    expect(ack.reason.length).toBeGreaterThan(40);
  }
});
