/**
 * A real HTTP webhook receiver for the alert tests: keeps every request's raw
 * body and CrowdLens headers; answers with the status `answer` picks for the
 * n-th request (200 by default).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  readonly body: string;
  readonly signature: string | undefined;
  readonly delivery: string | undefined;
  readonly status: number;
  readonly at: number;
}

export class WebhookReceiver {
  readonly requests: ReceivedWebhook[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(answer: (n: number) => number = () => 200): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | null = null;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const requests = (receiver as WebhookReceiver).requests;
        const status = answer(requests.length);
        requests.push({
          body: Buffer.concat(chunks).toString('utf8'),
          signature: req.headers['x-crowdlens-signature'] as string | undefined,
          delivery: req.headers['x-crowdlens-delivery'] as string | undefined,
          status,
          at: Date.now(),
        });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    receiver = new WebhookReceiver(
      server,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/crowdlens`,
    );
    return receiver;
  }

  /** Bodies of the requests answered 2xx, parsed. */
  accepted<T>(): T[] {
    return this.requests.filter((r) => r.status >= 200 && r.status < 300).map((r) => JSON.parse(r.body) as T);
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}
