/**
 * `npm run bench`: measures CancelPipelineDeployment against what a user writes
 * without the library (an AwsCustomResource calling Proton), and under load
 * within AWS's limits; prints a markdown report and writes it to
 * docs/benchmarks.md, with the charts docs/benchmarks.svg and
 * docs/benchmarks-load.svg.
 *
 *   npm run bench                         everything
 *   npm run bench -- --only load          the load run alone (rewrites its section of the page)
 *   npm run bench -- --only load --before also keeps the run as the "before" figures
 *
 * Not part of `npm test`. Takes a few minutes on two cores.
 */
import { execFileSync } from 'child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as os from 'os';
import { join, resolve } from 'path';
import { measureAssetSize, measureLoadTimes } from './bench/handler-asset';
import { measureLifecycle } from './bench/lifecycle';
import { LoadCase, removeLoadStack, runLoad, synthLoadStack } from './bench/load';
import { LoadRun, renderLoadChart, renderLoadSection, withLoadSection } from './bench/load-report';
import { renderChart, renderMarkdown } from './bench/report';
import { defaultSynthOutcome, measureStacks } from './bench/stacks';
import { evaluateTargets, BenchResults } from './bench/targets';

const ROOT = resolve(__dirname, '..');
const COUNTS = [1, 10, 100, 400];
const SYNTH_RUNS = 6;
const LOAD_RUNS = 11;
/**
 * The load run: 400 instances, Proton at 10 GetService and 5 cancels per
 * second, three Lambda concurrencies, every Create at once; then the two low
 * ones again with each invocation 250 ms longer on the emulated clock (its
 * calls' network time and the runtime's overhead, which the frozen clock
 * does not see), so that a slot is never free for nothing.
 */
const LOAD_INSTANCES = 400;
const LOAD_CASES: ReadonlyArray<Pick<LoadCase, 'lambdaConcurrency' | 'lanes' | 'invocationOverheadMs'>> = [
  { lambdaConcurrency: 1000 }, { lambdaConcurrency: 50 }, { lambdaConcurrency: 10 },
  { lambdaConcurrency: 50, invocationOverheadMs: 250 }, { lambdaConcurrency: 10, invocationOverheadMs: 250 },
];
const BEFORE_FILE = join(ROOT, 'scripts', 'bench', 'load-before.json');

