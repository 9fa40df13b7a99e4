/**
 * CloudFormation and IAM limits, checked on a synthesized template.
 *
 * IAM counts a policy's characters once CloudFormation has resolved it, without
 * whitespace. The template only holds intrinsics (`Ref AWS::Region`, `Fn::GetAtt`),
 * so they are resolved here with the longest values a real deployment can give.
 */
import { Template } from './synth';

export const CLOUDFORMATION = {
  maxResources: 500,
  /** Template body in S3: 1 MB, taken as 1,000,000 bytes (the stricter reading). */
  maxTemplateBytes: 1_000_000,
};

export const IAM = {
  maxManagedPolicyChars: 6_144,
  /** Default quota of managed policies attached to one role (raisable to 20). */
  maxManagedPoliciesPerRole: 10,
  /** All inline policies of one role together. */
  maxInlineCharsPerRole: 10_240,
};

/** The longest values the pseudo parameters take in today's partitions and regions. */
export const LONGEST = {
  partition: 'aws-us-gov',
  region: 'us-isof-south-1',
  accountId: '123456789012',
  /** Stack names have at most 128 characters; generated physical names start with it. */
  stackName: 'S'.repeat(128),
};

/** Longest physical names CloudFormation generates, by resource type. */
const NAME_CHARS: Record<string, number> = {
  'AWS::Lambda::Function': 64,
  'AWS::StepFunctions::StateMachine': 80,
  'AWS::IAM::Role': 64,
};

export interface LimitCheck {
  readonly resources: number;
  readonly templateBytes: number;
  /** Largest customer managed policy, in IAM characters (0 when none). */
  readonly largestManagedPolicyChars: number;
  /** Most managed policies attached to one role. */
  readonly mostManagedPoliciesPerRole: number;
  /** Largest sum of inline policy characters of one role. */
  readonly largestInlineCharsPerRole: number;
  readonly fitsCloudFormation: boolean;
  readonly fitsIam: boolean;
}

export function checkLimits(template: Template, templateBytes: number): LimitCheck {
  const resources = template.Resources;
  const resolver = new LongestResolver(template);
  const managedChars: number[] = [];
  const managedPerRole = new Map<string, number>();
  const inlinePerRole = new Map<string, number>();
  const add = (map: Map<string, number>, role: string, value: number) => map.set(role, (map.get(role) ?? 0) + value);

  for (const [id, resource] of Object.entries(resources)) {
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::IAM::Role':
        managedPerRole.set(id, managedPerRole.get(id) ?? 0);
        inlinePerRole.set(id, inlinePerRole.get(id) ?? 0);
        add(managedPerRole, id, (props.ManagedPolicyArns as unknown[] | undefined)?.length ?? 0);
        for (const policy of (props.Policies as Array<{ PolicyDocument: unknown }> | undefined) ?? []) {
          add(inlinePerRole, id, resolver.chars(policy.PolicyDocument));
        }
        break;
      case 'AWS::IAM::ManagedPolicy': {
        managedChars.push(resolver.chars(props.PolicyDocument));
        for (const role of roleIds(props.Roles)) {
          add(managedPerRole, role, 1);
        }
        break;
      }
      case 'AWS::IAM::Policy': {
        const chars = resolver.chars(props.PolicyDocument);
        for (const role of roleIds(props.Roles)) {
          add(inlinePerRole, role, chars);
        }
        break;
      }
    }
  }

  const check = {
    resources: Object.keys(resources).length,
    templateBytes,
    largestManagedPolicyChars: Math.max(0, ...managedChars),
    mostManagedPoliciesPerRole: Math.max(0, ...managedPerRole.values()),
    largestInlineCharsPerRole: Math.max(0, ...inlinePerRole.values()),
  };
  return {
    ...check,
    fitsCloudFormation: check.resources <= CLOUDFORMATION.maxResources && check.templateBytes <= CLOUDFORMATION.maxTemplateBytes,
    fitsIam: check.largestManagedPolicyChars <= IAM.maxManagedPolicyChars
      && check.mostManagedPoliciesPerRole <= IAM.maxManagedPoliciesPerRole
      && check.largestInlineCharsPerRole <= IAM.maxInlineCharsPerRole,
  };
}

