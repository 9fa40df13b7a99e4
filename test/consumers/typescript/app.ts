/**
 * The consumer stack in TypeScript: the reference every other language's
 * consumer (python/, java/, go/) must synthesize alike. Same ids, same values.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { CancelPipelineDeployment, CancelPipelineDeploymentProvider } from '../../../lib';

export function consumerStack(app: App): Stack {
  const stack = new Stack(app, 'ConsumerStack', { env: { account: '123456789012', region: 'eu-west-1' } });

  new CancelPipelineDeployment(stack, 'Orders', { serviceName: 'orders' });

  const provider = new CancelPipelineDeploymentProvider(stack, 'PaymentsProvider', {
    pollInterval: Duration.seconds(30),
  });
  new CancelPipelineDeployment(stack, 'Payments', {
    serviceName: 'payments',
    timeout: Duration.minutes(20),
    trigger: 'v2',
    failUnlessCancelled: true,
    provider,
  });
  return stack;
}
