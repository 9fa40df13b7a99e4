import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * A value as cdk-nag names it in a finding: intrinsics flattened, a `Ref` or
 * `Fn::GetAtt` as `<Name>` or `<Name.Attribute>`, `${X}` of a `Fn::Sub` as `<X>`.
 */
export function flattenForNag(stack: Stack, value: string): string {
  const visit = (node: unknown): string => {
    if (typeof node === 'string') {
      return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    }
    const intrinsic = node as Record<string, unknown>;
    if (intrinsic['Fn::Join']) {
      const [delimiter, items] = intrinsic['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(delimiter);
    }
    if (intrinsic['Fn::Sub']) {
      return visit(intrinsic['Fn::Sub']);
    }
    if (intrinsic['Fn::GetAtt']) {
      const [name, attribute] = intrinsic['Fn::GetAtt'] as [string, string];
      return `<${name}.${attribute}>`;
    }
    if (intrinsic.Ref) {
      return `<${intrinsic.Ref}>`;
    }
    return JSON.stringify(node);
  };
  return visit(stack.resolve(value));
}

/**
 * Acknowledges the AwsSolutions (cdk-nag) findings that remain, each on its own
 * resource, so that users running the rule pack see only their own findings.
 */
export function acknowledgeNagFindings(parts: {
  isComplete: lambda.Function;
  /** The construct of the waiter state machine, and its role. */
  waiter: Construct;
  waiterRole: iam.Role;
  /** Every role writing to the log group. */
  roles: iam.Role[];
  logGroup: logs.ILogGroup;
  /** Where the functions keep the response URLs of requests in flight. */
  parameterPrefix: string;
}): void {
  const fnId = Stack.of(parts.isComplete).getLogicalId(parts.isComplete.node.defaultChild as CfnResource);
  Validations.of(parts.waiterRole).acknowledge({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
    reason: 'lambda:InvokeFunction on the IsComplete function\'s ARN and its versions (ARN:*), as Function.grantInvoke grants it: one function, no other',
  });
  Validations.of(parts.waiter).acknowledge({
    id: 'AwsSolutions::AwsSolutions-SF1',
    reason: 'Logging the waiter would give its role logs:* on "*" (CloudWatch Logs delivery); each of its steps is an invocation of the IsComplete function, whose JSON log records the poll',
  });
  Validations.of(parts.waiter).acknowledge({
    id: 'AwsSolutions::AwsSolutions-SF2',
    reason: 'X-Ray tracing would give the waiter\'s role xray:* on "*"; the waiter is one Lambda task in a loop, whose JSON log records each poll',
  });

  const parameters = flattenForNag(Stack.of(parts.waiter), Stack.of(parts.waiter).formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${parts.parameterPrefix.slice(1)}/*` }));
  for (const role of parts.roles) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${parameters}]`,
      reason: 'The response URLs of requests in flight, one Parameter Store parameter per request named by its request id: this provider\'s parameters, no other',
    });
  }

  // An imported log group's ARN ends in ':*' (its log streams), where a new one's is a GetAtt.
  const logGroupArn = flattenForNag(Stack.of(parts.waiter), parts.logGroup.logGroupArn);
  if (logGroupArn.includes('*')) {
    for (const role of parts.roles) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::${logGroupArn}]`,
        reason: 'Writing log events to the provider\'s log group: its ARN with :* names the group\'s log streams, as ILogGroup.grantWrite grants it: one log group, no other',
      });
    }
  }
}