/** Logical ids of the roles in a policy's `Roles` (only `Ref`s to roles of this template). */
function roleIds(roles: unknown): string[] {
  return ((roles as unknown[] | undefined) ?? []).map((role) => {
    const ref = (role as { Ref?: unknown }).Ref;
    if (typeof ref !== 'string') {
      throw new Error(`policy attached to a role that is not a Ref: ${JSON.stringify(role)}`);
    }
    return ref;
  });
}

/** Resolves the intrinsics found in IAM policies to their longest realistic values. */
class LongestResolver {
  constructor(private readonly template: Template) {}

  /** Characters of the resolved document as IAM counts them: JSON without whitespace. */
  chars(document: unknown): number {
    return JSON.stringify(this.resolve(document)).length;
  }

  resolve(value: unknown): unknown {
    if (Array.isArray(value)) {
      return value.map((item) => this.resolve(item));
    }
    if (value === null || typeof value !== 'object') {
      return value;
    }
    const entries = Object.entries(value);
    if (entries.length === 1 && (entries[0][0] === 'Ref' || entries[0][0].startsWith('Fn::'))) {
      return this.intrinsic(entries[0][0], entries[0][1]);
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, this.resolve(item)]));
  }

  private intrinsic(name: string, args: unknown): string {
    switch (name) {
      case 'Ref':
        return this.ref(args as string);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = args as [string, string];
        if (attribute !== 'Arn') {
          throw new Error(`cannot size Fn::GetAtt ${logicalId}.${attribute}`);
        }
        return this.arn(logicalId);
      }
      case 'Fn::Join': {
        const [separator, parts] = args as [string, unknown[]];
        return parts.map((part) => this.resolve(part)).join(separator);
      }
      case 'Fn::Sub': {
        if (typeof args !== 'string') {
          throw new Error(`cannot size Fn::Sub with variables: ${JSON.stringify(args)}`);
        }
        return args.replace(/\$\{([^}]+)\}/g, (_, variable: string) =>
          variable.includes('.') ? this.intrinsic('Fn::GetAtt', variable.split('.')) : this.ref(variable));
      }
      default:
        throw new Error(`cannot size ${name}: ${JSON.stringify(args)}`);
    }
  }

  private ref(name: string): string {
    const { partition, region, accountId, stackName } = LONGEST;
    switch (name) {
      case 'AWS::Partition': return partition;
      case 'AWS::Region': return region;
      case 'AWS::AccountId': return accountId;
      case 'AWS::URLSuffix': return 'c2s.ic.gov';
      case 'AWS::StackName': return stackName;
      case 'AWS::StackId': return `arn:${partition}:cloudformation:${region}:${accountId}:stack/${stackName}/${'0'.repeat(36)}`;
    }
    const type = this.type(name);
    switch (type) {
      // Ref of a state machine is its ARN.
      case 'AWS::StepFunctions::StateMachine': return this.arn(name);
      case 'AWS::IAM::Role':
      case 'AWS::Lambda::Function': return 'N'.repeat(NAME_CHARS[type]);
      default: throw new Error(`cannot size Ref ${name} (${type})`);
    }
  }

  private arn(logicalId: string): string {
    const { partition, region, accountId, stackName } = LONGEST;
    const type = this.type(logicalId);
    const name = 'N'.repeat(NAME_CHARS[type] ?? 0);
    switch (type) {
      case 'AWS::Lambda::Function': return `arn:${partition}:lambda:${region}:${accountId}:function:${name}`;
      case 'AWS::StepFunctions::StateMachine': return `arn:${partition}:states:${region}:${accountId}:stateMachine:${name}`;
      case 'AWS::IAM::Role': return `arn:${partition}:iam::${accountId}:role/${name}`;
      // Generated log group names: stack name, logical id, 12 random characters.
      case 'AWS::Logs::LogGroup': return `arn:${partition}:logs:${region}:${accountId}:log-group:${stackName}-${logicalId}-${'R'.repeat(12)}:*`;
      default: throw new Error(`cannot size the ARN of ${logicalId} (${type})`);
    }
  }

  private type(logicalId: string): string {
    const resource = this.template.Resources[logicalId];
    if (!resource) {
      throw new Error(`Ref to ${logicalId}, which is not in the template`);
    }
    return resource.Type;
  }
}

/** Resolves any value of the template with the longest values (e.g. a state machine definition). */
export function resolveLongest(template: Template, value: unknown): unknown {
  return new LongestResolver(template).resolve(value);
}
