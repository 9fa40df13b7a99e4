/** A local CloudFormation lifecycle for custom resources: see `LocalCloudFormation`, and `withDeployment` for tests. */
export { StackAssembly } from './assembly';
export type { ProgressEvent, RequestResult } from './deployed-functions';
export { handlerSteps, operations, withDeployment } from './fixture';
export type { LocalDeployment } from './fixture';
export type { LogRecord } from './lambda';
export { LocalCloudFormation } from './local-cloudformation';
export type { LocalCloudFormationOptions, StackOperation } from './local-cloudformation';
export { hostProcess } from './module-loader';
export { MAX_RESPONSE_BYTES, violations } from './requests';
export type { CloudFormationRequest } from './requests';
export { synthesize } from './synth';
