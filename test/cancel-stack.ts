/** Test stacks: a `CancelPipelineDeployment` with its attributes as stack outputs. */
import { CfnOutput, Stack } from 'aws-cdk-lib';
import { CancelPipelineDeployment, CancelPipelineDeploymentProps } from '../lib';

/** A stack with one `CancelPipelineDeployment` whose every attribute is a stack output. */
export function cancelStack(scope: Stack, props: CancelPipelineDeploymentProps, id = 'Cancel'): CancelPipelineDeployment {
  const cancel = new CancelPipelineDeployment(scope, id, props);
  new CfnOutput(scope, `${id}DeploymentStatus`, { value: cancel.deploymentStatus });
  new CfnOutput(scope, `${id}DeploymentStatusMessage`, { value: cancel.deploymentStatusMessage });
  new CfnOutput(scope, `${id}PipelineArn`, { value: cancel.pipelineArn });
  new CfnOutput(scope, `${id}CancellationRequested`, { value: cancel.cancellationRequested });
  new CfnOutput(scope, `${id}LastDeploymentAttemptedAt`, { value: cancel.lastDeploymentAttemptedAt });
  return cancel;
}
