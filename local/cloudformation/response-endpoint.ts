/**
 * A local stand-in for the S3 pre-signed URLs CloudFormation gives custom
 * resource providers (`ResponseURL`): it captures every request made to an
 * open URL (method, Content-Length, body, emulated time) so that the
 * lifecycle can check the response as CloudFormation would take it, and
 * answers as S3 does: 200 to a PUT, 403 to another method (the URL is signed
 * for a PUT), and 403 to a URL it did not hand out.
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
}

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
      const headers = { 'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(), 'Date': new Date(this.clock.nowMs()).toUTCString() };
      if (code) {
        res.writeHead(status, { ...headers, 'Content-Type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
      } else {
        res.writeHead(status, { ...headers, ETag: `"${randomBytes(16).toString('hex')}"`, 'Content-Length': '0' });
        res.end();
      }
    };
    if (!captured) {
      this.refused.push({ method: req.method, path });
      return answer(403, 'AccessDenied', 'Access Denied');
    }
    captured.push({ method: req.method, contentLength: req.headers['content-length'], body, atMs: this.clock.nowMs() });
    if (req.method !== 'PUT') {
      return answer(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    return answer(200);
  }
}

/** Path and query of a URL: what identifies a pre-signed URL here. */
function keyOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}
