/**
 * Makes two synthesized templates comparable across jsii languages: the parts a language or
 * the CDK CLI may write differently, and nothing else, are taken out or replaced by a marker.
 *
 * - the `AWS::CDK::Metadata` resource (its analytics string names the runtime) and the
 *   `CDKMetadataAvailable` condition that goes with it;
 * - the CDK's own keys of a resource's `Metadata` (`aws:cdk:path`, `aws:asset:path`,
 *   `aws:asset:property`, `aws:asset:is-bundled`, ...): a resource's other metadata stays;
 * - asset hashes (64 hex digits) inside `S3Key` values, and only there.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const ASSET_HASH = /\b[0-9a-f]{64}\b/g;

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A copy of the value with every asset hash in a string replaced, in strings and in Fn::Join's parts. */
function withoutAssetHashes(value: Json): Json {
  if (typeof value === 'string') return value.replace(ASSET_HASH, '<asset hash>');
  if (Array.isArray(value)) return value.map(withoutAssetHashes);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, withoutAssetHashes(v)]));
  return value;
}

/** A copy of `value` in which each object's `S3Key` has its asset hashes replaced. */
function withoutS3KeyHashes(value: Json): Json {
  if (Array.isArray(value)) return value.map(withoutS3KeyHashes);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, v]) =>
    [key, key === 'S3Key' ? withoutAssetHashes(v) : withoutS3KeyHashes(v)]));
}

export function normalizeTemplate(template: Json): Json {
  if (!isObject(template)) throw new Error('a template is a JSON object');
  const copy = JSON.parse(JSON.stringify(template)) as JsonObject;

  const resources = isObject(copy.Resources) ? copy.Resources : {};
  for (const [id, resource] of Object.entries(resources)) {
    if (!isObject(resource)) continue;
    if (resource.Type === 'AWS::CDK::Metadata') {
      delete resources[id];
      continue;
    }
    if (isObject(resource.Metadata)) {
      for (const key of Object.keys(resource.Metadata).filter(k => /^aws:(cdk|asset):/.test(k))) {
        delete resource.Metadata[key];
      }
      if (Object.keys(resource.Metadata).length === 0) delete resource.Metadata;
    }
  }
  if (isObject(copy.Conditions)) {
    delete copy.Conditions.CDKMetadataAvailable;
    if (Object.keys(copy.Conditions).length === 0) delete copy.Conditions;
  }
  return withoutS3KeyHashes(copy);
}

/**
 * The paths at which two normalized templates differ, each with both values, one per line:
 * empty when they are alike.
 */
export function templateDifferences(expected: Json, actual: Json, path = '$'): string[] {
  if (isObject(expected) && isObject(actual)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
    return keys.flatMap(key => templateDifferences(expected[key], actual[key], `${path}.${key}`));
  }
  if (Array.isArray(expected) && Array.isArray(actual) && expected.length === actual.length) {
    return expected.flatMap((item, index) => templateDifferences(item, actual[index], `${path}[${index}]`));
  }
  if (JSON.stringify(expected) === JSON.stringify(actual)) return [];
  if (typeof expected === 'string' && typeof actual === 'string' && Math.max(expected.length, actual.length) > LONG) {
    // A long string (a state machine's definition, a policy) shown where it starts to differ.
    let at = 0;
    while (expected[at] === actual[at]) at++;
    const around = (text: string) => JSON.stringify(text.slice(Math.max(0, at - CONTEXT), at + CONTEXT));
    return [`${path} from character ${at}: expected …${around(expected)}…, got …${around(actual)}…`];
  }
  const show = (value: Json | undefined) => (value === undefined ? '(absent)' : JSON.stringify(value));
  return [`${path}: expected ${show(expected)}, got ${show(actual)}`];
}

const LONG = 200;
const CONTEXT = 40;
