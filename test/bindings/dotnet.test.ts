/**
 * The .NET package, as far as it can be checked without the .NET SDK: the C# project that
 * `npm run package -- dotnet-code` generates (jsii-pacmak --code-only). Building and using it
 * needs the SDK, which release.yml sets up.
 */
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const { namespace, packageId } = pkg.jsii.targets.dotnet;
const project = join(root, 'dist', 'dotnet-code', 'dotnet', packageId);
const csproj = () => readFileSync(join(project, `${packageId}.csproj`), 'utf8');
const source = (name: string) => readFileSync(join(project, namespace, `${name}.cs`), 'utf8');

test('the project is the package: its id, version, license and the embedded assembly', () => {
  expect(csproj()).toContain(`<PackageId>${packageId}</PackageId>`);
  expect(csproj()).toContain(`<PackageVersion>${pkg.version}</PackageVersion>`);
  expect(csproj()).toContain(`<PackageLicenseExpression>${pkg.license}</PackageLicenseExpression>`);
  expect(csproj()).toContain(`<EmbeddedResource Include="${pkg.name}-${pkg.version}.tgz" />`);
  expect(readdirSync(project)).toContain(`${pkg.name}-${pkg.version}.tgz`);
});

test('it references the CDK, constructs and the jsii runtime from the peer dependencies\' floors', () => {
  const floor = (range: string) => range.replace(/^\^/, '');

  expect(csproj()).toContain(`<PackageReference Include="Amazon.CDK.Lib" Version="[${floor(pkg.peerDependencies['aws-cdk-lib'])},3.0.0)" />`);
  expect(csproj()).toContain(`<PackageReference Include="Constructs" Version="[${floor(pkg.peerDependencies.constructs)},11.0.0)" />`);
  expect(csproj()).toMatch(/<PackageReference Include="Amazon.JSII.Runtime" Version="\[1\.\d+\.\d+,2\.0\.0\)" \/>/);
});

test.each([
  ['CancelPipelineDeployment', 'public class CancelPipelineDeployment : Constructs.Construct'],
  ['CancelPipelineDeploymentProvider', 'public class CancelPipelineDeploymentProvider : Constructs.Construct'],
  ['CancelPipelineDeploymentProps', `public class CancelPipelineDeploymentProps : ${namespace}.ICancelPipelineDeploymentProps`],
  ['CancelPipelineDeploymentProviderProps', `public class CancelPipelineDeploymentProviderProps : ${namespace}.ICancelPipelineDeploymentProviderProps`],
])('%s is in the namespace, as C# names it', (name, declaration) => {
  expect(source(name)).toContain(`namespace ${namespace}\n`);
  expect(source(name)).toContain(declaration);
});

test.each([
  ['CancelPipelineDeploymentProps', ['ServiceName', 'WaitForFinalStatus', 'Timeout', 'FailIfNothingToCancel', 'FailUnlessCancelled', 'Trigger', 'Provider']],
  ['CancelPipelineDeploymentProviderProps', ['PollInterval', 'MaxConcurrentInstances', 'LogGroup', 'LogRetention', 'LogRemovalPolicy', 'Vpc', 'VpcSubnets', 'SecurityGroups']],
])('%s has every prop, and no other', (name, props) => {
  const declared = [...source(name).matchAll(/^ {8}public [\w.<>?[\]]+ (\w+)$/gm)].map(match => match[1]);

  expect(declared.sort()).toEqual([...props].sort());
});
