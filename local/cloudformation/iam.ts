/**
 * Emulated IAM: what the synthesized policies of a role allow, once their ARNs
 * are resolved for the deployment target. Identity-based policies only (the
 * role's inline policies, the `AWS::IAM::Policy` and customer managed policies
 * attached to it); AWS managed policies are not known here and count as
 * allowing nothing.
 */
import { createHash } from 'crypto';
import { StackAssembly } from './assembly';

export interface Statement {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

interface PolicyDocument {
  readonly Statement?: ReadonlyArray<Record<string, unknown>>;
}

/**
 * The identity-based policy statements of a role of the stack, resolved.
 *
 * @param inPlace which policy resources count (default: all of them)
 */
export function roleStatements(stack: StackAssembly, roleLogicalId: string, inPlace: (policyLogicalId: string) => boolean = () => true): Statement[] {
  const documents: unknown[] = [];
  const role = stack.resource(roleLogicalId);
  for (const policy of (role.Properties?.Policies as Array<{ PolicyDocument: unknown }> | undefined) ?? []) {
    documents.push(policy.PolicyDocument);
  }
  const attachedToRole = (roles: unknown) => Array.isArray(roles) && roles.some((r) => (r as { Ref?: string }).Ref === roleLogicalId);
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [id, policy] of stack.resourcesOfType(type)) {
      if (attachedToRole(policy.Properties?.Roles) && inPlace(id)) {
        documents.push(policy.Properties?.PolicyDocument);
      }
    }
  }
  for (const arn of (role.Properties?.ManagedPolicyArns as unknown[] | undefined) ?? []) {
    const ref = (arn as { Ref?: string }).Ref;
    if (ref && stack.template.Resources[ref]?.Type === 'AWS::IAM::ManagedPolicy' && inPlace(ref)) {
      documents.push(stack.template.Resources[ref].Properties?.PolicyDocument);
    }
  }
  return documents.flatMap((document) => statementsOf(stack.resolve(document) as PolicyDocument));
}

function statementsOf(document: PolicyDocument): Statement[] {
  return (document.Statement ?? []).map((s) => {
    for (const unsupported of ['NotAction', 'NotResource', 'Condition', 'Principal']) {
      if (unsupported in s) {
        throw new Error(`policy statement with ${unsupported} is not emulated: ${JSON.stringify(s)}`);
      }
    }
    const list = (v: unknown) => (Array.isArray(v) ? v : [v]).map(String);
    return { effect: s.Effect === 'Deny' ? 'Deny' : 'Allow', actions: list(s.Action), resources: list(s.Resource) };
  });
}

/** Whether the statements allow `action` on `resource` (an explicit Deny wins). */
export function isAllowed(statements: readonly Statement[], action: string, resource: string): boolean {
  const applies = (s: Statement) => s.actions.some((a) => matches(a, action, true)) && s.resources.some((r) => matches(r, resource, false));
  return !statements.some((s) => s.effect === 'Deny' && applies(s)) && statements.some((s) => s.effect === 'Allow' && applies(s));
}

/** The resource patterns that the statements allow `action` on. */
export function allowedResources(statements: readonly Statement[], action: string): string[] {
  return [...new Set(statements
    .filter((s) => s.effect === 'Allow' && s.actions.some((a) => matches(a, action, true)))
    .flatMap((s) => s.resources))];
}

/** IAM's wildcard match: `*` any run of characters, `?` one character. Actions ignore case. */
function matches(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern.split('').map((c) => c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')).join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

/**
 * The access key id that a role's temporary credentials carry in this
 * emulation: stable per role, so endpoints can tell callers apart.
 */
export function accessKeyIdOf(roleArn: string): string {
  return `ASIA${createHash('sha256').update(roleArn).digest('hex').slice(0, 16).toUpperCase()}`;
}
