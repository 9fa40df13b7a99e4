/**
 * The load section of the benchmark page and its chart.
 */
import { LoadResult } from './load';
import { fixed, int } from './stats';

/** One load run of every case, with where and when it was taken. */
export interface LoadRun {
  readonly takenAt: string;
  readonly machine: string;
  readonly node: string;
  /** What handler ran (the bundled assets/handler/index.js of this commit of lambda/). */
  readonly handler: string;
  readonly results: readonly LoadResult[];
}

/** Markers around the load section in docs/benchmarks.md, so that `--only load` rewrites it alone. */
export const LOAD_BEGIN = '<!-- load section: written by npm run bench -- --only load -->';
export const LOAD_END = '<!-- end of load section -->';

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function caseLabel(r: LoadResult): string {
  const overhead = r.loadCase.invocationOverheadMs ? `, ${r.loadCase.invocationOverheadMs} ms per invoke` : '';
  return `concurrency ${int(r.loadCase.lambdaConcurrency)}${r.loadCase.lanes ? `, ${r.loadCase.lanes} lanes` : ''}${overhead}`;
}

function minutes(seconds: number): string {
  return `${fixed(seconds / 60, 1)} min`;
}

function protonCell(result: LoadResult, operation: string): string {
  const stats = result.proton[operation];
  return stats ? `${int(stats.calls)} / ${int(stats.throttled)}` : '0 / 0';
}

function resultsTable(run: LoadRun): string {
  return table(
    ['Lambda concurrency', 'Creates', 'Completed', 'Failed', 'Stack', 'GetService calls / throttled', 'Cancel calls / throttled',
      'Peak Proton calls/s (GetService, Cancel)', 'Lambda invokes refused (sync) / requeued (async)', 'Creates done after (emulated)', 'Real time'],
    run.results.map((r) => [
      int(r.loadCase.lambdaConcurrency),
      (r.loadCase.lanes ? `maxConcurrentInstances ${r.loadCase.lanes}` : 'all at once')
        + (r.loadCase.invocationOverheadMs ? `, each invocation ${r.loadCase.invocationOverheadMs} ms longer` : ''),
      `${r.completed}/${r.loadCase.instances}`,
      String(r.failed),
      r.stackStatus,
      protonCell(r, 'GetService'),
      protonCell(r, 'CancelServicePipelineDeployment'),
      `${r.proton.GetService?.peakPerSecond ?? 0}, ${r.proton.CancelServicePipelineDeployment?.peakPerSecond ?? 0}`,
      `${int(r.lambda.syncThrottles)} / ${int(r.lambda.asyncThrottles)}`,
      minutes(r.createSeconds),
      `${Math.round(r.realSeconds)} s`,
    ]),
  );
}

function reasonsTable(run: LoadRun): string {
  const rows = run.results.flatMap((r) => r.failureReasons.map((f) => [caseLabel(r), String(f.count),
    f.seconds ? `${fixed(f.seconds[0], 1)}-${fixed(f.seconds[1], 1)} s` : 'not measured', f.reason]));
  return rows.length === 0 ? 'No failure.' : table(['Case', 'Resources', 'Failed after (emulated, per resource)', 'Reason (first sentence)'], rows);
}

/**
 * The load targets: every Create completes at Lambda concurrency 50; at 10,
 * every Create completes or fails within 2 minutes saying why.
 */
export function loadTargets(run: LoadRun): string[] {
  const at = (concurrency: number) => run.results.filter((r) => r.loadCase.lambdaConcurrency === concurrency && !r.loadCase.lanes);
  const mark = (ok: boolean) => ok ? 'met' : 'NOT MET';
  const all50 = at(50);
  const all10 = at(10);
  const fastFailures = (r: LoadResult) => r.failureReasons.every((f) => f.seconds !== undefined && f.seconds[1] <= 120 && /concurrency/i.test(f.reason));
  return [
    `- ${mark(all50.length > 0 && all50.every((r) => r.failed === 0 && r.completed === r.loadCase.instances))}: `
      + `${all50.map((r) => `${r.completed}/${r.loadCase.instances}`).join(', ')} complete at Lambda concurrency 50 (target: all, no failure).`,
    `- ${mark(all10.length > 0 && all10.every((r) => r.completed === r.loadCase.instances || fastFailures(r)))}: `
      + `${all10.map((r) => `${r.completed}/${r.loadCase.instances}`).join(', ')} complete at Lambda concurrency 10 `
      + '(target: all, or the rest fail within 2 minutes naming Lambda concurrency).',
  ];
}

