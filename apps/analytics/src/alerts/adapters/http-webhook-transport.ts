import { redactText } from '@crowdlens/config';
import { WebhookDeliveryError, type WebhookRequest, type WebhookTransport } from './webhook-transport.port';

/** Node's fetch: a deadline per attempt, redirects refused (a POST must not turn into a GET elsewhere). */
export class HttpWebhookTransport implements WebhookTransport {
  async post(req: WebhookRequest): Promise<void> {
    let res: Response;
    try {
      res = await fetch(req.url, {
        method: 'POST',
        headers: req.headers,
        body: req.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(req.timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why =
        e.name === 'TimeoutError'
          ? `no answer within ${req.timeoutMs} ms`
          : (e.cause?.code ?? e.cause?.message ?? e.message);
      throw new WebhookDeliveryError(redactText(why), null);
    }
    // The body is not needed; reading it frees the connection.
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status >= 300)
      throw new WebhookDeliveryError(`receiver answered HTTP ${res.status}`, res.status);
  }
}