function progress(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

/** Runs every load case with the provider and handler as lib/ and lambda/ hold them now (bundled afresh). */
async function measureLoad(): Promise<LoadRun> {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle-handler.mjs')], { cwd: ROOT, stdio: 'ignore' });
  const commit = execFileSync('git', ['log', '-1', '--format=%h %s', '--', 'lambda', 'lib'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--', 'lambda', 'lib'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
  const results = [];
  for (const { lambdaConcurrency, lanes, invocationOverheadMs } of LOAD_CASES) {
    progress(`load: synthesizing ${LOAD_INSTANCES} instances${lanes ? `, maxConcurrentInstances ${lanes}` : ''}`);
    const assemblyDir = synthLoadStack(LOAD_INSTANCES, lanes);
    try {
      const loadCase: LoadCase = { instances: LOAD_INSTANCES, getServicePerSecond: 10, cancelPerSecond: 5, lambdaConcurrency, lanes, invocationOverheadMs };
      progress(`load: ${LOAD_INSTANCES} Creates, Lambda concurrency ${lambdaConcurrency}${lanes ? `, ${lanes} lanes` : ', all at once'}${invocationOverheadMs ? `, ${invocationOverheadMs} ms per invoke` : ''}`);
      const result = await runLoad(assemblyDir, loadCase);
      progress(`load: ${result.completed} completed, ${result.failed} failed, ${Math.round(result.realSeconds)} s`);
      results.push(result);
    } finally {
      removeLoadStack(assemblyDir);
    }
  }
  return {
    takenAt: new Date().toISOString(),
    machine: `${os.cpus()[0]?.model.trim() ?? 'unknown CPU'} (${os.cpus().length} cores)`,
    node: process.version,
    handler: `provider and handler of commit ${commit.split(' ')[0]}${dirty ? ' with uncommitted changes' : ''} (${commit.slice(commit.indexOf(' ') + 1, 100)})`,
    results,
  };
}

/** The load run, the before figures, the page's load section and its chart. */
async function loadSection(keepAsBefore: boolean): Promise<string> {
  const run = await measureLoad();
  if (keepAsBefore) {
    writeFileSync(BEFORE_FILE, `${JSON.stringify(run, null, 1)}\n`);
  }
  const before = !keepAsBefore && existsSync(BEFORE_FILE) ? JSON.parse(readFileSync(BEFORE_FILE, 'utf8')) as LoadRun : undefined;
  mkdirSync(join(ROOT, 'docs'), { recursive: true });
  writeFileSync(join(ROOT, 'docs', 'benchmarks-load.svg'), await renderLoadChart(run, before));
  return renderLoadSection(run, before);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  if (only !== undefined && only !== 'load') {
    throw new Error(`--only takes 'load', got ${only}`);
  }
  if (only === 'load') {
    const section = await loadSection(args.includes('--before'));
    const page = join(ROOT, 'docs', 'benchmarks.md');
    writeFileSync(page, withLoadSection(existsSync(page) ? readFileSync(page, 'utf8') : '# Benchmarks\n', section));
    console.log(section);
    progress('wrote the load section of docs/benchmarks.md and docs/benchmarks-load.svg');
    return;
  }
  const started = performance.now();
  const takenAt = new Date();

  progress(`synthesizing ${COUNTS.join(', ')} instances of both constructs, ${SYNTH_RUNS} runs`);
  const stacks = await measureStacks(COUNTS, SYNTH_RUNS, progress);
  const largest = COUNTS[COUNTS.length - 1];
  progress(`plain synth at ${largest} instances`);
  const defaultSynth = {
    ours: defaultSynthOutcome('ours', largest),
    awsCustomResource: defaultSynthOutcome('awsCustomResource', largest),
  };

  progress(`loading the handler and the SDK in ${LOAD_RUNS} fresh processes each`);
  const asset = measureAssetSize(ROOT);
  const loads = measureLoadTimes(ROOT, [
    { label: 'bundled handler (assets/handler/index.js)', modules: [join(ROOT, 'assets', 'handler', 'index.js')] },
    { label: '@aws-sdk/client-proton', modules: ['@aws-sdk/client-proton'] },
    { label: '@aws-sdk/client-proton + @aws-sdk/client-cloudformation', modules: ['@aws-sdk/client-proton', '@aws-sdk/client-cloudformation'] },
  ], LOAD_RUNS);

  progress('cancelling through the local lifecycle and Proton endpoint, compressed time');
  const lifecycle = await measureLifecycle();

  const results: BenchResults = {
    takenAt,
    node: process.version,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.cpus().length,
    cdkVersion: JSON.parse(readFileSync(require.resolve('aws-cdk-lib/package.json'), 'utf8')).version,
    counts: COUNTS,
    synthRuns: SYNTH_RUNS,
    stacks,
    defaultSynth,
    asset,
    loadRuns: LOAD_RUNS,
    loads,
    lifecycle,
    durationSeconds: (performance.now() - started) / 1000,
  };

  const markdown = withLoadSection(renderMarkdown(results), await loadSection(args.includes('--before')));
  const svg = await renderChart(results);
  mkdirSync(join(ROOT, 'docs'), { recursive: true });
  writeFileSync(join(ROOT, 'docs', 'benchmarks.md'), markdown);
  writeFileSync(join(ROOT, 'docs', 'benchmarks.svg'), svg);
  console.log(markdown);

  const failed = evaluateTargets(results).filter((t) => !t.ok);
  progress(`wrote docs/benchmarks.md, docs/benchmarks.svg and docs/benchmarks-load.svg; ${failed.length} target(s) missed`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
