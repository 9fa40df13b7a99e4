/**
 * The targets of issue 4, each computed from the measurements.
 */
import { AssetSize, LoadTimes } from './handler-asset';
import { LifecycleResult } from './lifecycle';
import { CLOUDFORMATION, IAM } from './limits';
import { StackMeasure } from './stacks';
import { int, ratio } from './stats';
import { Variant } from './synth';

export interface BenchResults {
  readonly takenAt: Date;
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly cdkVersion: string;
  readonly counts: readonly number[];
  readonly synthRuns: number;
  readonly stacks: readonly StackMeasure[];
  /** Outcome of a plain synth (CDK's 500-resource check on) at the largest count. */
  readonly defaultSynth: Record<Variant, string>;
  readonly asset: AssetSize;
  readonly loadRuns: number;
  /** The bundled handler first, then the unbundled SDK subjects. */
  readonly loads: readonly LoadTimes[];
  readonly lifecycle: LifecycleResult;
  readonly durationSeconds: number;
}

export interface Target {
  readonly name: string;
  readonly measured: string;
  readonly ok: boolean;
}

/** Policies for services: one per this many instances. */
const INSTANCES_PER_POLICY = 80;
const MAX_TEMPLATE_RATIO_AT_100 = 0.5;
const MAX_SYNTH_RATIO = 1.2;
const MAX_ASSET_BYTES = 350_000;
const MAX_LOAD_RATIO = 0.8;
/**
 * Resources of a 1-instance stack before the response URL moved out of the
 * waiter's history (measured at 2e93a65), and how many more that change may add.
 */
const RESOURCES_BEFORE_AT_1 = 11;
const MAX_ADDED_RESOURCES = 2;

export function stack(results: BenchResults, variant: Variant, count: number): StackMeasure {
  const found = results.stacks.find((s) => s.variant === variant && s.count === count);
  if (!found) {
    throw new Error(`no measurement for ${variant} at ${count}`);
  }
  return found;
}

export function evaluateTargets(results: BenchResults): Target[] {
  const targets: Target[] = [];
  const counts = results.counts;
  const largest = counts[counts.length - 1];
  const base = stack(results, 'ours', counts[0]);

  targets.push({
    name: `${instances(counts[0])}: at most ${RESOURCES_BEFORE_AT_1 + MAX_ADDED_RESOURCES} resources (${RESOURCES_BEFORE_AT_1} before the response URL store, + ${MAX_ADDED_RESOURCES})`,
    measured: int(base.limits.resources),
    ok: base.limits.resources <= RESOURCES_BEFORE_AT_1 + MAX_ADDED_RESOURCES,
  });
  for (const count of counts.slice(1)) {
    const s = stack(results, 'ours', count);
    const addedOther = (s.limits.resources - s.customResources) - (base.limits.resources - base.customResources);
    const addedPolicies = s.iamPolicyResources - base.iamPolicyResources;
    const allowed = Math.ceil(count / INSTANCES_PER_POLICY) - Math.ceil(counts[0] / INSTANCES_PER_POLICY);
    targets.push({
      name: `${instances(count)}: one custom resource per instance, at most one IAM policy resource per ${INSTANCES_PER_POLICY}`,
      measured: `${s.customResources} custom resources; over the ${counts[0]}-instance stack: ${addedPolicies} IAM policy resource(s) added `
        + `(allowed ${allowed}), ${addedOther - addedPolicies} other resource(s)`,
      ok: s.customResources === count && addedOther === addedPolicies && addedPolicies <= allowed,
    });
  }

  if (counts.includes(100)) {
    const r = stack(results, 'ours', 100).templateBytes / stack(results, 'awsCustomResource', 100).templateBytes;
    targets.push({ name: `${instances(100)}: template at most ${MAX_TEMPLATE_RATIO_AT_100}x the AwsCustomResource one`, measured: ratio(r), ok: r <= MAX_TEMPLATE_RATIO_AT_100 });
  }

  const l = stack(results, 'ours', largest).limits;
  targets.push(
    { name: `${instances(largest)}: at most ${CLOUDFORMATION.maxResources} resources`, measured: int(l.resources), ok: l.resources <= CLOUDFORMATION.maxResources },
    { name: `${instances(largest)}: template at most ${int(CLOUDFORMATION.maxTemplateBytes)} bytes`, measured: int(l.templateBytes), ok: l.templateBytes <= CLOUDFORMATION.maxTemplateBytes },
    { name: `${instances(largest)}: each managed policy at most ${int(IAM.maxManagedPolicyChars)} IAM characters`, measured: int(l.largestManagedPolicyChars), ok: l.largestManagedPolicyChars <= IAM.maxManagedPolicyChars },
    { name: `${instances(largest)}: at most ${IAM.maxManagedPoliciesPerRole} managed policies per role`, measured: String(l.mostManagedPoliciesPerRole), ok: l.mostManagedPoliciesPerRole <= IAM.maxManagedPoliciesPerRole },
    { name: `${instances(largest)}: inline policies at most ${int(IAM.maxInlineCharsPerRole)} IAM characters per role`, measured: int(l.largestInlineCharsPerRole), ok: l.largestInlineCharsPerRole <= IAM.maxInlineCharsPerRole },
  );

  for (const count of counts) {
    const r = synthRatio(results, count);
    targets.push({ name: `${instances(count)}: synth time at most ${MAX_SYNTH_RATIO}x AwsCustomResource`, measured: ratio(r), ok: r <= MAX_SYNTH_RATIO });
  }

  const a = results.asset;
  targets.push(
    { name: `handler asset at most ${int(MAX_ASSET_BYTES)} bytes`, measured: `${int(a.bytes)} bytes`, ok: a.bytes <= MAX_ASSET_BYTES },
    { name: 'no source map shipped (.map file or sourceMappingURL)', measured: a.mapFiles.length + a.sourceMapComments.length === 0 ? 'none' : [...a.mapFiles, ...a.sourceMapComments].join(', '), ok: a.mapFiles.length + a.sourceMapComments.length === 0 },
  );
  const [bundle, ...sdks] = results.loads;
  for (const sdk of sdks) {
    const r = bundle.medianMs / sdk.medianMs;
    targets.push({ name: `bundled handler load time at most ${MAX_LOAD_RATIO}x ${sdk.label}`, measured: ratio(r), ok: r <= MAX_LOAD_RATIO });
  }

  const lc = results.lifecycle;
  const limit = lc.defaultPollIntervalSeconds + 1;
  targets.push({
    name: `final status to response at most one poll interval + 1 s (${limit} s)`,
    measured: `${lc.maxFullScaleSeconds.toFixed(2)} s worst of ${lc.runs.length}, median ${lc.medianFullScaleSeconds.toFixed(2)} s`,
    ok: lc.maxFullScaleSeconds <= limit,
  });
  return targets;
}

export function synthRatio(results: BenchResults, count: number): number {
  return stack(results, 'ours', count).medianSynthMs / stack(results, 'awsCustomResource', count).medianSynthMs;
}

/** '1 instance', '10 instances' */
export function instances(count: number): string {
  return `${count} instance${count === 1 ? '' : 's'}`;
}
