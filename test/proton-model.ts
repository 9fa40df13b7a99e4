/**
 * Checks AWS JSON 1.0 responses against a botocore service model (`service-2.json`): the
 * published description of a service's operations, shapes and errors that boto3 and the AWS CLI
 * are built from. Used by the conformance tests of the local Proton endpoint.
 */
import { spawnSync } from 'child_process';
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { gunzipSync } from 'zlib';

/** Debian's Python, where python3-botocore and python3-boto3 live; `PYTHON` overrides it. */
export const PYTHON = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

/** What the conformance tests need of Python, and how to install it. */
export const INSTALL_HINT = 'Install it: apt-get update && apt-get install -y --no-install-recommends python3-botocore python3-boto3 '
  + '(or pip install boto3, which brings botocore; set PYTHON to that Python)';

/**
 * The directory of a Python package as the installed Python imports it (Debian's python3-botocore
 * or pip's botocore alike); fails with the install hint when it cannot be imported.
 *
 * @param why what the tests need it for, e.g. 'boto3 is the second client of the local endpoint'
 */
export function pythonPackageDir(module: 'botocore' | 'boto3', why: string): string {
  const run = spawnSync(PYTHON, ['-c', `import os, ${module}; print(os.path.dirname(${module}.__file__))`], { encoding: 'utf8' });
  if (run.status !== 0) {
    throw new Error(`${PYTHON} cannot import ${module}: ${why}. ${INSTALL_HINT}`);
  }
  return run.stdout.trim();
}

/** Where the installed botocore keeps AWS's published Proton model. */
export function protonModelFile(): string {
  const botocore = pythonPackageDir('botocore', 'the conformance tests check the local endpoint against AWS\'s published Proton model, which botocore ships');
  return path.join(botocore, 'data', 'proton', '2020-07-20', 'service-2.json');
}

/** One shape of a botocore model (the members the checks read). */
export interface Shape {
  readonly type: string;
  readonly required?: readonly string[];
  readonly members?: Readonly<Record<string, { readonly shape: string }>>;
  readonly member?: { readonly shape: string };
  readonly key?: { readonly shape: string };
  readonly value?: { readonly shape: string };
  readonly enum?: readonly string[];
  readonly pattern?: string;
  readonly min?: number;
  readonly max?: number;
  readonly timestampFormat?: string;
  readonly exception?: boolean;
  readonly fault?: boolean;
  readonly error?: { readonly code?: string; readonly httpStatusCode?: number; readonly senderFault?: boolean };
}

/** A botocore service model. */
export interface ServiceModel {
  readonly metadata: { readonly protocol: string; readonly jsonVersion?: string; readonly targetPrefix?: string };
  readonly operations: Readonly<Record<string, {
    readonly output?: { readonly shape: string };
    readonly errors?: ReadonlyArray<{ readonly shape: string }>;
  }>>;
  readonly shapes: Readonly<Record<string, Shape>>;
}

/** A response as received on the wire. */
export interface WireResponse {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * Errors of the AWS JSON protocol itself, which no service model lists: an `X-Amz-Target` the
 * service does not know, and a body that is not JSON. AWS answers both with 400.
 */
export const PROTOCOL_ERRORS: Readonly<Record<string, number>> = {
  UnknownOperationException: 400,
  SerializationException: 400,
};

/**
 * Reads a model (by default the installed botocore's Proton model; newer botocore releases keep
 * it gzipped); fails with the install hint when it is absent.
 */
export function loadModel(file = protonModelFile()): ServiceModel {
  if (existsSync(file)) {
    return JSON.parse(readFileSync(file, 'utf8')) as ServiceModel;
  }
  if (existsSync(`${file}.gz`)) {
    return JSON.parse(gunzipSync(readFileSync(`${file}.gz`)).toString('utf8')) as ServiceModel;
  }
  throw new Error(`${file} not found: the conformance tests check the local endpoint against AWS's published Proton model, which botocore ships. ${INSTALL_HINT}`);
}

/**
 * Everything in `response` to `operation` that departs from `model`, one line per violation
 * (empty: the response conforms).
 */
export function responseViolations(model: ServiceModel, operation: string | undefined, response: WireResponse): string[] {
  const out: string[] = [];
  const contentType = response.headers['content-type'];
  const expectedType = `application/x-amz-json-${model.metadata.jsonVersion ?? '1.0'}`;
  if (contentType !== expectedType) {
    out.push(`Content-Type is ${contentType}, not ${expectedType}`);
  }
  if (!response.headers['x-amzn-requestid']) {
    out.push('no x-amzn-RequestId header');
  }
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    return [...out, `body is not JSON: ${response.body.slice(0, 80)}`];
  }
  if (response.status === 200) {
    return [...out, ...outputViolations(model, operation, body)];
  }
  return [...out, ...errorViolations(model, operation, response.status, body, response.headers['x-amzn-errortype'])];
}

