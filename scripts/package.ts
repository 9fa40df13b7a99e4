// Packages the compiled assembly for each jsii language with jsii-pacmak, into dist/<target>/.
// Needs `npm run build` (or `npm test`) first: the .jsii assembly, its rosetta tablet
// (.jsii.tabl.json) and the bundled handler (assets/handler/index.js).
//
//   npm run package                        js python java go
//   npm run package -- js python java dotnet go
//   npm run package -- java-code dotnet-code
//
// A target ending in -code writes the generated project only, without the language's build
// tools, into dist/<target>/ (java-code needs no Maven build, dotnet-code no .NET SDK).
// Each target is one jsii-pacmak run, timed. jsii-pacmak is not a devDependency: it runs
// through npx at the version pinned here (1.x reads the assemblies jsii 6 writes).
import { spawnSync } from 'child_process';
import { existsSync, rmSync } from 'fs';
import { join } from 'path';

export const JSII_PACMAK = 'jsii-pacmak@1.140.0';
export const TARGETS = ['js', 'python', 'java', 'dotnet', 'go'];
export const DEFAULT_TARGETS = ['js', 'python', 'java', 'go'];

/** jsii-pacmak's arguments for one target (`java`, or `java-code` for the generated project only). */
export function pacmakArgs(target: string): string[] {
  const language = target.replace(/-code$/, '');
  if (!TARGETS.includes(language) || (target !== language && language === 'js')) {
    throw new Error(`unknown target '${target}': use ${TARGETS.join(', ')}, or java-code, python-code, dotnet-code, go-code`);
  }
  return [
    '--yes', JSII_PACMAK,
    // Leaves .npmignore alone: the package's files are package.json's "files".
    '--no-npmignore',
    // Every example comes from the rosetta tablet, none is translated on the fly.
    '--rosetta-unknown-snippets', 'fail',
    '--targets', language,
    ...(target === language ? [] : ['--code-only', '--outdir', join('dist', target)]),
  ];
}

function main(targets: string[]) {
  const root = join(__dirname, '..');
  for (const needed of ['.jsii', '.jsii.tabl.json', 'assets/handler/index.js']) {
    if (!existsSync(join(root, needed))) {
      throw new Error(`${needed} is missing: run npm run build first`);
    }
  }
  const times: string[] = [];
  for (const target of targets) {
    rmSync(join(root, 'dist', target), { recursive: true, force: true });
    const start = Date.now();
    const result = spawnSync('npx', pacmakArgs(target), { cwd: root, stdio: 'inherit' });
    if (result.status !== 0) {
      throw new Error(`jsii-pacmak --targets ${target} failed (exit ${result.status ?? result.signal})`);
    }
    times.push(`${target}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
  }
  console.log(`packaged into dist/: ${times.join(', ')}`);
}

if (require.main === module) {
  main(process.argv.length > 2 ? process.argv.slice(2) : DEFAULT_TARGETS);
}
