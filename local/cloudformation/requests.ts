/**
 * The custom resource protocol from CloudFormation's side: the requests it
 * sends to a ServiceToken and the checks it makes on the response body.
 */
import { randomBytes, randomUUID } from 'crypto';

export type RequestType = 'Create' | 'Update' | 'Delete';

/** The event CloudFormation sends to a custom resource provider. */
export interface CloudFormationRequest {
  readonly RequestType: RequestType;
  readonly ServiceToken: string;
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly ResourceType: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Readonly<Record<string, unknown>>;
  readonly OldResourceProperties?: Readonly<Record<string, unknown>>;
}

/** The body a provider PUTs to the ResponseURL. */
export interface CloudFormationResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly NoEcho?: boolean;
  readonly Data?: Readonly<Record<string, unknown>>;
}

/** CloudFormation's limit on a custom resource response body. */
export const MAX_RESPONSE_BYTES = 4096;

export function requestFor(r: {
  readonly requestType: RequestType;
  readonly stackId: string;
  readonly logicalId: string;
  readonly resourceType: string;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly oldProperties?: Readonly<Record<string, unknown>>;
  readonly physicalId?: string;
  readonly region: string;
  /** Base URL of the endpoint that takes the response (see `LocalResponseEndpoint`). */
  readonly responseEndpoint: string;
}): CloudFormationRequest {
  const requestId = randomUUID();
  return {
    RequestType: r.requestType,
    ServiceToken: String(r.properties.ServiceToken),
    ResponseURL: responseUrl(r.responseEndpoint, r.region, r.stackId, r.logicalId, requestId),
    StackId: r.stackId,
    RequestId: requestId,
    LogicalResourceId: r.logicalId,
    ResourceType: r.resourceType,
    ...(r.requestType === 'Create' ? {} : { PhysicalResourceId: r.physicalId }),
    ResourceProperties: r.properties,
    ...(r.requestType === 'Update' ? { OldResourceProperties: r.oldProperties } : {}),
  };
}

/**
 * A pre-signed S3 URL shaped like CloudFormation's, with a fresh signature, on
 * the local endpoint: path-style (the bucket is the path's first segment),
 * then the key and the signature's query as S3 has them.
 */
export function responseUrl(endpoint: string, region: string, stackId: string, logicalId: string, requestId: string): string {
  const key = `${encodeURIComponent(stackId).replace(/%2F/g, '/')}%7C${logicalId}%7C${requestId}`;
  const query = new URLSearchParams({
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Date': '20240101T000000Z',
    'X-Amz-SignedHeaders': 'host',
    'X-Amz-Expires': '7200',
    'X-Amz-Credential': `AKIA6LOCALRESPONSE00/20240101/${region}/s3/aws4_request`,
    'X-Amz-Signature': randomBytes(32).toString('hex'),
  });
  return `${endpoint}/cloudformation-custom-resource-response-${region.replace(/-/g, '')}/${key}?${query}`;
}

/** CloudFormation passes every scalar of a custom resource's properties as a string. */
export function stringifyLeaves(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(stringifyLeaves);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stringifyLeaves(v)]));
  }
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

/**
 * What CloudFormation would not accept about the answers to one request (an
 * empty list when it got one good answer in time).
 *
 * `responses` are the bodies of the successful PUTs (200), in order; failed
 * attempts (a 5xx, a dropped connection) wrote nothing and are not in it.
 * CloudFormation reads the object the last one wrote, once: several are
 * harmless only when their bodies are byte-identical. `elapsedSeconds` is the
 * time of the first.
 */
export function violations(r: {
  readonly request: CloudFormationRequest;
  readonly responses: readonly string[];
  readonly elapsedSeconds: number;
  readonly serviceTimeoutSeconds: number;
  readonly attributesRead: readonly string[];
}): string[] {
  if (r.responses.length === 0) {
    return [`no response: CloudFormation would wait ${r.serviceTimeoutSeconds} s (ServiceTimeout) and fail the resource`];
  }
  const problems: string[] = [];
  const distinct = new Set(r.responses);
  if (distinct.size > 1) {
    problems.push(`answers differ: ${r.responses.length} successful PUTs with ${distinct.size} different bodies (which one CloudFormation reads depends on when it reads)`);
  }
  const body = r.responses[r.responses.length - 1];
  const bytes = Buffer.byteLength(body);
  if (bytes > MAX_RESPONSE_BYTES) {
    problems.push(`response of ${bytes} bytes: over CloudFormation's ${MAX_RESPONSE_BYTES}-byte limit ("Response object is too long")`);
  }
  if (r.elapsedSeconds > r.serviceTimeoutSeconds) {
    problems.push(`response after ${r.elapsedSeconds} s: CloudFormation failed the resource at its ServiceTimeout of ${r.serviceTimeoutSeconds} s`);
  }
  let response: CloudFormationResponse;
  try {
    response = JSON.parse(body) as CloudFormationResponse;
  } catch {
    return [...problems, 'the response body is not JSON'];
  }
  if (response.Status !== 'SUCCESS' && response.Status !== 'FAILED') {
    problems.push(`Status ${String(response.Status)} is neither SUCCESS nor FAILED`);
  }
  for (const field of ['StackId', 'RequestId', 'LogicalResourceId'] as const) {
    if (response[field] !== r.request[field]) {
      problems.push(`${field} ${String(response[field])} is not the request's (${r.request[field]})`);
    }
  }
  if (typeof response.PhysicalResourceId !== 'string' || response.PhysicalResourceId === '') {
    problems.push('no PhysicalResourceId');
  }
  if (response.Status === 'SUCCESS' && r.request.RequestType !== 'Delete') {
    const missing = r.attributesRead.filter((a) => !(a in (response.Data ?? {})));
    if (missing.length > 0) {
      problems.push(`Data lacks ${missing.join(', ')}, which the template reads with Fn::GetAtt ("Vendor response doesn't contain ${missing[0]} key")`);
    }
  }
  return problems;
}
