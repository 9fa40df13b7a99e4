/**
 * Sections 1 and 2: both constructs at each instance count, synthesized `runs`
 * times, interleaved, after one warm-up pass.
 */
import { checkLimits, LimitCheck } from './limits';
import { median, sleep } from './stats';
import { firstLine, synthStack, Variant, VARIANTS } from './synth';

/** Real ms the event loop idles before each timed synth, so none starts while the last one's async work runs. */
const IDLE_MS = 25;

export interface StackMeasure {
  readonly variant: Variant;
  readonly count: number;
  readonly synthMs: readonly number[];
  readonly constructMs: readonly number[];
  readonly medianSynthMs: number;
  readonly templateBytes: number;
  /** Whether every run produced the same template bytes. */
  readonly deterministic: boolean;
  readonly limits: LimitCheck;
  readonly customResources: number;
  /** AWS::IAM::Policy and AWS::IAM::ManagedPolicy resources. */
  readonly iamPolicyResources: number;
  /** Most resource ARNs in one customer managed policy (0 when none). */
  readonly mostArnsPerManagedPolicy: number;
}

export async function measureStacks(counts: readonly number[], runs: number, progress: (line: string) => void): Promise<StackMeasure[]> {
  // A synth that follows one of the same construct reuses warm state and can take
  // a tenth of its usual time, so no timed synth follows one of its own variant:
  // the variants alternate throughout, and each goes first in half the runs, with
  // an untimed synth of the other variant between runs where the order flips.
  let previous: Variant | undefined;
  const untimed = (variant: Variant, count = counts[0]) => {
    synthStack(variant, count, { resourceLimit: false });
    previous = variant;
  };
  // Warm-up: one untimed pass over every count.
  for (const count of counts) {
    VARIANTS.forEach((variant) => untimed(variant, count));
  }
  const samples = new Map<string, ReturnType<typeof synthStack>[]>();
  for (let run = 0; run < runs; run++) {
    progress(`synth run ${run + 1}/${runs}`);
    const order = run % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
    if (order[0] === previous) {
      untimed(order[1]);
    }
    for (const count of counts) {
      for (const variant of order) {
        await sleep(IDLE_MS);
        const key = `${variant}/${count}`;
        samples.set(key, [...samples.get(key) ?? [], synthStack(variant, count, { resourceLimit: false })]);
        previous = variant;
      }
    }
  }

  return counts.flatMap((count) => VARIANTS.map((variant) => {
    const results = samples.get(`${variant}/${count}`)!;
    const { template, templateBytes } = results[0];
    const types = Object.values(template.Resources).map((r) => r.Type);
    const managed = Object.values(template.Resources).filter((r) => r.Type === 'AWS::IAM::ManagedPolicy');
    return {
      variant,
      count,
      synthMs: results.map((r) => r.synthMs),
      constructMs: results.map((r) => r.constructMs),
      medianSynthMs: median(results.map((r) => r.synthMs)),
      templateBytes,
      deterministic: results.every((r) => r.templateBytes === templateBytes),
      limits: checkLimits(template, templateBytes),
      customResources: types.filter((t) => t.startsWith('Custom::') || t === 'AWS::CloudFormation::CustomResource').length,
      iamPolicyResources: types.filter((t) => t === 'AWS::IAM::Policy' || t === 'AWS::IAM::ManagedPolicy').length,
      mostArnsPerManagedPolicy: Math.max(0, ...managed.map((policy) => arnCount(policy.Properties?.PolicyDocument))),
    };
  }));
}

function arnCount(document: unknown): number {
  const statements = (document as { Statement: Array<{ Resource: unknown }> }).Statement;
  return statements.reduce((sum, s) => sum + (Array.isArray(s.Resource) ? s.Resource.length : 1), 0);
}

/**
 * What plain `cdk synth` does at this count, with CDK's own 500-resource check on:
 * 'ok', or the first line of the error it throws.
 */
export function defaultSynthOutcome(variant: Variant, count: number): string {
  try {
    synthStack(variant, count, { resourceLimit: true });
    return 'ok';
  } catch (error) {
    return firstLine(error);
  }
}
