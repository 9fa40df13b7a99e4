import { CfnResource, Fn, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IDependable } from 'constructs';

/** IAM's limits, in characters without whitespace. */
const IAM = {
  /** All inline policies of one role together. */
  inlineCharsPerRole: 10_240,
  managedPolicyChars: 6_144,
  /** The default quota of managed policies attached to one role. */
  managedPoliciesPerRole: 10,
};

/**
 * Room kept for the role's two other inline policies: its default policy (log
 * writing on a log group ARN of up to ~600 characters, and DescribeStacks on
 * the stack's id) and the policy that lets onEvent start the waiter
 * (StartExecution on the state machine's ARN).
 */
const INLINE_RESERVED_CHARS = 2_000;

/** CloudFormation's resources per stack, and the context key CDK reads to change it. */
const CLOUDFORMATION_RESOURCES_PER_STACK = 500;
const STACK_RESOURCE_LIMIT_CONTEXT = '@aws-cdk/core:stackResourceLimit';

const ACTIONS = ['proton:CancelServicePipelineDeployment', 'proton:GetService'];

/** Characters of a policy holding only the Proton statement, with no resource. */
const EMPTY_POLICY_CHARS = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ACTIONS, Resource: [] }] }).length;

/** The longest value each part of a service ARN can resolve to (today's partitions and regions). */
const LONGEST = { partition: 'aws-us-gov'.length, region: 'us-isof-south-1'.length, account: 12, serviceName: 100 };

/**
 * The Proton permissions of the handler role: one ARN per service. The first
 * ARNs go into an inline policy, using the room IAM gives a role's inline
 * policies; the rest into as few managed policies as IAM's size limit allows.
 *
 * The inline policy is not the role's default policy: CDK splits that one by
 * its own estimate (150 characters for any ARN with a token), which would move
 * these ARNs into more policies than their real size needs.
 *
 * Internal to the provider.
 */
export class ServicePolicies extends Construct {
  /** Each service, and the managed policy that holds its ARN (none: the inline policy). */
  private readonly policyOf = new Map<string, iam.ManagedPolicy | undefined>();
  private statement: iam.PolicyStatement;
  private managedPolicy?: iam.ManagedPolicy;
  private roomChars = 0;
  private managedPolicies = 0;
  private readonly waitingForInline: Construct[] = [];

  /**
   * @param role the handler role
   * @param otherManagedPolicies managed policies the role has besides these
   */
  constructor(scope: Construct, id: string, private readonly role: iam.IRole, private readonly otherManagedPolicies: number) {
    super(scope, id);
    this.statement = new iam.PolicyStatement({ actions: ACTIONS, resources: [] });
    this.roomChars = IAM.inlineCharsPerRole - INLINE_RESERVED_CHARS - EMPTY_POLICY_CHARS;
    this.node.addValidation({ validate: () => this.validate() });
  }

  /**
   * Makes resources wait for the inline policy once it allows a service: the
   * handler functions, so that no request reaches them before it exists.
   */
  public precede(...resources: Construct[]): void {
    this.waitingForInline.push(...resources);
  }

  /**
   * Allows the pipeline cancel and read on one service; once per name.
   *
   * @returns the managed policy that holds the service's ARN, which its
   * resource must wait for; none when the ARN is in the inline policy, which
   * the handler functions wait for
   */
  public addService(serviceName: string): IDependable | undefined {
    // A token appears twice only as the same value: one ARN serves both.
    if (this.policyOf.has(serviceName)) {
      return this.policyOf.get(serviceName);
    }

    const chars = longestArnChars(Stack.of(this), serviceName) + ',""'.length;
    if (this.policyOf.size === 0) {
      // Only with a first service: a provider serving none has no inline policy.
      const inlinePolicy = new iam.Policy(this, 'Inline', { roles: [this.role], statements: [this.statement] });
      for (const resource of this.waitingForInline) {
        resource.node.addDependency(inlinePolicy);
      }
    }
    if (chars > this.roomChars) {
      this.statement = this.newManagedPolicy();
    }
    this.statement.addResources(serviceArn(Stack.of(this), serviceName));
    this.roomChars -= chars;
    this.policyOf.set(serviceName, this.managedPolicy);
    return this.managedPolicy;
  }

