import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header a receiver checks: HMAC-SHA256 of the raw request body with the webhook's secret. */
export const SIGNATURE_HEADER = 'X-CrowdLens-Signature';

/** `sha256=<hex>` of the exact bytes sent: a receiver must verify the raw body, before parsing it. */
export function signWebhookBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** What a receiver does (docs/alerts.md has the same check for other languages); constant-time. */
export function verifyWebhookSignature(secret: string, body: string | Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signWebhookBody(secret, body));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}
