/**
 * Pure decisions: what to do for each pipeline status, and what to report.
 * No I/O here, so every branch is a plain function call in the tests.
 */
import { ATTRIBUTE, Attributes } from '../lib/contract';
import { PipelineState } from './sdk';

/** Longest `DeploymentStatusMessage` returned, in bytes of its JSON encoding. */
export const MAX_MESSAGE_BYTES = 1_000;

/** What Create and Update do first, given the status they read. */
export type FirstStep = 'cancel' | 'wait' | 'nothing-to-cancel';

/**
 * Every deployment status of AWS's published Proton model, classified on
 * purpose (a test checks this table against the model's enum):
 * - only `IN_PROGRESS` is cancelled;
 * - `CANCELLING` is someone's cancellation under way: no second cancel, wait for its end;
 * - `DELETE_IN_PROGRESS` is the pipeline being deleted: nothing to cancel, but a wait
 *   that meets it keeps polling until `DELETE_COMPLETE` or `DELETE_FAILED`;
 * - every other status is final and leaves nothing to cancel.
 */
export const STATUS_MODEL: Readonly<Record<string, { readonly firstStep: FirstStep; readonly final: boolean }>> = {
  IN_PROGRESS: { firstStep: 'cancel', final: false },
  CANCELLING: { firstStep: 'wait', final: false },
  DELETE_IN_PROGRESS: { firstStep: 'nothing-to-cancel', final: false },
  SUCCEEDED: { firstStep: 'nothing-to-cancel', final: true },
  FAILED: { firstStep: 'nothing-to-cancel', final: true },
  CANCELLED: { firstStep: 'nothing-to-cancel', final: true },
  DELETE_COMPLETE: { firstStep: 'nothing-to-cancel', final: true },
  DELETE_FAILED: { firstStep: 'nothing-to-cancel', final: true },
};

/**
 * A status this handler does not know (a newer model): never cancelled and
 * final, so it is reported and can never hang a stack.
 */
const UNKNOWN_STATUS = { firstStep: 'nothing-to-cancel', final: true } as const;

/** Whether the status is one of the published model's. */
export function isKnownStatus(deploymentStatus: string): boolean {
  return Object.prototype.hasOwnProperty.call(STATUS_MODEL, deploymentStatus);
}

export function firstStep(deploymentStatus: string): FirstStep {
  return classOf(deploymentStatus).firstStep;
}

/** Whether polling ends at this status (final), or goes on (transitional). */
export function isFinal(deploymentStatus: string): boolean {
  return classOf(deploymentStatus).final;
}

function classOf(deploymentStatus: string): { readonly firstStep: FirstStep; readonly final: boolean } {
  return isKnownStatus(deploymentStatus) ? STATUS_MODEL[deploymentStatus] : UNKNOWN_STATUS;
}

/** The attributes CloudFormation exposes, bounded in size whatever Proton returns. */
export function toAttributes(pipeline: PipelineState, cancellationRequested: boolean): Attributes {
  return {
    [ATTRIBUTE.deploymentStatus]: pipeline.deploymentStatus,
    [ATTRIBUTE.deploymentStatusMessage]: truncate(pipeline.deploymentStatusMessage ?? '', MAX_MESSAGE_BYTES),
    [ATTRIBUTE.pipelineArn]: pipeline.arn,
    [ATTRIBUTE.templateName]: pipeline.templateName,
    [ATTRIBUTE.templateMajorVersion]: pipeline.templateMajorVersion,
    [ATTRIBUTE.templateMinorVersion]: pipeline.templateMinorVersion,
    [ATTRIBUTE.lastDeploymentAttemptedAt]: pipeline.lastDeploymentAttemptedAt?.toISOString() ?? '',
    [ATTRIBUTE.lastDeploymentSucceededAt]: pipeline.lastDeploymentSucceededAt?.toISOString() ?? '',
    [ATTRIBUTE.cancellationRequested]: String(cancellationRequested),
  };
}

/**
 * Shortens text so that its JSON encoding fits in `maxBytes`, marking the cut
 * with an ellipsis. Escapes count, so quotes and control characters cannot
 * push a response past CloudFormation's 4,096-byte cap.
 */
export function truncate(text: string, maxBytes: number): string {
  if (jsonBytes(text) <= maxBytes) {
    return text;
  }
  const chars = Array.from(text);
  let low = 0;
  let high = chars.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (jsonBytes(chars.slice(0, mid).join('') + '…') <= maxBytes) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  return chars.slice(0, low).join('') + '…';
}

function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), 'utf8') - 2;
}

/** Formats a duration in seconds as `30m 0s`. */
export function formatDuration(seconds: number): string {
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  return minutes > 0 ? `${minutes}m ${whole % 60}s` : `${whole}s`;
}
