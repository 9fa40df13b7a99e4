/**
 * One stack of a synthesized cloud assembly, as CloudFormation sees it once
 * deployed: its template, the files behind each asset, and what the template's
 * intrinsic functions resolve to (physical names, ARNs, pseudo parameters).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** Where the stack is deployed. */
export interface DeployTarget {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

export interface Template {
  readonly Resources: Record<string, TemplateResource>;
  readonly Outputs?: Record<string, { readonly Value: unknown; readonly Description?: string }>;
  readonly Parameters?: Record<string, { readonly Default?: unknown }>;
}

/** Reads the value of a custom resource's attribute (its `Data`), for `Fn::GetAtt`. */
export type AttributeReader = (logicalId: string, attribute: string) => string | undefined;

interface ManifestArtifact {
  readonly type: string;
  readonly displayName?: string;
  readonly properties?: { readonly templateFile?: string; readonly stackName?: string; readonly file?: string };
  readonly dependencies?: readonly string[];
}

interface AssetManifest {
  readonly files?: Record<string, { readonly source: { readonly path: string; readonly packaging?: string } }>;
}

/** Value of `Ref: AWS::NoValue`: the property is removed. */
const NO_VALUE = Symbol('AWS::NoValue');

export class StackAssembly {
  /**
   * Loads a stack from a cloud assembly directory (`cdk.out`).
   *
   * @param stackName the stack's name; may be omitted when the assembly has one stack
   */
  static load(assemblyDir: string, target: DeployTarget, stackName?: string): StackAssembly {
    const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, ManifestArtifact> };
    const stacks = Object.entries(manifest.artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack');
    const named = stacks.filter(([id, a]) => stackName === undefined || (a.properties?.stackName ?? id) === stackName);
    if (named.length !== 1) {
      const names = stacks.map(([id, a]) => a.properties?.stackName ?? id).join(', ');
      throw new Error(`${stackName ? `no stack named '${stackName}'` : 'more than one stack'} in ${assemblyDir}; stacks: ${names || 'none'}`);
    }
    const [artifactId, artifact] = named[0];
    const template = JSON.parse(fs.readFileSync(path.join(assemblyDir, artifact.properties!.templateFile!), 'utf8')) as Template;
    const assetFiles: Record<string, string> = {};
    for (const dependency of artifact.dependencies ?? []) {
      const dep = manifest.artifacts[dependency];
      if (dep?.type === 'cdk:asset-manifest' && dep.properties?.file) {
        const assets = JSON.parse(fs.readFileSync(path.join(assemblyDir, dep.properties.file), 'utf8')) as AssetManifest;
        for (const [hash, file] of Object.entries(assets.files ?? {})) {
          assetFiles[hash] = path.resolve(assemblyDir, file.source.path);
        }
      }
    }
    return new StackAssembly(assemblyDir, artifact.properties?.stackName ?? artifactId, template, assetFiles, target);
  }

  readonly stackId: string;

  private constructor(
    readonly assemblyDir: string,
    readonly stackName: string,
    readonly template: Template,
    private readonly assetFiles: Readonly<Record<string, string>>,
    readonly target: DeployTarget,
  ) {
    const guid = hash(`stack-id:${stackName}`);
    const uuid = `${guid.slice(0, 8)}-${guid.slice(8, 12)}-${guid.slice(12, 16)}-${guid.slice(16, 20)}-${guid.slice(20, 32)}`;
    this.stackId = `arn:${target.partition}:cloudformation:${target.region}:${target.account}:stack/${stackName}/${uuid}`;
  }

  /** Logical ids and definitions of the resources of one type. */
  resourcesOfType(type: string): Array<[string, TemplateResource]> {
    return Object.entries(this.template.Resources).filter(([, r]) => r.Type === type);
  }