export function renderLoadSection(after: LoadRun, before?: LoadRun): string {
  const first = after.results[0].loadCase;
  const out = [
    LOAD_BEGIN,
    '## Under load: 400 services at once, within AWS\'s limits',
    '',
    `One stack of ${first.instances} instances, each on a service whose pipeline deployment is \`IN_PROGRESS\` `
      + '(a cancel takes 2 minutes), created through the local lifecycle: CloudFormation starts every Create at once, the provider\'s '
      + 'functions (the bundled handler) run on the emulated Lambda, the waiter state machine polls every 15 s. '
      + `Proton allows ${first.getServicePerSecond} GetService and ${first.cancelPerSecond} CancelServicePipelineDeployment calls per second `
      + `(bursts of ${2 * first.getServicePerSecond} and ${2 * first.cancelPerSecond}), per operation, and throttles the rest. `
      + 'The account\'s Lambda concurrency is shared by the functions of the provider; over it, a synchronous invoke is refused '
      + '(`TooManyRequestsException`; Step Functions retries its tasks as their Retry says), an asynchronous one waits in Lambda\'s queue. '
      + 'The before figures are the previous provider (the CDK provider framework, whose onEvent function invokes the handler synchronously). Times are emulated: the clock jumps over waits, '
      + 'the code\'s own work takes no emulated time, so the peak rates count calls made at the same emulated instant '
      + '(the first reads of every Create land in one second); the cases with a time per invoke charge each invocation that much more '
      + 'emulated time, holding its slot, as the network and the runtime would. A failed Create rolls the stack back. Retries are jittered: '
      + 'counts vary a little from run to run.',
    '',
    `### ${before ? 'After: ' : ''}${after.handler}`,
    '',
    `Taken ${after.takenAt.slice(0, 10)} on ${after.machine}, Node.js ${after.node}.`,
    '',
    resultsTable(after),
    '',
    'Targets:',
    '',
    ...loadTargets(after),
    '',
    'Failures:',
    '',
    reasonsTable(after),
    '',
  ];
  if (before) {
    out.push(
      `### Before: ${before.handler}`,
      '',
      `Taken ${before.takenAt.slice(0, 10)} on ${before.machine}, Node.js ${before.node}; kept for comparison (not rerun).`,
      '',
      resultsTable(before),
      '',
      'Failures:',
      '',
      reasonsTable(before),
      '',
    );
  }
  out.push('![Resources completed under load, by Lambda concurrency](benchmarks-load.svg)', '', LOAD_END);
  return out.join('\n');
}

/** Replaces the load section of a benchmark page, or appends it. */
export function withLoadSection(page: string, section: string): string {
  const begin = page.indexOf(LOAD_BEGIN);
  const end = page.indexOf(LOAD_END);
  if (begin >= 0 && end > begin) {
    return page.slice(0, begin) + section + page.slice(end + LOAD_END.length);
  }
  return `${page.trimEnd()}\n\n${section}\n`;
}

/** The chart: resources completed and failed per Lambda concurrency, before and after. */
export async function renderLoadChart(after: LoadRun, before?: LoadRun): Promise<string> {
  const vega = await import('vega');
  const { compile } = await import('vega-lite');
  const runs = before ? [{ label: 'before', run: before }, { label: 'after', run: after }] : [{ label: 'now', run: after }];
  // The cases of the run shown; a before case with no match is in its table, not the chart.
  const shown = new Set(after.results.map(caseLabel));
  const rows = runs.flatMap(({ label, run }) => run.results.filter((r) => shown.has(caseLabel(r))).flatMap((r) => [
    { handler: label, concurrency: caseLabel(r), outcome: 'completed', resources: r.completed },
    { handler: label, concurrency: caseLabel(r), outcome: 'failed', resources: r.failed },
  ]));
  const instances = after.results[0].loadCase.instances;
  const spec = compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `${instances} Creates in one stack, Proton at ${after.results[0].loadCase.getServicePerSecond}/${after.results[0].loadCase.cancelPerSecond} requests per second`,
      subtitle: `npm run bench -- --only load, ${after.takenAt.slice(0, 10)}`,
      offset: 12,
    },
    background: 'white',
    padding: 12,
    data: { values: rows },
    mark: { type: 'bar' },
    encoding: {
      column: { field: 'concurrency', type: 'nominal', title: 'Lambda concurrency (Creates all at once)', sort: after.results.map(caseLabel) },
      x: { field: 'handler', type: 'nominal', title: null, sort: runs.map((r) => r.label) },
      y: { field: 'resources', type: 'quantitative', title: 'Resources', stack: 'zero', scale: { domain: [0, instances] } },
      color: { field: 'outcome', type: 'nominal', title: 'Create', scale: { domain: ['completed', 'failed'], range: ['#2e7d32', '#c62828'] } },
    },
    resolve: { scale: { x: 'independent' } },
    width: { step: 40 },
    height: 240,
    config: { legend: { orient: 'bottom' } },
  }).spec;
  return new vega.View(vega.parse(spec), { renderer: 'none' }).toSVG();
}
