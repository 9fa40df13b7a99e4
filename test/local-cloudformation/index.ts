/** A local CloudFormation lifecycle for custom resources: see `LocalCloudFormation`. */
export { StackAssembly, dependenciesOf } from './assembly';
export type { DeployTarget, Template } from './assembly';
export { Waits, emulatedDate } from './clock';
export type { Clock } from './clock';
export { LocalCloudFormationEndpoint } from './cloudformation-endpoint';
export type { CloudFormationCall } from './cloudformation-endpoint';
export { LocalLambda } from './lambda';
export type { InvocationRecord, LogRecord } from './lambda';
export { DeployedFunctions, LifecycleViolation } from './deployed-functions';
export { LocalCloudFormation } from './local-cloudformation';
export type { ProgressEvent, RequestResult } from './deployed-functions';
export type { LocalCloudFormationOptions, ProtonPermission, ResourceState, StackOperation } from './local-cloudformation';
export { MAX_RESPONSE_BYTES } from './requests';
export type { CloudFormationRequest, CloudFormationResponse, RequestType } from './requests';
export { LocalStepFunctions, retryDelaySeconds } from './step-functions';
export type { Execution, ExecutionEvent } from './step-functions';
export { HANDLER_ASSET, synthesize } from './synth';
