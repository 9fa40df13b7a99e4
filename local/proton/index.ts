/** A local AWS Proton endpoint for tests: see `LocalProton`. */
export { EmulatedClock } from './clock';
export type { ProtonErrorName } from './errors';
export type { Fault } from './faults';
export { LocalProton } from './local-proton';
export type { LocalProtonOptions, RecordedCall } from './local-proton';
export { DEFAULT_RATE_LIMITS } from './rate-limits';
export type { OperationStats, RateLimit } from './rate-limits';
export { SCENARIOS } from './scenarios';
export { deploymentId } from './service';
export { serviceNameOf } from './wire';
export type { ScenarioName } from './scenarios';
export type { PipelineOptions, PipelineStatus, ServiceOptions } from './service';
