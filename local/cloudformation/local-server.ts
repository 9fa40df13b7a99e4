/**
 * The HTTP server under each local endpoint (CloudFormation, Step Functions,
 * response URLs): on 127.0.0.1, a free port, each request handed over with its
 * whole body.
 */
import * as http from 'http';
import { AddressInfo } from 'net';

/** Handles one request, its body read whole (UTF-8). */
export type RequestHandler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;

export class LocalServer {
  /** Starts listening on a free port of 127.0.0.1. */
  static async start(handle: RequestHandler): Promise<LocalServer> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => handle(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new LocalServer(server);
  }

  private constructor(private readonly server: http.Server) {}

  /** Base URL: `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Stops listening and closes every connection. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}
