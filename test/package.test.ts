/**
 * What `npm pack` ships, and that the packed tarball works from node_modules
 * in a fresh CDK app. Needs `npm run bundle` and `npm run compile` first.
 */
import { execFileSync, spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

const root = join(__dirname, '..');
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const validateTsconfig = (path: string, ruleSet: string) =>
  spawnSync(process.execPath, [require.resolve('jsii/bin/jsii'), 'validate-tsconfig', path, '--rule-set', ruleSet], { cwd: root, encoding: 'utf8' });

test('package.json: no runtime dependencies, peers on the CDK, and a target for every jsii language', () => {
  const pkg = readJson(join(root, 'package.json'));

  expect(pkg.dependencies ?? {}).toEqual({});
  // The construct runs at synth time in the user's CDK app: any Node.js aws-cdk-lib runs on.
  expect(pkg.engines).toEqual({ node: readJson(join(root, 'node_modules', 'aws-cdk-lib', 'package.json')).engines.node });
  expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
  expect(pkg.devDependencies['@aws-sdk/client-proton']).toBeDefined();
  expect(pkg.license).toBe('Apache-2.0');
  expect(readFileSync(join(root, 'CHANGELOG.md'), 'utf8')).toContain(`## ${pkg.version} `);
  expect(pkg.stability).toBe('experimental');
  expect(pkg.keywords).toEqual(expect.arrayContaining(['cdk', 'awscdk', 'aws-cdk', 'proton']));
  expect(pkg.repository.url).toMatch(/^https:\/\//);
  expect(pkg.author.name).toBeTruthy();
  expect(pkg.jsii.targets).toEqual({
    python: { distName: expect.any(String), module: expect.any(String) },
    java: { package: expect.any(String), maven: { groupId: expect.any(String), artifactId: expect.any(String) } },
    dotnet: { namespace: expect.any(String), packageId: expect.any(String) },
    go: { moduleName: expect.stringMatching(/^github\.com\//) },
  });
});

test('tsconfig.json is committed, jsii compiles with it, and it is the config jsii would generate', () => {
  const pkg = readJson(join(root, 'package.json'));

  expect(pkg.jsii.tsconfig).toBe('tsconfig.json');
  expect(pkg.jsii.validateTsconfig).toBe('generated');
  // not git-ignored: `git check-ignore` exits 1 for a path no rule ignores
  expect(spawnSync('git', ['check-ignore', '-q', 'tsconfig.json'], { cwd: root }).status).toBe(1);
  expect(readJson(join(root, 'tsconfig.dev.json')).extends).toBe('./tsconfig.json');
  const result = validateTsconfig('tsconfig.json', 'generated');
  expect(result.stdout).toContain('is valid against rule set "generated"');
  expect(result.status).toBe(0);
});

test('jsii\'s tsconfig check fails on a config that drifts from the generated one', () => {
  const drifted = readJson(join(root, 'tsconfig.json'));
  drifted.compilerOptions.target = 'es2022';
  drifted.compilerOptions.noEmit = true;
  const dir = mkdtempSync(join(tmpdir(), 'tsconfig-'));
  const path = join(dir, 'tsconfig.json');
  writeFileSync(path, JSON.stringify(drifted));

  const result = validateTsconfig(path, 'generated');
  rmSync(dir, { recursive: true, force: true });

  expect(result.status).not.toBe(0);
  expect(result.stderr + result.stdout).toMatch(/target: Expected string "es2023", got "es2022"/);
  expect(result.stderr + result.stdout).toMatch(/noEmit: Unexpected field/);
});

test('the package holds the compiled library, the assembly, the handler and the docs, and nothing else', () => {
  const [{ files }] = JSON.parse(npm(['pack', '--dry-run', '--json'], root));

  const paths: string[] = files.map((file: { path: string }) => file.path).sort();

  expect(paths).toEqual(expect.arrayContaining([
    '.jsii', 'API.md', 'CHANGELOG.md', 'LICENSE', 'README.md', 'package.json',
    'assets/handler/index.js', 'lib/index.js', 'lib/index.d.ts',
    'lib/cancel-pipeline-deployment.js', 'lib/provider.js',
  ]));
  const unexpected = paths.filter(path => /^(test|lambda|scripts|examples|cdk\.out)\/|\.map$|(?<!\.d)\.ts$|tsbuildinfo/.test(path));
  expect(unexpected).toEqual([]);
});

test('the packed tarball synthesizes in a fresh CDK app, with the handler asset found in node_modules', () => {
  // GIVEN: a new app that installs the tarball like any user would
  const app = mkdtempSync(join(tmpdir(), 'packed-app-'));
  try {
    synthesizeInPackedApp(app);
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
}, 180_000);

function synthesizeInPackedApp(app: string): void {
  npm(['pack', '--pack-destination', app], root);
  const tarball = readdirSync(app).find(file => file.endsWith('.tgz'))!;
  const { devDependencies } = readJson(join(root, 'package.json'));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'packed-app', private: true }));
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', `./${tarball}`,
    `aws-cdk-lib@${devDependencies['aws-cdk-lib']}`, `constructs@${devDependencies.constructs}`], app);
  writeFileSync(join(app, 'app.js'), `
    const { App, Stack } = require('aws-cdk-lib');
    const { CancelPipelineDeployment } = require('cdk-proton-cancel-pipeline-deployment');
    const app = new App({ outdir: 'cdk.out' });
    new CancelPipelineDeployment(new Stack(app, 'Packed'), 'Cancel', { serviceName: 'my-service' });
    app.synth();
  `);

  // WHEN
  execFileSync(process.execPath, ['app.js'], { cwd: app, stdio: 'pipe' });

  // THEN: the assembly's file assets include the bundled handler, taken from node_modules
  const manifest = readJson(join(app, 'cdk.out', 'Packed.assets.json'));
  const assetDirs = Object.values(manifest.files as Record<string, { source: { path: string } }>).map(file => file.source.path);
  expect(assetDirs.some(dir => existsSync(join(app, 'cdk.out', dir, 'index.js'))
    && readFileSync(join(app, 'cdk.out', dir, 'index.js'), 'utf8').includes('CancelServicePipelineDeployment'))).toBe(true);
}
