/** A local CloudFormation lifecycle for custom resources: see `LocalCloudFormation`, and `withDeployment` for tests. */
export { StackAssembly } from './assembly';
export type { ProgressEvent, RequestResult } from './deployed-functions';
export { cancelStack, handlerSteps, operations, withDeployment } from './fixture';
export type { LocalDeployment } from './fixture';
export type { LogRecord } from './lambda';
export { LocalCloudFormation } from './local-cloudformation';
export type { LocalCloudFormationOptions, StackOperation } from './local-cloudformation';
export { MAX_RESPONSE_BYTES } from './requests';
export { synthesize } from './synth';
