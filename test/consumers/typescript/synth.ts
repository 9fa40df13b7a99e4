/** Synthesizes the TypeScript consumer stack into a folder and returns its template. */
import { App } from 'aws-cdk-lib';
import type { Json } from '../normalize';
import { consumerStack } from './app';

export function synthesizeTypeScript(outdir: string): Json {
  const app = new App({ outdir });
  const stack = consumerStack(app);
  return app.synth().getStackByName(stack.stackName).template;
}
