/**
 * The Python package's README (PyPI's page: the wheel's METADATA, the sdist's README.md) shows
 * each README example once, as rosetta's Python translation. Needs `npm run package -- python`.
 */
import { execFileSync } from 'child_process';
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { translationsOf, typescriptBlocks } from '../../scripts/readme-examples';

const root = join(__dirname, '..', '..');
const distPython = join(root, 'dist', 'python');
const file = (suffix: string) => join(distPython, readdirSync(distPython).find(name => name.endsWith(suffix))!);

/** The wheel's METADATA, whose body is the README PyPI shows. */
const wheelReadme = () => execFileSync('python3', ['-c', [
  'import sys, zipfile',
  'wheel = zipfile.ZipFile(sys.argv[1])',
  'name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))',
  'sys.stdout.write(wheel.read(name).decode())',
].join('\n'), file('.whl')], { encoding: 'utf8' });

/** The sdist's README.md. */
const sdistReadme = () => execFileSync('tar', ['-xzOf', file('.tar.gz'), '--wildcards', '*/README.md'], { encoding: 'utf8' });

const occurrences = (text: string, part: string) => text.split(part).length - 1;

test.each([['wheel', wheelReadme], ['sdist', sdistReadme]])('the %s\'s README has each example once, in Python', (_name, packagedReadme) => {
  // GIVEN
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const translations = translationsOf(readme, 'python', join(root, '.jsii.tabl.json'));

  // WHEN
  const packaged = packagedReadme();

  // THEN: as many Python blocks as the README has examples, each translation once, no TypeScript left
  expect(translations).toHaveLength(typescriptBlocks(readme).length);
  expect(translations.map(translation => occurrences(packaged, translation))).toEqual(translations.map(() => 1));
  expect(occurrences(packaged, '```python\n')).toBe(translations.length);
  expect(packaged).not.toContain('```ts\n');
});
