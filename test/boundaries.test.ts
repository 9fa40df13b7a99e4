import { spawnSync } from 'child_process';
import * as path from 'path';

// The tree's parts stay separate: the product (lib/, lambda/), the local AWS
// (local/), and what uses both (scripts/, test/). The lint rule enforcing it
// must reject each crossing, and let through what is allowed.

const ROOT = path.join(__dirname, '..');

const CROSSINGS: Array<[string, string, RegExp]> = [
  ['lib/probe.ts', '../local/proton', /lib\/ is the construct/],
  ['lib/probe.ts', '../lambda/decide', /lib\/ is the construct/],
  ['lambda/probe.ts', '../local/proton', /lambda\/ is the handler/],
  ['lambda/probe.ts', '../lib/provider', /shares only lib\/contract/],
  ['local/proton/probe.ts', '../../lib', /local\/ emulates AWS/],
  ['local/cloudformation/probe.ts', '../../lambda/decide', /local\/ emulates AWS/],
  ['local/cloudformation/probe.ts', '../../test/cancel-stack', /local\/ emulates AWS/],
  ['examples/probe.ts', '../local/proton', /examples\/ use the construct/],
];

const ALLOWED: Array<[string, string]> = [
  ['lambda/probe.ts', '../lib/contract'],
  ['local/cloudformation/probe.ts', '../proton'],
  ['test/probe.ts', '../local/proton'],
  ['test/probe.ts', '../lib'],
  ['scripts/probe.ts', '../local/cloudformation'],
  ['scripts/probe.ts', '../lib'],
];

/**
 * Lints one import per case with the repository's own ESLint config, in a
 * child process (the flat config is an ES module, which jest cannot load).
 */
function lintImports(cases: Array<[string, string]>): string[][] {
  const script = `
    const { ESLint } = await import('eslint');
    // The repository's config, without type information: the probe files are in no tsconfig.
    const eslint = new ESLint({ cwd: process.cwd(), overrideConfig: [{
      languageOptions: { parserOptions: { project: null } },
      rules: { '@typescript-eslint/no-floating-promises': 'off' },
    }] });
    const cases = JSON.parse(process.argv[1]);
    const out = [];
    for (const [file, importPath] of cases) {
      const code = "import * as other from '" + importPath + "';\\n\\nexport const used = other;\\n";
      const [result] = await eslint.lintText(code, { filePath: file });
      const fatal = result.messages.find((m) => m.fatal);
      if (fatal) throw new Error(file + ': ' + fatal.message);
      out.push(result.messages.filter((m) => m.ruleId === 'import/no-restricted-paths').map((m) => m.message));
    }
    console.log(JSON.stringify(out));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(cases)], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) {
    throw new Error(run.stderr);
  }
  return JSON.parse(run.stdout);
}

const crossingErrors = lintImports(CROSSINGS.map(([file, importPath]) => [file, importPath]));
const allowedErrors = lintImports(ALLOWED);

test.each(CROSSINGS.map((c, i) => [...c, i] as const))('fails when %s imports %s', (_file, _importPath, message, i) => {
  expect(crossingErrors[i]).toHaveLength(1);
  expect(crossingErrors[i][0]).toMatch(message);
});

test.each(ALLOWED.map((c, i) => [...c, i] as const))('allows %s to import %s', (_file, _importPath, i) => {
  expect(allowedErrors[i]).toEqual([]);
});
