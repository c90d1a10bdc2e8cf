/** One POST of a webhook message; the adapter owns HTTP, the dispatcher owns retries and order. */
export interface WebhookRequest {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

/** Resolves when the receiver accepted the message (2xx); rejects with a WebhookDeliveryError otherwise. */
export interface WebhookTransport {
  post(request: WebhookRequest): Promise<void>;
}

export const WEBHOOK_TRANSPORT = Symbol('WebhookTransport');

/** Why one attempt failed, without the URL's credentials (the message is logged). */
export class WebhookDeliveryError extends Error {
  constructor(
    message: string,
    /** HTTP status when the receiver answered; null for a network error or a timeout. */
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'WebhookDeliveryError';
  }
}