  resource(logicalId: string): TemplateResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) {
      throw new Error(`no resource '${logicalId}' in stack ${this.stackName}`);
    }
    return resource;
  }

  /** The directory holding a Lambda function's code asset (from the assets manifest). */
  codeDirectory(functionLogicalId: string): string {
    const code = this.resource(functionLogicalId).Properties?.Code as { S3Key?: unknown } | undefined;
    const key = typeof code?.S3Key === 'string' ? code.S3Key : undefined;
    const dir = key ? this.assetFiles[key.replace(/\.zip$/, '')] : undefined;
    if (!dir) {
      throw new Error(`function ${functionLogicalId}: code is not a file asset of the assembly (Code: ${JSON.stringify(code)})`);
    }
    return dir;
  }

  /**
   * The physical name CloudFormation gives a resource: its name property, or a
   * generated `<stack>-<logical id>-<suffix>` (stable for a stack and logical id).
   */
  physicalName(logicalId: string): string {
    const props = this.resource(logicalId).Properties ?? {};
    const nameProperty = { 'AWS::Lambda::Function': 'FunctionName', 'AWS::IAM::Role': 'RoleName', 'AWS::StepFunctions::StateMachine': 'StateMachineName', 'AWS::IAM::ManagedPolicy': 'ManagedPolicyName', 'AWS::Logs::LogGroup': 'LogGroupName' }[this.resource(logicalId).Type];
    const given = nameProperty ? props[nameProperty] : undefined;
    if (given !== undefined) {
      return String(this.resolve(given));
    }
    const suffix = hash(`name:${this.stackName}:${logicalId}`).slice(0, 12).toUpperCase();
    return `${`${this.stackName}-${logicalId}`.slice(0, 64 - suffix.length - 1)}-${suffix}`;
  }

  /** `Fn::GetAtt [logicalId, Arn]` of the resource types the provider uses. */
  arn(logicalId: string): string {
    const { partition, region, account } = this.target;
    const name = this.physicalName(logicalId);
    switch (this.resource(logicalId).Type) {
      case 'AWS::Lambda::Function': return `arn:${partition}:lambda:${region}:${account}:function:${name}`;
      case 'AWS::IAM::Role': return `arn:${partition}:iam::${account}:role/${name}`;
      case 'AWS::IAM::ManagedPolicy': return `arn:${partition}:iam::${account}:policy/${name}`;
      case 'AWS::StepFunctions::StateMachine': return `arn:${partition}:states:${region}:${account}:stateMachine:${name}`;
      case 'AWS::Logs::LogGroup': return `arn:${partition}:logs:${region}:${account}:log-group:${name}:*`;
      default: throw new Error(`Fn::GetAtt ${logicalId}.Arn: resource type ${this.resource(logicalId).Type} is not emulated`);
    }
  }

  /** `Ref logicalId`, for resources that are not custom resources. */
  ref(logicalId: string): string {
    const type = this.resource(logicalId).Type;
    return type === 'AWS::StepFunctions::StateMachine' || type === 'AWS::IAM::ManagedPolicy' ? this.arn(logicalId) : this.physicalName(logicalId);
  }

  /**
   * Resolves the intrinsic functions in a template value, as CloudFormation does
   * at deploy time. Custom resources resolve through `customResources`.
   */
  resolve(value: unknown, customResources?: { physicalId: (logicalId: string) => string | undefined; attribute: AttributeReader }): unknown {
    const resolved = this.resolveValue(value, customResources);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  private resolveValue(value: unknown, custom?: { physicalId: (logicalId: string) => string | undefined; attribute: AttributeReader }): unknown {
    const r = (v: unknown) => this.resolveValue(v, custom);
    if (Array.isArray(value)) {
      return value.map(r).filter((v) => v !== NO_VALUE);
    }
    if (value === null || typeof value !== 'object') {
      return value;
    }
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [fn, arg] = entries[0];
      switch (fn) {
        case 'Ref': return this.resolveRef(String(arg), custom);
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split(/\.(.*)/s);
          return this.getAtt(logicalId, attribute, custom);
        }
        case 'Fn::Join': {
          const [separator, list] = arg as [string, unknown[]];
          return (r(list) as unknown[]).map(String).join(separator);
        }
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg) ? arg as [string, Record<string, unknown>] : [arg as string, {}];
          const resolvedVars = r(vars) as Record<string, unknown>;
          return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
            if (name in resolvedVars) {
              return String(resolvedVars[name]);
            }
            const [logicalId, attribute] = name.split(/\.(.*)/s);
            return String(attribute ? this.getAtt(logicalId, attribute, custom) : this.resolveRef(logicalId, custom));
          });
        }
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          return (r(list) as unknown[])[Number(r(index))];
        }
        case 'Fn::Split': {
          const [separator, text] = arg as [string, unknown];
          return String(r(text)).split(separator);
        }
        default:
          if (fn.startsWith('Fn::')) {
            throw new Error(`intrinsic function ${fn} is not emulated`);
          }
      }
    }
    const out: Record<string, unknown> = {};
    for (const [key, v] of entries) {
      const resolved = r(v);
      if (resolved !== NO_VALUE) {
        out[key] = resolved;
      }
    }
    return out;
  }

  private resolveRef(name: string, custom?: { physicalId: (logicalId: string) => string | undefined }): unknown {
    const { partition, region, account } = this.target;
    switch (name) {
      case 'AWS::Partition': return partition;
      case 'AWS::Region': return region;
      case 'AWS::AccountId': return account;
      case 'AWS::StackId': return this.stackId;
      case 'AWS::StackName': return this.stackName;
      case 'AWS::URLSuffix': return 'amazonaws.com';
      case 'AWS::NoValue': return NO_VALUE;
    }
    if (this.template.Parameters?.[name]) {
      return this.template.Parameters[name].Default;
    }
    if (isCustomResource(this.resource(name).Type)) {
      const id = custom?.physicalId(name);
      if (id === undefined) {
        throw new Error(`Ref ${name}: the custom resource has no physical id yet`);
      }
      return id;
    }
    return this.ref(name);
  }

  private getAtt(logicalId: string, attribute: string, custom?: { attribute: AttributeReader }): unknown {
    if (isCustomResource(this.resource(logicalId).Type)) {
      const value = custom?.attribute(logicalId, attribute);
      if (value === undefined) {
        throw new Error(`Fn::GetAtt ${logicalId}.${attribute}: the custom resource returned no such attribute`);
      }
      return value;
    }
    if (attribute === 'Arn') {
      return this.arn(logicalId);
    }
    if (attribute === 'Name') {
      return this.physicalName(logicalId);
    }
    throw new Error(`Fn::GetAtt ${logicalId}.${attribute} is not emulated`);
  }
}

