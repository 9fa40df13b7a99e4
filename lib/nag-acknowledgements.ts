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
  onEvent: lambda.Function;
  isComplete: lambda.Function;
  frameworkOnEventRole: iam.Role;
  frameworkCompleteAndTimeoutRole: iam.Role;
  waiter: Construct;
  /** Every role writing to the log group. */
  roles: iam.Role[];
  logGroup: logs.ILogGroup;
}): void {
  const invokeVersions = (fn: lambda.Function) =>
    `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(fn).getLogicalId(fn.node.defaultChild as CfnResource)}.Arn>:*]`;
  const versionsReason = 'lambda:InvokeFunction on the function\'s ARN and its versions (ARN:*), as Function.grantInvoke grants it: one function, no other';

  // The framework grants both of its roles the invoke of both handler functions.
  for (const role of [parts.frameworkOnEventRole, parts.frameworkCompleteAndTimeoutRole]) {
    for (const fn of [parts.onEvent, parts.isComplete]) {
      Validations.of(role).acknowledge({ id: invokeVersions(fn), reason: versionsReason });
    }
  }

  const waiterRole = parts.waiter.node.findChild('Role');
  for (const frameworkFunction of ['framework-isComplete', 'framework-onTimeout']) {
    const fn = parts.waiter.node.scope!.node.findChild(frameworkFunction) as lambda.Function;
    Validations.of(waiterRole).acknowledge({ id: invokeVersions(fn), reason: versionsReason });
  }
  Validations.of(parts.waiter).acknowledge({
    id: 'AwsSolutions::AwsSolutions-SF1',
    reason: 'Logging the waiter would give its role logs:* on "*" (CloudWatch Logs delivery); each of its steps is an invocation of the IsComplete function, whose JSON log records the poll',
  });
  Validations.of(parts.waiter).acknowledge({
    id: 'AwsSolutions::AwsSolutions-SF2',
    reason: 'The CDK provider framework does not expose X-Ray tracing for its waiter state machine; it runs one Lambda task in a retry loop',
  });

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