/** Violations of an operation's output shape by `body`. */
export function outputViolations(model: ServiceModel, operation: string | undefined, body: unknown): string[] {
  const op = operation === undefined ? undefined : model.operations[operation];
  if (!op) {
    return [`a 200 answer to ${operation ?? 'a call without operation'}, which is not an operation of the model`];
  }
  return op.output ? shapeViolations(model, op.output.shape, body, '$') : isEmptyObject(body, '$');
}

/**
 * Violations of the error answer `body` with HTTP `status`: `__type` names an error the operation
 * lists (or a protocol error), the body matches the error's shape, and the status is the error's:
 * the model's `error.httpStatusCode` if it gives one, else a 5xx for a `fault` (server) error and
 * a 4xx for any other. `errorTypeHeader`, if present, must name the same error.
 */
export function errorViolations(model: ServiceModel, operation: string | undefined, status: number, body: unknown,
  errorTypeHeader?: string): string[] {
  if (!isObject(body)) {
    return [`error body is not a JSON object: ${JSON.stringify(body)}`];
  }
  const type = body.__type;
  if (typeof type !== 'string') {
    return [`error body has no string __type: ${JSON.stringify(body)}`];
  }
  // `__type` may carry a namespace (`aws.proton#ThrottlingException`); the SDKs use the part after '#'.
  const name = shortName(type);
  const out: string[] = [];
  if (errorTypeHeader !== undefined && shortName(errorTypeHeader.split(':')[0]) !== name) {
    out.push(`x-amzn-ErrorType ${errorTypeHeader} differs from __type ${type}`);
  }
  const { __type: _, ...members } = body;
  if (name in PROTOCOL_ERRORS) {
    if (status !== PROTOCOL_ERRORS[name]) {
      out.push(`${name} has HTTP status ${status}, not ${PROTOCOL_ERRORS[name]}`);
    }
    if (typeof members.message !== 'string') {
      out.push(`${name} has no string message`);
    }
    return out;
  }
  const shape = model.shapes[name];
  if (!shape?.exception) {
    return [...out, `__type ${type} is not an error of the model`];
  }
  const op = operation === undefined ? undefined : model.operations[operation];
  if (!op?.errors?.some((e) => e.shape === name)) {
    out.push(`${name} is not an error of ${operation ?? 'a call without operation'} in the model`);
  }
  const expected = shape.error?.httpStatusCode;
  if (expected !== undefined ? status !== expected : shape.fault ? !(status >= 500 && status <= 599) : !(status >= 400 && status <= 499)) {
    out.push(`${name} has HTTP status ${status}, not ${expected ?? (shape.fault ? 'a server error (5xx)' : 'a client error (4xx)')}`);
  }
  return [...out, ...shapeViolations(model, name, members, '$')];
}

