/**
 * What `npm run package` left: each target's output in dist/, and no .npmignore beside
 * package.json (jsii-pacmak writes one unless told not to).
 */
import { existsSync, readdirSync } from 'fs';
import { join } from 'path';

const root = join(__dirname, '..', '..');

test('packaging left no .npmignore in the working tree', () => {
  expect(existsSync(join(root, '.npmignore'))).toBe(false);
});

test('dist/ holds the npm tarball, the wheel and sdist, the Go module and the generated projects', () => {
  const dist = (...path: string[]) => readdirSync(join(root, 'dist', ...path));

  expect(dist('js')).toEqual([expect.stringMatching(/\.jsii\.tgz$/)]);
  expect(dist('python').sort()).toEqual([expect.stringMatching(/-py3-none-any\.whl$/), expect.stringMatching(/\.tar\.gz$/)]);
  expect(dist('go', 'cdkprotoncancelpipelinedeployment')).toEqual(expect.arrayContaining(['go.mod', 'CancelPipelineDeployment.go']));
  expect(existsSync(join(root, 'dist', 'java-code', 'java', 'pom.xml')) || existsSync(join(root, 'dist', 'java', 'io'))).toBe(true);
});
