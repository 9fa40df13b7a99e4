// Bundles the provider handler (lambda/) and the AWS SDK clients it uses into
// one minified file that ships in the npm package, so consumers in every jsii
// language need neither esbuild nor Docker.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const outdir = 'assets/handler';
rmSync(outdir, { recursive: true, force: true });

const result = await build({
  entryPoints: ['lambda/index.ts'],
  outfile: `${outdir}/index.js`,
  bundle: true,
  platform: 'node',
  // Matches the function's runtime, Node.js 24 (lib/provider.ts).
  target: 'node24',
  format: 'cjs',
  // The SDK's ES module builds tree-shake: only the commands the handler sends remain.
  mainFields: ['module', 'main'],
  // The SDK loads node:http and node:async_hooks with import(): a require() instead spares
  // the first call of each client a trip through the ES module loader.
  supported: { 'dynamic-import': false },
  // Lambda's credentials are in the environment: the SDK's default chain gives way to that one source.
  alias: { '@aws-sdk/credential-provider-node': './lambda/credentials.ts' },
  minify: true,
  sourcemap: process.env.HANDLER_SOURCEMAP === 'true',
  metafile: true,
  logLevel: 'warning',
});

const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
console.log(`bundled ${outdir}/index.js: ${(bytes / 1024).toFixed(1)} KiB`);
