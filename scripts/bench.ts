/**
 * `npm run bench`: measures CancelPipelineDeployment against what a user writes
 * without the library (an AwsCustomResource calling Proton), prints a markdown
 * report and writes it to docs/benchmarks.md, with the chart docs/benchmarks.svg.
 *
 * Not part of `npm test`. Takes about two minutes on two cores.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as os from 'os';
import { join, resolve } from 'path';
import { measureAssetSize, measureLoadTimes } from './bench/handler-asset';
import { measureLifecycle } from './bench/lifecycle';
import { renderChart, renderMarkdown } from './bench/report';
import { defaultSynthOutcome, measureStacks } from './bench/stacks';
import { evaluateTargets, BenchResults } from './bench/targets';

const ROOT = resolve(__dirname, '..');
const COUNTS = [1, 10, 100, 400];
const SYNTH_RUNS = 6;
const LOAD_RUNS = 11;

function progress(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

async function main(): Promise<void> {
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

  const markdown = renderMarkdown(results);
  const svg = await renderChart(results);
  mkdirSync(join(ROOT, 'docs'), { recursive: true });
  writeFileSync(join(ROOT, 'docs', 'benchmarks.md'), markdown);
  writeFileSync(join(ROOT, 'docs', 'benchmarks.svg'), svg);
  console.log(markdown);

  const failed = evaluateTargets(results).filter((t) => !t.ok);
  progress(`wrote docs/benchmarks.md and docs/benchmarks.svg; ${failed.length} target(s) missed`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
