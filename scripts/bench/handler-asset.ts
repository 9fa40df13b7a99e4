/**
 * Section 3: the bundled handler asset, its size on disk, and how long Node.js
 * takes to load it compared with loading the SDK clients it bundles from node_modules.
 */
import { execFileSync } from 'child_process';
import { readdirSync, readFileSync, statSync } from 'fs';
import { join, relative } from 'path';
import { median } from './stats';

export interface AssetSize {
  readonly dir: string;
  readonly bytes: number;
  readonly files: readonly string[];
  readonly mapFiles: readonly string[];
  /** Files that still reference a source map. */
  readonly sourceMapComments: readonly string[];
  /** Lambda sources newer than the bundle: the asset may be stale. */
  readonly newerSources: readonly string[];
}

export function measureAssetSize(root: string): AssetSize {
  const dir = join(root, 'assets', 'handler');
  const files = walk(dir);
  const bundleTime = Math.min(...files.map((f) => statSync(f).mtimeMs));
  return {
    dir: relative(root, dir),
    bytes: files.reduce((sum, f) => sum + statSync(f).size, 0),
    files: files.map((f) => relative(dir, f)),
    mapFiles: files.filter((f) => f.endsWith('.map')).map((f) => relative(dir, f)),
    sourceMapComments: files.filter((f) => /sourceMappingURL/.test(readFileSync(f, 'utf8'))).map((f) => relative(dir, f)),
    newerSources: [...walk(join(root, 'lambda')), join(root, 'lib', 'contract.ts')].filter((f) => statSync(f).mtimeMs > bundleTime).map((f) => relative(root, f)),
  };
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path) : [path];
  });
}

/** What a child process loads. */
export interface LoadSubject {
  readonly label: string;
  /** Module specifiers, resolved from the repository root. */
  readonly modules: readonly string[];
}

export interface LoadTimes {
  readonly label: string;
  readonly runs: readonly number[];
  readonly medianMs: number;
}

/**
 * Loads each subject in fresh `node` processes, `runs` times, interleaved, and
 * returns the median time `require` took inside the child (process start excluded).
 */
export function measureLoadTimes(root: string, subjects: readonly LoadSubject[], runs: number): LoadTimes[] {
  const samples = subjects.map(() => [] as number[]);
  for (let run = 0; run < runs; run++) {
    subjects.forEach((subject, i) => samples[i].push(loadOnce(root, subject.modules)));
  }
  return subjects.map((subject, i) => ({ label: subject.label, runs: samples[i], medianMs: median(samples[i]) }));
}

function loadOnce(root: string, modules: readonly string[]): number {
  const code = [
    'const start = process.hrtime.bigint();',
    `for (const m of ${JSON.stringify(modules)}) require(m);`,
    'process.stdout.write(String(Number(process.hrtime.bigint() - start) / 1e6));',
  ].join('\n');
  const out = execFileSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH } });
  return Number(out);
}
