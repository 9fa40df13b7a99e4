/**
 * Deploy-time checks of the resource's properties, for values the construct
 * could not check at synth time (tokens) and for hand-written templates. Pure:
 * each returns the problem as a sentence fragment naming the option, or nothing.
 */
import { LIMITS, ResourceProperties } from '../lib/contract';

/** The flags, by the option name the construct documents. */
const FLAGS = {
  waitForFinalStatus: 'WaitForFinalStatus',
  failIfNothingToCancel: 'FailIfNothingToCancel',
  failUnlessCancelled: 'FailUnlessCancelled',
} as const;

/** Longest part of a bad value quoted back. */
const MAX_SHOWN_CHARS = 120;

/** The first problem with the properties, e.g. `timeout must be ..., got '45.5'`. */
export function propertyProblem(props: Partial<ResourceProperties>): string | undefined {
  const name = props.ServiceName;
  if (typeof name !== 'string' || name.length > LIMITS.serviceNameMaxLength || !LIMITS.serviceNamePattern.test(name)) {
    return `serviceName must be 1 to ${LIMITS.serviceNameMaxLength} letters, digits, '-' or '_', starting with a letter or digit, got ${show(name)}`;
  }
  const timeout = props.TimeoutSeconds;
  if (timeout !== undefined && !validTimeout(timeout)) {
    return `timeout must be a whole number of seconds from ${LIMITS.minTimeoutSeconds} to ${LIMITS.maxTimeoutSeconds}, got ${show(timeout)}`;
  }
  for (const [option, property] of Object.entries(FLAGS)) {
    const value = props[property];
    if (value !== undefined && value !== 'true' && value !== 'false') {
      return `${option} must be 'true' or 'false', got ${show(value)}`;
    }
  }
  return undefined;
}

function validTimeout(value: unknown): boolean {
  const seconds = Number(value);
  return typeof value === 'string' && /^\d+$/.test(value)
    && seconds >= LIMITS.minTimeoutSeconds && seconds <= LIMITS.maxTimeoutSeconds;
}

/** A received value as the message shows it: quoted, cut if long, `nothing` when absent. */
function show(value: unknown): string {
  if (value === undefined) {
    return 'nothing';
  }
  const text = JSON.stringify(value) ?? String(value);
  const quoted = typeof value === 'string' ? `'${text.slice(1, -1)}'` : text;
  return quoted.length > MAX_SHOWN_CHARS ? `${quoted.slice(0, MAX_SHOWN_CHARS)}…` : quoted;
}
