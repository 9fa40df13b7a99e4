/**
 * A local stand-in for the S3 pre-signed URLs CloudFormation gives custom
 * resource providers (`ResponseURL`): it captures every request made to an
 * open URL (method, Content-Length, body, emulated time, status answered) so
 * that the lifecycle can check the response as CloudFormation would take it,
 * and answers as S3 does: 200 to a PUT, 403 to another method (the URL is
 * signed for a PUT), and 403 to a URL it did not hand out. It can be told to
 * fail PUTs as S3 does now and then (`failPuts`): 503 `SlowDown`, 500
 * `InternalError`, or a connection closed without an answer; such a PUT
 * writes nothing.
 */
import { randomBytes } from 'crypto';
import * as http from 'http';
import { Clock } from './clock';
import { LocalServer } from './local-server';

/** One request made to a response URL. */
export interface CapturedResponse {
  readonly method?: string;
  /** The Content-Length header, as sent (undefined when there was none). */
  readonly contentLength?: string;
  readonly body: string;
  /** Emulated time, epoch milliseconds. */
  readonly atMs: number;
  /** HTTP status answered, or `'dropped'` when the connection was closed without one. */
  readonly status: number | 'dropped';
}

/** What S3 answers a PUT that a fault hits. */
export type ResponseFaultAnswer = 'SlowDown' | 'InternalError' | 'drop';

/** PUTs to fail: the first `times` that match, or every one in a span of emulated time. */
export interface ResponseFault {
  /** 503 `SlowDown`, 500 `InternalError`, or the connection closed without an answer. */
  readonly answer: ResponseFaultAnswer;
  /**
   * PUTs it fails (`Infinity`: all that match).
   *
   * @default 1, or every matching PUT in the span when `untilMs` is given
   */
  readonly times?: number;
  /** Emulated time (epoch ms) from which it applies. @default - now */
  readonly fromMs?: number;
  /** Emulated time (epoch ms) from which it no longer applies. @default - no end */
  readonly untilMs?: number;
  /** Only PUTs to this URL, or to URLs the function accepts. @default - any open URL */
  readonly url?: string | ((url: string) => boolean);
  /** Only PUTs to the response URLs of this custom resource. @default - any resource */
  readonly logicalId?: string;
}

/** S3's error answers to a PUT that a fault hits. */
const FAULT_ERRORS: Record<Exclude<ResponseFaultAnswer, 'drop'>, { status: number; message: string }> = {
  SlowDown: { status: 503, message: 'Please reduce your request rate.' },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
};

export class LocalResponseEndpoint {
  static async start(clock: Clock): Promise<LocalResponseEndpoint> {
    const endpoint = new LocalResponseEndpoint(clock);
    endpoint.server = await LocalServer.start((req, body, res) => endpoint.handle(req, body, res));
    return endpoint;
  }

  /** Requests to URLs that were never open, or no longer are (answered 403). */
  readonly refused: Array<{ readonly method?: string; readonly path: string }> = [];
  private server!: LocalServer;
  /** Captured requests by path and query of each open URL. */
  private readonly open = new Map<string, CapturedResponse[]>();
  private faults: Array<{ readonly fault: ResponseFault; readonly fromMs: number; remaining: number }> = [];

  private constructor(private readonly clock: Clock) {}

  /** Base URL of the endpoint, for the response URLs. */
  get endpoint(): string {
    return this.server.url;
  }

  /**
   * Opens a response URL of this endpoint: from now on, each request to it is
   * captured in the returned list.
   */
  expect(url: string): readonly CapturedResponse[] {
    const key = keyOf(url);
    const captured = this.open.get(key) ?? [];
    this.open.set(key, captured);
    return captured;
  }

  /**
   * Fails PUTs to open response URLs, as S3 does now and then: each fault
   * hits the PUTs that match it, in the order the faults were given.
   */
  failPuts(fault: ResponseFault): void {
    const times = fault.times ?? (fault.untilMs === undefined ? 1 : Infinity);
    if (!(times >= 1)) {
      throw new Error(`response fault ${fault.answer}: times must be >= 1, got ${times}`);
    }
    this.faults.push({ fault, fromMs: fault.fromMs ?? this.clock.nowMs(), remaining: times });
  }

  /** Closes a response URL: later requests to it are refused. */
  close(url: string): void {
    this.open.delete(keyOf(url));
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }

  private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const path = keyOf(new URL(req.url ?? '/', this.endpoint).href);
    const captured = this.open.get(path);
    const answer = (status: number, code?: string, message?: string) => {
      const requestId = randomBytes(8).toString('hex').toUpperCase();
      const headers = { 'x-amz-request-id': requestId, 'Date': new Date(this.clock.nowMs()).toUTCString() };
      if (code) {
        res.writeHead(status, { ...headers, 'Content-Type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId></Error>`);
      } else {
        res.writeHead(status, { ...headers, ETag: `"${randomBytes(16).toString('hex')}"`, 'Content-Length': '0' });
        res.end();
      }
    };
    if (!captured) {
      this.refused.push({ method: req.method, path });
      return answer(403, 'AccessDenied', 'Access Denied');
    }
    const capture = (status: number | 'dropped') =>
      captured.push({ method: req.method, contentLength: req.headers['content-length'], body, atMs: this.clock.nowMs(), status });
    if (req.method !== 'PUT') {
      capture(403);
      return answer(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    const fault = this.takeFault(path);
    if (fault === 'drop') {
      capture('dropped');
      return void req.socket.destroy();
    }
    if (fault) {
      capture(FAULT_ERRORS[fault].status);
      return answer(FAULT_ERRORS[fault].status, fault, FAULT_ERRORS[fault].message);
    }
    capture(200);
    return answer(200);
  }

  /** The answer of the first fault that matches a PUT to this URL now, one of its times used up. */
  private takeFault(path: string): ResponseFaultAnswer | undefined {
    const nowMs = this.clock.nowMs();
    const url = `${this.endpoint}${path}`;
    const entry = this.faults.find(({ fault, fromMs }) => nowMs >= fromMs && (fault.untilMs === undefined || nowMs < fault.untilMs)
      && (fault.url === undefined || (typeof fault.url === 'string' ? keyOf(fault.url) === path : fault.url(url)))
      && (fault.logicalId === undefined || logicalIdOf(path) === fault.logicalId));
    if (!entry) {
      return undefined;
    }
    entry.remaining -= 1;
    if (entry.remaining <= 0) {
      this.faults = this.faults.filter((f) => f !== entry);
    }
    return entry.fault.answer;
  }
}

/** The logical id in a response URL's key (`<stack id>|<logical id>|<request id>`). */
function logicalIdOf(path: string): string | undefined {
  return decodeURIComponent(new URL(path, 'http://local').pathname).split('|')[1];
}

/** Path and query of a URL: what identifies a pre-signed URL here. */
function keyOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}
