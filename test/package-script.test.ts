/**
 * `npm run package` (scripts/package.ts): the jsii-pacmak run for each target.
 */
import { DEFAULT_TARGETS, JSII_PACMAK, pacmakArgs, TARGETS } from '../scripts/package';

test('a target is one pinned jsii-pacmak run that leaves .npmignore alone and translates from the tablet only', () => {
  const args = pacmakArgs('python');

  expect(args.slice(0, 2)).toEqual(['--yes', JSII_PACMAK]);
  expect(JSII_PACMAK).toMatch(/^jsii-pacmak@\d+\.\d+\.\d+$/);
  expect(args).toContain('--no-npmignore');
  expect(args.join(' ')).toContain('--rosetta-unknown-snippets fail');
  expect(args.join(' ')).toContain('--targets python');
  expect(args).not.toContain('--code-only');
});

test('a -code target writes the generated project only, into dist/<target>', () => {
  const args = pacmakArgs('dotnet-code').join(' ');

  expect(args).toContain('--targets dotnet --code-only --outdir dist/dotnet-code');
});

test('the targets are the five jsii languages, and by default all but .NET', () => {
  expect([...TARGETS].sort()).toEqual(['dotnet', 'go', 'java', 'js', 'python']);
  expect(DEFAULT_TARGETS).toEqual(['js', 'python', 'java', 'go']);
});

test.each(['ruby', 'js-code', 'Java', ''])('fails on the unknown target %j', target => {
  expect(() => pacmakArgs(target)).toThrow(/unknown target/);
});
