/**
 * The normalizer the jsii-language consumers are compared with (npm run consumers): it takes out
 * asset hashes and CDK metadata, and nothing else, so a real difference still shows.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Json, normalizeTemplate, templateDifferences } from './consumers/normalize';
import { synthesizeTypeScript } from './consumers/typescript/synth';

type JsonObject = { [key: string]: Json };
type Resource = { Type: string; Properties: JsonObject; Metadata?: JsonObject };
type Template = { Resources: Record<string, Resource>; Conditions?: JsonObject };

let reference: Template;
beforeAll(() => {
  const outdir = mkdtempSync(join(tmpdir(), 'consumer-ts-'));
  try {
    reference = synthesizeTypeScript(outdir) as unknown as Template;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});

const copy = (): Template => JSON.parse(JSON.stringify(reference));
const compare = (changed: Template) => templateDifferences(normalizeTemplate(reference as unknown as Json), normalizeTemplate(changed as unknown as Json));
const idOf = (template: Template, type: string, index = 0) =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type)[index][0];

test('the TypeScript consumer stack has both instances and a handler from an asset', () => {
  const functions = Object.values(reference.Resources).filter(resource => resource.Type === 'AWS::Lambda::Function');
  const services = Object.values(reference.Resources).map(resource => resource.Properties?.ServiceName).filter(Boolean).sort();

  expect(services).toEqual(['orders', 'payments']);
  expect(functions.length).toBeGreaterThan(0);
  functions.forEach(fn => expect(JSON.stringify((fn.Properties.Code as JsonObject).S3Key)).toMatch(/[0-9a-f]{64}\.zip/));
});

test('asset hashes, the CDK metadata resource and the CDK\'s resource metadata make no difference', () => {
  // GIVEN: what another language, or the CDK CLI, may write differently
  const changed = copy();
  for (const resource of Object.values(changed.Resources)) {
    if (resource.Type === 'AWS::Lambda::Function') {
      (resource.Properties.Code as JsonObject).S3Key = `${'0'.repeat(64)}.zip`;
      resource.Metadata = { 'aws:asset:path': `asset.${'1'.repeat(64)}`, 'aws:asset:is-bundled': false, 'aws:asset:property': 'Code' };
    }
    resource.Metadata = { ...resource.Metadata, 'aws:cdk:path': 'ConsumerStack/Elsewhere/Resource' };
  }
  changed.Resources.CDKMetadata = { Type: 'AWS::CDK::Metadata', Properties: { Analytics: 'v2:deflate64:python' } };
  changed.Conditions = { CDKMetadataAvailable: { 'Fn::Equals': ['a', 'a'] } };

  // THEN
  expect(compare(changed)).toEqual([]);
});

test('a changed property is a difference, named by its path', () => {
  const changed = copy();
  const id = Object.entries(changed.Resources).find(([, resource]) => resource.Properties?.ServiceName === 'payments')![0];
  changed.Resources[id].Properties.ServiceName = 'payment';

  expect(compare(changed)).toEqual([`$.Resources.${id}.Properties.ServiceName: expected "payments", got "payment"`]);
});

test('a resource more or less is a difference', () => {
  const extra = copy();
  extra.Resources.Extra = { Type: 'AWS::SNS::Topic', Properties: {} };
  const fewer = copy();
  const role = idOf(fewer, 'AWS::IAM::Role');
  delete fewer.Resources[role];

  expect(compare(extra)).toEqual(['$.Resources.Extra: expected (absent), got {"Type":"AWS::SNS::Topic","Properties":{}}']);
  expect(compare(fewer)).toEqual([expect.stringMatching(new RegExp(`^\\$\\.Resources\\.${role}: expected \\{.*, got \\(absent\\)$`))]);
});

test('a hash outside an S3Key, and metadata that is not the CDK\'s, still count', () => {
  const changed = copy();
  const fn = idOf(changed, 'AWS::Lambda::Function');
  changed.Resources[fn].Properties.Description = 'a'.repeat(64);
  changed.Resources[fn].Metadata = { 'aws:cdk:path': 'ConsumerStack/Fn', 'cfn_nag': { rules_to_suppress: [] } };

  expect(compare(changed)).toEqual([
    `$.Resources.${fn}.Metadata: expected (absent), got {"cfn_nag":{"rules_to_suppress":[]}}`,
    expect.stringMatching(new RegExp(`^\\$\\.Resources\\.${fn}\\.Properties\\.Description: expected .*, got "a{64}"$`)),
  ]);
});

test('a long string that differs is shown where it starts to differ', () => {
  const expected = `{"States":{"Wait":{"Type":"Wait","Seconds":30,"Next":"Poll"}},${'"x":1,'.repeat(60)}}`;
  const actual = expected.replace('"Seconds":30', '"Seconds":31');
  const at = expected.indexOf('"Seconds":30') + '"Seconds":3'.length;

  const [difference, ...more] = templateDifferences({ Definition: expected }, { Definition: actual });

  expect(more).toEqual([]);
  expect(difference.startsWith(`$.Definition from character ${at}: expected …`)).toBe(true);
  expect(difference).toContain('\\"Seconds\\":30');
  expect(difference).toContain('\\"Seconds\\":31');
  expect(difference.length).toBeLessThan(expected.length);
});
