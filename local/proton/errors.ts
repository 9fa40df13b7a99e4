/**
 * HTTP status of each error the local endpoint returns. Proton's own errors use the status
 * codes of the `@aws-sdk/client-proton` model; the last two are the generic AWS JSON protocol
 * errors for an unknown `X-Amz-Target` and a body that is not JSON.
 */
export const ERROR_STATUS = {
  ValidationException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ConflictException: 409,
  ThrottlingException: 429,
  InternalServerException: 500,
  UnknownOperationException: 400,
  SerializationException: 400,
} as const;

/** Name of an error the local endpoint can return (the `__type` of the error body). */
export type ProtonErrorName = keyof typeof ERROR_STATUS;

/**
 * The errors each emulated operation may return, as Proton's model lists them. An injected error
 * fault only hits calls of an operation that lists it, so every answer stays within the model.
 */
export const OPERATION_ERRORS: Readonly<Record<string, readonly ProtonErrorName[]>> = {
  GetService: ['ValidationException', 'AccessDeniedException', 'ThrottlingException', 'ResourceNotFoundException',
    'InternalServerException'],
  CancelServicePipelineDeployment: ['ValidationException', 'AccessDeniedException', 'ThrottlingException',
    'ConflictException', 'ResourceNotFoundException', 'InternalServerException'],
};

/** True when Proton's model lets `operation` (an emulated one) return `error`. */
export function mayReturn(operation: string, error: ProtonErrorName): boolean {
  return OPERATION_ERRORS[operation]?.includes(error) ?? false;
}

/** An error answer: thrown by the emulated operations, turned into an AWS JSON error response. */
export class ProtonError extends Error {
  constructor(readonly type: ProtonErrorName, message: string) {
    super(message);
    this.name = type;
  }

  /** HTTP status code of this error. */
  get status(): number {
    return ERROR_STATUS[this.type];
  }
}
