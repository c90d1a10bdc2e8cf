import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhookBody, verifyWebhookSignature } from './webhook-signature';

describe('webhook signature', () => {
  const secret = 'a-long-webhook-secret';
  const body = '{"rule":"door-down","state":"firing"}';

  it('is sha256=<hex HMAC-SHA256 of the raw body>', () => {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    expect(signWebhookBody('Jefe', 'what do ya want for nothing?')).toBe(
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    expect(signWebhookBody(secret, body)).toBe(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  });

  it('verifies the exact bytes only, with the right secret only', () => {
    const sig = signWebhookBody(secret, body);
    expect(verifyWebhookSignature(secret, body, sig)).toBe(true);
    expect(verifyWebhookSignature(secret, Buffer.from(body), sig)).toBe(true);
    // Re-serialised JSON is other bytes: receivers must check the raw body.
    expect(verifyWebhookSignature(secret, JSON.stringify(JSON.parse(body), null, 1), sig)).toBe(false);
    expect(verifyWebhookSignature(`${secret}x`, body, sig)).toBe(false);
    expect(verifyWebhookSignature(secret, body, sig.replace('sha256=', 'sha1='))).toBe(false);
    expect(verifyWebhookSignature(secret, body, undefined)).toBe(false);
    expect(verifyWebhookSignature(secret, body, 'sha256=')).toBe(false);
  });
});
