/**
 * The generated documents match the code: API.md is what jsii-docgen writes
 * for the compiled assembly, and the README's examples are written once, in
 * TypeScript, for rosetta to translate. Needs `npm run compile` and
 * `npm run rosetta` first (`npm test` runs both).
 */
import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { fenceLanguages, translationsOf, typescriptBlocks } from '../scripts/readme-examples';

const root = join(__dirname, '..');

test('API.md matches the compiled API (run `npm run docs` to regenerate it)', () => {
  // GIVEN
  const dir = mkdtempSync(join(tmpdir(), 'api-md-'));
  const generated = join(dir, 'API.md');

  // WHEN
  let text: string;
  try {
    execFileSync(join(root, 'node_modules', '.bin', 'jsii-docgen'), ['-o', generated], { cwd: root, stdio: 'pipe' });
    text = readFileSync(generated, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // THEN
  expect(readFileSync(join(root, 'API.md'), 'utf8')).toBe(text);
});

test('the README writes its examples in TypeScript only: each language\'s package shows rosetta\'s translation once', () => {
  // A Python (Java, C#, Go) block of its own would show on PyPI (Maven, NuGet, Go) beside the
  // translation jsii-pacmak puts in place of the TypeScript one.
  const readme = readFileSync(join(root, 'README.md'), 'utf8');

  const languages = new Set(fenceLanguages(readme));
  expect(languages).toContain('ts');
  expect([...languages].filter(language => !['ts', 'sh'].includes(language))).toEqual([]);
  expect(translationsOf(readme, 'python', join(root, '.jsii.tabl.json'))[0]).toContain('CancelPipelineDeployment(stack, "CancelPipeline"');
});

test('every README example compiled and translates to Python, Java, C# and Go', () => {
  const tablet = JSON.parse(readFileSync(join(root, '.jsii.tabl.json'), 'utf8'));
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const examples = typescriptBlocks(readme).length;

  const snippets = Object.values(tablet.snippets) as Array<{ didCompile: boolean; translations: Record<string, { source: string }> }>;

  expect(snippets).toHaveLength(examples);
  for (const snippet of snippets) {
    expect(snippet.didCompile).toBe(true);
    expect(Object.keys(snippet.translations).sort()).toEqual(['$', 'csharp', 'go', 'java', 'python']);
  }
});