/** Violations of the shape `shapeName` by `value`, at the JSON path `path`. */
export function shapeViolations(model: ServiceModel, shapeName: string, value: unknown, path: string): string[] {
  const shape = model.shapes[shapeName];
  if (!shape) {
    return [`${path}: shape ${shapeName} is not in the model`];
  }
  switch (shape.type) {
    case 'structure':
      return structureViolations(model, shapeName, shape, value, path);
    case 'list':
      if (!Array.isArray(value)) {
        return [`${path}: ${shapeName} must be a JSON array, got ${describe(value)}`];
      }
      return [...lengthViolations(shape, value.length, path, 'items'),
        ...value.flatMap((v, i) => shapeViolations(model, shape.member!.shape, v, `${path}[${i}]`))];
    case 'map':
      if (!isObject(value)) {
        return [`${path}: ${shapeName} must be a JSON object, got ${describe(value)}`];
      }
      return [...lengthViolations(shape, Object.keys(value).length, path, 'entries'),
        ...Object.entries(value).flatMap(([k, v]) => [...shapeViolations(model, shape.key!.shape, k, `${path} key ${k}`),
          ...shapeViolations(model, shape.value!.shape, v, `${path}.${k}`)])];
    case 'string':
      return stringViolations(shapeName, shape, value, path);
    case 'timestamp':
      return timestampViolations(shapeName, shape, value, path);
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: ${shapeName} must be a boolean, got ${describe(value)}`];
    case 'integer':
    case 'long':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        return [`${path}: ${shapeName} must be an integer, got ${describe(value)}`];
      }
      return rangeViolations(shape, value, path);
    case 'float':
    case 'double':
      return typeof value === 'number' ? rangeViolations(shape, value, path) : [`${path}: ${shapeName} must be a number, got ${describe(value)}`];
    default:
      return [`${path}: shape type ${shape.type} of ${shapeName} is not checked by this validator`];
  }
}

function structureViolations(model: ServiceModel, shapeName: string, shape: Shape, value: unknown, path: string): string[] {
  if (!isObject(value)) {
    return [`${path}: ${shapeName} must be a JSON object, got ${describe(value)}`];
  }
  const members = shape.members ?? {};
  const out: string[] = [];
  for (const name of shape.required ?? []) {
    if (value[name] === undefined || value[name] === null) {
      out.push(`${path}.${name}: required member of ${shapeName} is missing`);
    }
  }
  for (const [name, v] of Object.entries(value)) {
    const member = members[name];
    if (!member) {
      out.push(`${path}.${name}: ${shapeName} has no member ${name}`);
    } else if (v !== null) {
      out.push(...shapeViolations(model, member.shape, v, `${path}.${name}`));
    }
  }
  return out;
}

function stringViolations(shapeName: string, shape: Shape, value: unknown, path: string): string[] {
  if (typeof value !== 'string') {
    return [`${path}: ${shapeName} must be a string, got ${describe(value)}`];
  }
  const out: string[] = [];
  if (shape.enum && !shape.enum.includes(value)) {
    out.push(`${path}: '${value}' is not a value of ${shapeName} (${shape.enum.join(', ')})`);
  }
  // Lengths count characters (code points), as Smithy's length trait does.
  out.push(...lengthViolations(shape, [...value].length, path, 'characters'));
  // Smithy's pattern trait is a search, not a whole match: the model's patterns anchor themselves.
  if (shape.pattern !== undefined && !new RegExp(shape.pattern, 'u').test(value)) {
    out.push(`${path}: '${truncate(value)}' does not match the pattern of ${shapeName}: ${shape.pattern}`);
  }
  return out;
}

/**
 * The JSON protocol's timestamps are epoch seconds as JSON numbers (fractions allowed), unless the
 * shape names another format.
 */
function timestampViolations(shapeName: string, shape: Shape, value: unknown, path: string): string[] {
  switch (shape.timestampFormat ?? 'unixTimestamp') {
    case 'unixTimestamp':
      return typeof value === 'number' && Number.isFinite(value) ? []
        : [`${path}: ${shapeName} must be epoch seconds as a JSON number, got ${describe(value)}`];
    case 'iso8601':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? []
        : [`${path}: ${shapeName} must be an ISO 8601 date-time string, got ${describe(value)}`];
    default:
      return [`${path}: timestamp format ${shape.timestampFormat} of ${shapeName} is not checked by this validator`];
  }
}

function lengthViolations(shape: Shape, length: number, path: string, unit: string): string[] {
  const out: string[] = [];
  if (shape.min !== undefined && length < shape.min) {
    out.push(`${path}: ${length} ${unit}, fewer than the minimum ${shape.min}`);
  }
  if (shape.max !== undefined && length > shape.max) {
    out.push(`${path}: ${length} ${unit}, more than the maximum ${shape.max}`);
  }
  return out;
}

function rangeViolations(shape: Shape, value: number, path: string): string[] {
  const out: string[] = [];
  if (shape.min !== undefined && value < shape.min) {
    out.push(`${path}: ${value} is below the minimum ${shape.min}`);
  }
  if (shape.max !== undefined && value > shape.max) {
    out.push(`${path}: ${value} is above the maximum ${shape.max}`);
  }
  return out;
}

/** An error name without its namespace: `aws.proton#ThrottlingException` is `ThrottlingException`. */
function shortName(type: string): string {
  return type.slice(type.lastIndexOf('#') + 1);
}

function isEmptyObject(value: unknown, path: string): string[] {
  return isObject(value) && Object.keys(value).length === 0 ? [] : [`${path}: an operation without output answers {}, got ${describe(value)}`];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return truncate(JSON.stringify(value) ?? String(value));
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
