/**
 * Test fixture: a stack of a synthesized assembly deployed on the local
 * CloudFormation lifecycle, against a local Proton endpoint on the same frozen
 * clock, with the emulated IAM derived from the stack's own policies.
 */
import { LocalProton, LocalProtonOptions, RecordedCall } from '../proton';
import { LogRecord } from './lambda';
import { LocalCloudFormation, LocalCloudFormationOptions } from './local-cloudformation';

export interface LocalDeployment {
  readonly proton: LocalProton;
  readonly cfn: LocalCloudFormation;
  /** The Proton calls received while `fn` ran. */
  protonCalls<T>(fn: () => Promise<T>): Promise<[T, RecordedCall[]]>;
}

/**
 * Runs `fn` with a fresh local Proton endpoint (frozen clock) and the stack
 * `stackName` of `assemblyDir` on the local lifecycle; stops both afterwards.
 */
export async function withDeployment<T>(assemblyDir: string, stackName: string, fn: (d: LocalDeployment) => Promise<T>,
  options: { readonly proton?: LocalProtonOptions; readonly cfn?: Partial<LocalCloudFormationOptions> } = {}): Promise<T> {
  const proton = await LocalProton.start({ timeScale: 0, ...options.proton });
  let cfn: LocalCloudFormation | undefined;
  try {
    cfn = await LocalCloudFormation.start({
      assemblyDir,
      stackName,
      protonEndpoint: proton.endpoint,
      clock: proton.clock,
      region: proton.region,
      account: proton.account,
      // The handler's role may touch exactly the services its synthesized policies name.
      protonIam: proton,
      ...options.cfn,
    });
    const protonCalls = async <R>(run: () => Promise<R>): Promise<[R, RecordedCall[]]> => {
      const first = proton.calls.length;
      const result = await run();
      return [result, proton.calls.slice(first)];
    };
    return await fn({ proton, cfn, protonCalls });
  } finally {
    await cfn?.stop();
    await proton.stop();
  }
}

/** Operation names of calls, e.g. ['GetService', 'CancelServicePipelineDeployment']. */
export function operations(calls: readonly RecordedCall[]): string[] {
  return calls.map((c) => c.operation);
}

/** The handler's log lines: one JSON object per step. */
export function handlerSteps(logs: readonly LogRecord[]): Array<Record<string, unknown>> {
  return logs.filter((l) => l.message.startsWith('{'))
    .map((l) => JSON.parse(l.message) as Record<string, unknown>);
}
