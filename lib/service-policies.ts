import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** IAM counts a managed policy's characters, whitespace excluded. */
const MAX_POLICY_CHARS = 6_144;
/** IAM's default quota of managed policies attached to one role. */
const MAX_POLICIES_PER_ROLE = 10;

const ACTIONS = ['proton:CancelServicePipelineDeployment', 'proton:GetService'];

/** Characters of a policy with an empty resource list. */
const EMPTY_POLICY_CHARS = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ACTIONS, Resource: [] }],
}).length;

/** The longest value a token in a service ARN can resolve to (today's partitions and regions). */
const LONGEST = { partition: 'aws-us-gov'.length, region: 'us-isof-south-1'.length, account: 12, serviceName: 100 };

/**
 * The Proton permissions of the handler role: one ARN per service, packed into
 * as few managed policies as IAM's size limit allows.
 *
 * Internal to the provider.
 */
export class ServicePolicies extends Construct {
  private readonly serviceNames = new Set<string>();
  private statement?: iam.PolicyStatement;
  private policyChars = 0;
  private policyCount = 0;

  constructor(scope: Construct, id: string, private readonly role: iam.IRole) {
    super(scope, id);
    this.node.addValidation({ validate: () => this.validate() });
  }

  /** Allows the pipeline cancel and read on one service; once per name. */
  public addService(serviceName: string): void {
    if (!Token.isUnresolved(serviceName) && this.serviceNames.has(serviceName)) {
      return;
    }
    this.serviceNames.add(serviceName);

    const arn = Stack.of(this).formatArn({ service: 'proton', resource: 'service', resourceName: serviceName });
    const chars = longestArnChars(Stack.of(this), serviceName) + ',""'.length;
    if (!this.statement || this.policyChars + chars > MAX_POLICY_CHARS) {
      this.statement = this.newPolicy();
    }
    this.statement.addResources(arn);
    this.policyChars += chars;
  }

  private newPolicy(): iam.PolicyStatement {
    const statement = new iam.PolicyStatement({ actions: ACTIONS, resources: [] });
    this.policyCount += 1;
    new iam.ManagedPolicy(this, `Policy${this.policyCount}`, {
      description: 'Cancel and read the pipeline deployments of the Proton services named in this stack',
      roles: [this.role],
      statements: [statement],
    });
    this.policyChars = EMPTY_POLICY_CHARS;
    return statement;
  }

  private validate(): string[] {
    if (this.policyCount <= MAX_POLICIES_PER_ROLE) {
      return [];
    }
    return [`The ${this.serviceNames.size} Proton services of this provider need ${this.policyCount} managed policies, more than the ${MAX_POLICIES_PER_ROLE} IAM attaches to one role by default: create a second CancelPipelineDeploymentProvider and pass it as the provider of some instances.`];
  }
}

/** The ARN's length once CloudFormation resolves it, assuming the longest values for tokens. */
function longestArnChars(stack: Stack, serviceName: string): number {
  const length = (value: string, longest: number) => Token.isUnresolved(value) ? longest : value.length;
  return 'arn:'.length + length(stack.partition, LONGEST.partition)
    + ':proton:'.length + length(stack.region, LONGEST.region)
    + ':'.length + length(stack.account, LONGEST.account)
    + ':service/'.length + length(serviceName, LONGEST.serviceName);
}
