/** A local CloudFormation lifecycle for custom resources: see `LocalCloudFormation`, and `withDeployment` for tests. */
export { StackAssembly } from './assembly';
export { Waits } from './clock';
export type { ProgressEvent, RequestResult } from './deployed-functions';
export { handlerSteps, operations, withDeployment } from './fixture';
export type { LocalDeployment } from './fixture';
export { DEFAULT_CONCURRENCY, LocalLambda, TooManyRequestsException } from './lambda';
export type { AsyncOutcome, FunctionDefinition, LogRecord, ThrottleRecord } from './lambda';
export { STANDARD_RETRY } from './lambda-client';
export { LocalCloudFormation } from './local-cloudformation';
export type { LocalCloudFormationOptions, StackOperation } from './local-cloudformation';
export { hostProcess } from './module-loader';
export { MAX_RESPONSE_BYTES, violations } from './requests';
export type { CloudFormationRequest } from './requests';
export { LocalStepFunctions } from './step-functions';
export { synthesize } from './synth';
