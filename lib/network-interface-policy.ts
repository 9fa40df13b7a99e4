import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { flattenForNag } from './nag-acknowledgements';

/**
 * What a Lambda function in a VPC needs of EC2, in place of the AWS managed
 * `AWSLambdaVPCAccessExecutionRole` (which also allows `logs:*` writes on
 * `*`): creating network interfaces only in the selected subnets and with the
 * functions' security groups, and managing network interfaces of the account
 * and region. Lambda uses it when it creates the functions, so it is attached
 * to each role as a managed policy: the role, and so the function, waits for it.
 *
 * Internal to the provider.
 */
export class NetworkInterfacePolicy extends Construct {
  private readonly policy: iam.ManagedPolicy;
  private readonly create: iam.PolicyStatement;

  /**
   * @param vpc the VPC of the functions
   * @param vpcSubnets the functions' subnets, as Lambda selects them
   */
  constructor(scope: Construct, id: string, vpc: ec2.IVpc, vpcSubnets?: ec2.SubnetSelection) {
    super(scope, id);
    const stack = Stack.of(this);
    const arn = (resource: string, resourceName: string) => stack.formatArn({ service: 'ec2', resource, resourceName });
    const anyNetworkInterface = arn('network-interface', '*');

    this.create = new iam.PolicyStatement({
      actions: ['ec2:CreateNetworkInterface'],
      resources: [anyNetworkInterface, ...vpc.selectSubnets(vpcSubnets).subnetIds.map(subnetId => arn('subnet', subnetId))],
    });
    const manage = new iam.PolicyStatement({
      actions: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      resources: [anyNetworkInterface],
    });
    const describe = new iam.PolicyStatement({
      actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
      resources: ['*'],
    });
    this.policy = new iam.ManagedPolicy(this, 'Resource', {
      description: 'Lets the Lambda functions of the Proton cancel provider use network interfaces in their subnets',
      statements: [this.create, manage, describe],
    });

    Validations.of(this.policy).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${flattenForNag(stack, anyNetworkInterface)}]`,
      reason: 'Lambda creates and deletes the functions\' network interfaces, whose ids are not known before; creating one is limited to the functions\' subnets and security groups',
    });
    Validations.of(this.policy).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets support no resource-level permissions; Lambda needs them for the functions\' network interfaces',
    });
  }

  /** Attaches the policy to a role, in the role itself: a function of the role waits for it. */
  public attachTo(role: iam.IRole): void {
    role.addManagedPolicy(this.policy);
  }

  /** Allows creating network interfaces with the security groups of these functions. */
  public allowSecurityGroupsOf(functions: lambda.Function[]): void {
    const stack = Stack.of(this);
    const ids = new Set(functions.flatMap(fn => fn.connections.securityGroups.map(group => group.securityGroupId)));
    this.create.addResources(...[...ids].map(id => stack.formatArn({ service: 'ec2', resource: 'security-group', resourceName: id })));
  }
}
