import { randomUUID } from 'crypto';
import * as http from 'http';
import { ProtonError } from './errors';

/** `X-Amz-Target` prefix of Proton's operations (AWS JSON 1.0). */
const TARGET_PREFIX = 'AwsProton20200720.';
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';
/** Name constraint of Proton's API reference (1 to 100 characters). */
const NAME_PATTERN = /^[0-9A-Za-z]+[0-9A-Za-z_-]*$/;

/** An AWS JSON 1.0 request as received. */
export interface WireRequest {
  /** Operation name from `X-Amz-Target` (the raw header when it is not a Proton target). */
  readonly operation: string;
  /** True for `POST` with an `AwsProton20200720.*` target. */
  readonly isProtonCall: boolean;
  /** The body as a JSON object (an empty body is `{}`), or undefined when it is not one. */
  readonly input?: Record<string, unknown>;
  /** The body as text. */
  readonly raw: string;
  /** Access key id from the SigV4 `Authorization` header, if signed. */
  readonly accessKeyId?: string;
}

/** Reads and parses a request. */
export async function readRequest(req: http.IncomingMessage): Promise<WireRequest> {
  let raw = '';
  for await (const chunk of req) {
    raw += chunk;
  }
  const target = String(req.headers['x-amz-target'] ?? '');
  const isProtonCall = req.method === 'POST' && target.startsWith(TARGET_PREFIX);
  return {
    operation: isProtonCall ? target.slice(TARGET_PREFIX.length) : target,
    isProtonCall,
    input: parseObject(raw),
    raw,
    accessKeyId: accessKeyIdOf(req.headers.authorization),
  };
}

/**
 * Sends a JSON answer, with the `x-amzn-RequestId` header AWS always sets; error answers carry
 * their name both as `__type` in the body and as `x-amzn-ErrorType` (the SDK reads either).
 *
 * @returns false when the caller is gone (it timed out, or the endpoint shut down meanwhile)
 */
export function sendJson(res: http.ServerResponse, status: number, payload: unknown, errorType?: string): boolean {
  if (res.destroyed || !res.writable) {
    return false;
  }
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'Content-Type': JSON_CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': randomUUID(),
    ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
  });
  res.end(body);
  return true;
}

/** Sends a Proton error answer; see `sendJson`. */
export function sendError(res: http.ServerResponse, error: ProtonError): boolean {
  return sendJson(res, error.status, { __type: error.type, message: error.message }, error.type);
}

/** A bare 503 with an HTML body, as a load balancer in front of a service sends it. */
export function sendUnavailable(res: http.ServerResponse): void {
  res.writeHead(503, { 'Content-Type': 'text/html' });
  res.end('<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>\n');
}

/** A 200 whose body is cut short: not valid JSON. */
export function sendMalformed(res: http.ServerResponse): void {
  res.writeHead(200, { 'Content-Type': JSON_CONTENT_TYPE, 'x-amzn-RequestId': randomUUID() });
  res.end('{"service": {"name": "trunc');
}

/** The service a call is about (`name` or `serviceName`), for per-service faults. */
export function serviceNameOf(input: Record<string, unknown> | undefined): string | undefined {
  const name = input?.name ?? input?.serviceName;
  return typeof name === 'string' ? name : undefined;
}

/** A required name member, checked as Proton's API does (AWS's validation message format). */
export function requireName(input: Record<string, unknown>, member: string): string {
  const value = input[member];
  if (value === undefined || value === null) {
    throw new ProtonError('ValidationException',
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`);
  }
  if (typeof value !== 'string' || value.length > 100 || !NAME_PATTERN.test(value)) {
    throw new ProtonError('ValidationException', `1 validation error detected: Value '${String(value)}' at '${member}' `
      + `failed to satisfy constraint: Member must satisfy regular expression pattern: ${NAME_PATTERN.source} (length 1 to 100)`);
  }
  return value;
}

function parseObject(raw: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = raw.trim() === '' ? {} : JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

/** Access key id from `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/proton/aws4_request, ...`. */
function accessKeyIdOf(authorization: string | undefined): string | undefined {
  return authorization ? /Credential=([^/,\s]+)\//.exec(authorization)?.[1] : undefined;
}
