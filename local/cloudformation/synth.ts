/**
 * Synthesizes CDK apps for the lifecycle, in-process, into temporary cloud
 * assembly directories.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';

/** Builds an app with `build`, synthesizes it into a new temporary directory, and returns that directory. */
export function synthesize(build: (app: App) => void): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-lifecycle-'));
  const app = new App({ outdir });
  build(app);
  app.synth();
  return outdir;
}
