import { ServiceOptions } from './service';

/**
 * Named pipeline situations, for `LocalProton.addService(name, SCENARIOS[...])` and the CLI.
 * Durations are emulated seconds. A missing service needs no scenario: just don't add it.
 */
export const SCENARIOS = {
  /** IN_PROGRESS; a cancel leads to CANCELLING, then CANCELLED 120 s later. */
  'in-progress': { pipeline: { status: 'IN_PROGRESS', cancelTakes: 120 } },
  /** IN_PROGRESS; a cancel leads to CANCELLING, then FAILED 120 s later. */
  'cancel-fails': { pipeline: { status: 'IN_PROGRESS', cancelTakes: 120, cancelEndsAs: 'FAILED' } },
  /** IN_PROGRESS; a cancel is accepted but never completes (CANCELLING forever). */
  'cancel-hangs': { pipeline: { status: 'IN_PROGRESS', cancelTakes: Infinity } },
  /**
   * IN_PROGRESS, and the deployment succeeds 30 s after the service is added whatever happens:
   * a cancel before then stays CANCELLING until SUCCEEDED wins; a cancel after it is refused.
   */
  'succeeds-first': { pipeline: { status: 'IN_PROGRESS', finishesAfter: 30, cancelTakes: 120 } },
  /** Already CANCELLING; ends CANCELLED 60 s after the service is added. */
  'cancelling': { pipeline: { status: 'CANCELLING', cancelTakes: 60 } },
  /** CANCELLING forever. */
  'stuck-cancelling': { pipeline: { status: 'CANCELLING', cancelTakes: Infinity } },
  /** Final states: a cancel is refused. */
  'succeeded': { pipeline: { status: 'SUCCEEDED' } },
  'failed': { pipeline: { status: 'FAILED', deploymentStatusMessage: 'Deployment failed.' } },
  'cancelled': { pipeline: { status: 'CANCELLED', deploymentStatusMessage: 'User initiated cancellation.' } },
  /** A service without pipeline: GetService has no `pipeline`, a cancel is refused. */
  'no-pipeline': { pipeline: false },
} satisfies Record<string, ServiceOptions>;

/** Name of a scenario in `SCENARIOS`. */
export type ScenarioName = keyof typeof SCENARIOS;