/** Whether CloudFormation sends this type's lifecycle to a ServiceToken. */
export function isCustomResource(type: string): boolean {
  return type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';
}

/**
 * The resources CloudFormation finishes before it starts `logicalId`: those it
 * references (Ref, Fn::GetAtt, Fn::Sub) or names in DependsOn, transitively.
 */
export function dependenciesOf(template: Template, logicalId: string): Set<string> {
  const found = new Set<string>();
  const visit = (id: string) => {
    const resource = template.Resources[id] as TemplateResource & { DependsOn?: string | string[] };
    const direct = new Set<string>([...([] as string[]).concat(resource.DependsOn ?? []), ...referencedResources(template, resource.Properties ?? {})]);
    for (const dependency of direct) {
      if (!found.has(dependency)) {
        found.add(dependency);
        visit(dependency);
      }
    }
  };
  visit(logicalId);
  return found;
}

function referencedResources(template: Template, value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    value.forEach((v) => referencedResources(template, v, out));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'Ref' && typeof v === 'string' && template.Resources[v]) {
        out.add(v);
      } else if (key === 'Fn::GetAtt') {
        out.add(Array.isArray(v) ? String(v[0]) : String(v).split('.')[0]);
      } else {
        if (key === 'Fn::Sub') {
          const text = Array.isArray(v) ? String(v[0]) : String(v);
          for (const [, name] of text.matchAll(/\$\{([^}.!]+)/g)) {
            if (template.Resources[name]) {
              out.add(name);
            }
          }
        }
        referencedResources(template, v, out);
      }
    }
  }
  return out;
}

/** Attributes of a custom resource that the template reads with `Fn::GetAtt`. */
export function attributesRead(template: Template, logicalId: string): string[] {
  const found = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        if (key === 'Fn::GetAtt') {
          const [id, attribute] = Array.isArray(v) ? v.map(String) : String(v).split(/\.(.*)/s);
          if (id === logicalId) {
            found.add(attribute);
          }
        }
        visit(v);
      }
    }
  };
  visit(template.Resources);
  visit(template.Outputs ?? {});
  return [...found].sort();
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
