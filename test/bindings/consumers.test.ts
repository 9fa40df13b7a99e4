/**
 * A consumer per jsii language (test/consumers/<language>/run.sh) installs the package that
 * `npm run package` built, synthesizes the consumer stack, and checks that a wrong value fails;
 * its template must be the TypeScript consumer's, apart from asset hashes and CDK metadata.
 * Offline from AWS: no credentials, no AWS variables, no CDK version check.
 */
import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Json, normalizeTemplate, templateDifferences } from '../consumers/normalize';
import { synthesizeTypeScript } from '../consumers/typescript/synth';

const root = join(__dirname, '..', '..');

/** The environment of a consumer: this one without AWS's variables, with the CDK's checks off. */
function consumerEnv(tmp: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(AWS_|CDK_)/.test(name)));
  return { ...env, CDK_DISABLE_VERSION_CHECK: '1', JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1', TMPDIR: tmp };
}

let work: string;
let reference: Json;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'consumers-'));
  reference = normalizeTemplate(synthesizeTypeScript(join(work, 'typescript')));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

test.each(['python', 'java', 'go'])('%s: the consumer refuses a wrong value and synthesizes the TypeScript template', language => {
  // GIVEN: a temporary folder of its own, to see that it leaves nothing there
  const outdir = join(work, language);
  const tmp = join(work, `${language}-tmp`);
  mkdirSync(tmp);

  // WHEN
  const result = spawnSync('bash', [join(root, 'test', 'consumers', language, 'run.sh'), outdir], {
    cwd: root, env: consumerEnv(tmp), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    const output = `${result.stdout}${result.stderr}`.split('\n').filter(line => !line.includes('!!')).slice(-40).join('\n');
    throw new Error(`test/consumers/${language}/run.sh failed (exit ${result.status ?? result.signal}):\n${output}`);
  }

  // THEN: alike, or each difference listed by path
  const template = JSON.parse(readFileSync(join(outdir, 'ConsumerStack.template.json'), 'utf8'));
  expect(templateDifferences(reference, normalizeTemplate(template))).toEqual([]);
  expect(readdirSync(tmp)).toEqual([]);
});