  private newManagedPolicy(): iam.PolicyStatement {
    const statement = new iam.PolicyStatement({ actions: ACTIONS, resources: [] });
    this.managedPolicies += 1;
    this.managedPolicy = new iam.ManagedPolicy(this, `Policy${this.managedPolicies}`, {
      description: 'Cancel and read the pipeline deployments of the Proton services named in this stack',
      roles: [this.role],
      statements: [statement],
    });
    this.roomChars = IAM.managedPolicyChars - EMPTY_POLICY_CHARS;
    return statement;
  }

  private validate(): string[] {
    const limit = IAM.managedPoliciesPerRole - this.otherManagedPolicies;
    if (this.managedPolicies <= limit) {
      return [];
    }
    const stack = Stack.of(this);
    const need = `The ${this.policyOf.size} Proton services of this provider need ${this.managedPolicies} managed policies, more than the ${limit} IAM still attaches to its role by default`;
    // A second provider brings what this one has, but its own managed policies.
    const stackResources = resourcesIn(stack);
    const secondProvider = resourcesIn(this.node.scope!) - this.managedPolicies;
    if (stackResources + secondProvider > stackResourceLimit(stack)) {
      return [`${need}, and stack '${stack.stackName}' cannot hold a second provider besides its ${stackResources} resources (CloudFormation allows ${stackResourceLimit(stack)}): split the services across stacks.`];
    }
    return [`${need}: create a second CancelPipelineDeploymentProvider and pass it as the provider of some instances.`];
  }
}

/** The CloudFormation resources under a construct, in its stack (not in nested stacks). */
function resourcesIn(scope: Construct): number {
  const stack = Stack.of(scope);
  return scope.node.findAll().filter(c => CfnResource.isCfnResource(c) && Stack.of(c) === stack).length;
}

/** The most resources one stack may hold, as CDK checks it: CloudFormation's 500 unless the context sets another (0: no limit). */
function stackResourceLimit(stack: Stack): number {
  const context = stack.node.tryGetContext(STACK_RESOURCE_LIMIT_CONTEXT);
  const limit = context === undefined ? CLOUDFORMATION_RESOURCES_PER_STACK : parseInt(context, 10);
  return limit > 0 ? limit : Infinity;
}

/**
 * `arn:<partition>:proton:<region>:<account>:service/<name>`, as a `Fn::Sub`
 * when the stack's environment is unresolved: a third of the template bytes
 * of the `Fn::Join` that `Stack.formatArn` renders, which counts at 400 services.
 */
function serviceArn(stack: Stack, serviceName: string): string {
  if (Token.isUnresolved(serviceName)) {
    return stack.formatArn({ service: 'proton', resource: 'service', resourceName: serviceName });
  }
  const part = (value: string, pseudoParameter: string) => Token.isUnresolved(value) ? `\${${pseudoParameter}}` : value;
  const arn = `arn:${part(stack.partition, 'AWS::Partition')}:proton:${part(stack.region, 'AWS::Region')}:${part(stack.account, 'AWS::AccountId')}:service/${serviceName}`;
  return arn.includes('${') ? Fn.sub(arn) : arn;
}

/** The ARN's length once CloudFormation resolves it, assuming the longest values for tokens. */
function longestArnChars(stack: Stack, serviceName: string): number {
  const length = (value: string, longest: number) => Token.isUnresolved(value) ? longest : value.length;
  return 'arn:'.length + length(stack.partition, LONGEST.partition)
    + ':proton:'.length + length(stack.region, LONGEST.region)
    + ':'.length + length(stack.account, LONGEST.account)
    + ':service/'.length + length(serviceName, LONGEST.serviceName);
}
