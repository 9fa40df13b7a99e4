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

/** The access key of the role that calls Proton: the IsComplete function's, the waiter's task. */
export function protonRoleKey(cfn: { handlerRoles(): Array<{ readonly accessKeyId: string; readonly functionLogicalIds: string[] }> }): string {
  const roles = cfn.handlerRoles().filter((role) => role.functionLogicalIds.some((id) => id.includes('IsComplete')));
  if (roles.length !== 1) {
    throw new Error(`expected one role for the IsComplete function, found ${roles.length}`);
  }
  return roles[0].accessKeyId;
}
