/**
 * The example app that `cdk.json` runs: one stack that cancels the in-progress
 * pipeline deployment of a Proton service and outputs what it reports.
 *
 *   npx cdk synth
 *
 * Set PROTON_SERVICE_NAME to name your own service.
 */
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import { CancelPipelineDeployment } from '../lib';

const app = new App();
const stack = new Stack(app, 'CancelPipelineDeploymentExample');

const cancel = new CancelPipelineDeployment(stack, 'CancelPipeline', {
  serviceName: process.env.PROTON_SERVICE_NAME ?? 'my-service',
});

new CfnOutput(stack, 'DeploymentStatus', { value: cancel.deploymentStatus });
new CfnOutput(stack, 'PipelineArn', { value: cancel.pipelineArn });
new CfnOutput(stack, 'CancellationRequested', { value: cancel.cancellationRequested });

app.synth();
