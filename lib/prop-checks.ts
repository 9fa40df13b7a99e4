import { Annotations, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * Runtime checks of props, for callers without a compiler: plain JavaScript,
 * or values cast past the types. Each failure is one sentence naming the prop,
 * what it must be, and what it got.
 *
 * Internal: not exported from the package.
 */

/** A value as an error message shows it: its type, then the value. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) {
    return String(value);
  }
  if (Array.isArray(value)) {
    return `an array of ${value.length}`;
  }
  switch (typeof value) {
    case 'string':
      return `string '${value.length > 60 ? `${value.slice(0, 60)}…` : value}'`;
    case 'function':
      return 'a function';
    case 'object':
      return Construct.isConstruct(value) ? `the construct '${value.node.path}'` : 'an object';
    default:
      return `${typeof value} ${String(value)}`;
  }
}

function fail(prop: string, mustBe: string, value: unknown): never {
  throw new TypeError(`${prop} must be ${mustBe}, got ${describeValue(value)}.`);
}

/**
 * Props given as an object.
 *
 * @param mustBe what they must be, e.g. 'an object with at least serviceName'
 */
export function checkPropsObject(props: unknown, construct: string, mustBe: string): void {
  if (typeof props !== 'object' || props === null || Array.isArray(props)) {
    fail(`The props of ${construct}`, mustBe, props);
  }
}

/** Whether a prop was left out: `null` counts as left out, as jsii passes it. */
export function isAbsent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

export function checkString(value: unknown, prop: string, what: string): asserts value is string {
  if (typeof value !== 'string') {
    fail(prop, what, value);
  }
}

export function checkOptionalString(value: unknown, prop: string): void {
  if (!isAbsent(value)) {
    checkString(value, prop, 'a string, or left out');
  }
}

export function checkOptionalBoolean(value: unknown, prop: string): void {
  if (!isAbsent(value) && typeof value !== 'boolean') {
    fail(prop, 'true or false, or left out', value);
  }
}

/**
 * A `Duration`, recognised by its methods rather than by `instanceof`: a
 * second copy of aws-cdk-lib in `node_modules` has its own `Duration` class.
 */
export function checkOptionalDuration(value: unknown, prop: string, example: string): void {
  const methods = ['toSeconds', 'toMilliseconds', 'toHumanString', 'isUnresolved'];
  if (!isAbsent(value) && !methods.every(m => typeof (value as Record<string, unknown>)[m] === 'function')) {
    fail(prop, `a Duration (for example ${example}), or left out`, value);
  }
}

/**
 * The whole number of seconds of a duration within a range, or one sentence
 * naming the prop, the value and the rule.
 *
 * @param range the rule as the message words it, e.g. 'from 5 seconds to 5 minutes'
 */
export function wholeSecondsWithin(duration: Duration, prop: string, min: number, max: number, range: string): number {
  let seconds = NaN;
  try {
    seconds = duration.toSeconds();
  } catch {
    // A fraction of a second: CloudFormation gets whole seconds only.
  }
  if (!Number.isInteger(seconds) || seconds < min || seconds > max) {
    throw new RangeError(`${prop} must be a whole number of seconds ${range}, got ${String(duration)} (${duration.toMilliseconds({ integral: false }) / 1000} seconds).`);
  }
  return seconds;
}

/** Retention periods CloudWatch Logs accepts: the values of `logs.RetentionDays`. */
const RETENTION_DAYS = new Set(Object.values(logs.RetentionDays).filter(value => typeof value === 'number'));

export function checkOptionalRetentionDays(value: unknown, prop: string): void {
  if (!isAbsent(value) && !RETENTION_DAYS.has(value as number)) {
    fail(prop, 'a logs.RetentionDays value (for example logs.RetentionDays.ONE_MONTH), or left out', value);
  }
}

/** Removal policies a log group can take: CloudFormation cannot snapshot one. */
const LOG_REMOVAL_POLICIES = new Set<unknown>([RemovalPolicy.RETAIN, RemovalPolicy.DESTROY, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE]);

export function checkOptionalLogRemovalPolicy(value: unknown, prop: string): void {
  if (!isAbsent(value) && !LOG_REMOVAL_POLICIES.has(value)) {
    fail(prop, 'RemovalPolicy.RETAIN, RemovalPolicy.DESTROY or RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE, or left out', value);
  }
}

/** The properties an object must have, and their types, e.g. `{ vpcId: 'string', selectSubnets: 'function' }`. */
export type Shape = Record<string, 'string' | 'function'>;

function hasShape(value: unknown, shape: Shape): boolean {
  return Object.entries(shape).every(([key, type]) => typeof (value as Record<string, unknown> | null | undefined)?.[key] === type);
}

/** An object with the properties of `shape`, such as an `ec2.IVpc`. */
export function checkOptionalShape(value: unknown, prop: string, what: string, shape: Shape): void {
  if (!isAbsent(value) && !hasShape(value, shape)) {
    fail(prop, `${what}, or left out`, value);
  }
}

/** A plain object (not an array), such as an `ec2.SubnetSelection`. */
export function checkOptionalObject(value: unknown, prop: string, what: string): void {
  if (!isAbsent(value) && (typeof value !== 'object' || Array.isArray(value))) {
    fail(prop, `${what}, or left out`, value);
  }
}

/**
 * An array whose every element has the properties of `shape`.
 *
 * @param what what the array must be, e.g. 'an array of ec2.ISecurityGroup'
 * @param whatEach what each element must be, e.g. 'an ec2.ISecurityGroup'
 */
export function checkOptionalArrayOf(value: unknown, prop: string, what: string, whatEach: string, shape: Shape): void {
  if (isAbsent(value)) {
    return;
  }
  if (!Array.isArray(value)) {
    fail(prop, `${what}, or left out`, value);
  }
  value.forEach((element, index) => {
    if (!hasShape(element, shape)) {
      fail(`${prop}[${index}]`, whatEach, element);
    }
  });
}

/**
 * Edit distance between two strings (Levenshtein): the fewest insertions,
 * deletions and substitutions of one character that turn one into the other.
 * Two swapped neighbours count two.
 */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The option nearest to a key, case aside (then counting case), or none when
 * even the nearest is more than 2 edits, or a third of the key, away.
 */
export function nearestOption(key: string, options: readonly string[]): string | undefined {
  const distance = (option: string) => [editDistance(key.toLowerCase(), option.toLowerCase()), editDistance(key, option)];
  const [nearest] = [...options].sort((a, b) => {
    const [da, db] = [distance(a), distance(b)];
    return da[0] - db[0] || da[1] - db[1];
  });
  // The options are never empty: the nearest one exists.
  return distance(nearest)[0] <= Math.max(2, Math.floor(key.length / 3)) ? nearest : undefined;
}

/**
 * Warns, on the construct, of each key of the props that is no option: a
 * misspelling from JavaScript (`timout`) that would otherwise be ignored.
 *
 * @param options every option of the props, e.g. the keys of a `Record<keyof Props, true>`
 */
export function warnOfUnknownOptions(scope: Construct, props: object, construct: string, options: readonly string[]): void {
  for (const key of Object.keys(props).filter(k => !options.includes(k))) {
    const nearest = nearestOption(key, options);
    Annotations.of(scope).addWarningV2(`${WARNING_PREFIX}:unknownOption`, nearest !== undefined
      ? `${construct} has no option '${key}', so it is ignored: did you mean '${nearest}'?`
      : `${construct} has no option '${key}', so it is ignored: its options are ${options.join(', ')}.`);
  }
}

/** The start of the id of every warning of this library, which `Annotations.acknowledgeWarning` takes. */
export const WARNING_PREFIX = 'cdk-proton-cancel-pipeline-deployment';
