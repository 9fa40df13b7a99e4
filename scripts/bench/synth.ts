/**
 * Section 1 and 2 inputs: one stack with N instances of either construct,
 * synthesized in a fresh App, timed, with its template as CloudFormation gets it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, AssetStaging, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { CancelPipelineDeployment } from '../../lib';

export type Variant = 'ours' | 'awsCustomResource';

/** Interleaving order of a run; alternated between runs by the caller. */
export const VARIANTS: readonly Variant[] = ['ours', 'awsCustomResource'];

export const LABEL: Record<Variant, string> = {
  ours: 'CancelPipelineDeployment',
  awsCustomResource: 'AwsCustomResource',
};

export const STACK_NAME = 'ProtonCancelBench';

/** A CloudFormation template, as parsed JSON. */
export interface Template {
  readonly Resources: Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> }>;
}

export interface SynthResult {
  /** Real ms to create the App, the stack and the N instances. */
  readonly constructMs: number;
  /** Real ms of `app.synth()`. */
  readonly synthMs: number;
  readonly template: Template;
  /** Bytes of the template file as synthesized (CDK writes it with one-space indentation). */
  readonly templateBytes: number;
}

/** Realistic service names: payments-api-001, payments-api-002, ... */
export function serviceName(index: number): string {
  return `payments-api-${String(index).padStart(3, '0')}`;
}

/**
 * Synthesizes one stack with `count` instances into a temporary directory.
 *
 * The App gets the feature flags `cdk init` writes into a new project's cdk.json.
 * `resourceLimit: false` turns off CDK's 500-resource checks (its stack check and
 * rule F0007 of its CloudFormation validation) so that a stack over the limit
 * can still be measured; the limit is then checked by the bench.
 */
export function synthStack(variant: Variant, count: number, options: { resourceLimit: boolean }): SynthResult {
  // A `cdk synth` process hashes every asset once; without this the cache of
  // earlier runs in this process would hide that cost.
  AssetStaging.clearAssetHashCache();
  const outdir = mkdtempSync(join(tmpdir(), 'proton-cancel-bench-'));
  try {
    const started = performance.now();
    const app = new App({
      outdir,
      context: {
        ...cxapi.CURRENTLY_RECOMMENDED_FLAGS,
        ...(options.resourceLimit ? {} : { '@aws-cdk/core:stackResourceLimit': 0 }),
      },
    });
    const stack = new Stack(app, STACK_NAME);
    if (!options.resourceLimit) {
      // The same check again, in the CloudFormation rules the recommended flags turn on.
      Validations.of(stack).acknowledge({ id: 'CloudFormation-Validate::F0007', reason: 'the bench checks the resource limit itself' });
    }
    for (let i = 1; i <= count; i++) {
      addInstance(stack, variant, `Cancel${i}`, serviceName(i));
    }
    const built = performance.now();
    const assembly = app.synth();
    const synthesized = performance.now();
    const text = readFileSync(join(assembly.directory, assembly.getStackByName(STACK_NAME).templateFile), 'utf8');
    return {
      constructMs: built - started,
      synthMs: synthesized - built,
      template: JSON.parse(text) as Template,
      templateBytes: Buffer.byteLength(text, 'utf8'),
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function addInstance(stack: Stack, variant: Variant, id: string, name: string): void {
  switch (variant) {
    case 'ours':
      new CancelPipelineDeployment(stack, id, { serviceName: name });
      return;
    case 'awsCustomResource': {
      // What a user writes without the library, with a least-privilege policy.
      const call: cr.AwsSdkCall = {
        service: 'Proton',
        action: 'cancelServicePipelineDeployment',
        parameters: { serviceName: name },
        physicalResourceId: cr.PhysicalResourceId.of(name),
      };
      new cr.AwsCustomResource(stack, id, {
        onCreate: call,
        onUpdate: call,
        policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({
          actions: ['proton:CancelServicePipelineDeployment'],
          resources: [stack.formatArn({ service: 'proton', resource: 'service', resourceName: name })],
        })]),
      });
      return;
    }
  }
}

/** The first line of an error, for the report. */
export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
