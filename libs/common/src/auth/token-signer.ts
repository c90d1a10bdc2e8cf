import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { UserRole } from '@crowdlens/config';

export interface TokenClaims {
  readonly sub: string;
  readonly role: UserRole;
  /** Expiry, epoch ms. */
  readonly exp: number;
}

/** Compact HMAC-SHA256 tokens (payload.signature, base64url). Enough for one product's own sessions. */
export class TokenSigner {
  private readonly secret: Buffer;

  constructor(secret?: string) {
    this.secret = secret ? Buffer.from(secret) : randomBytes(32);
  }

  sign(claims: TokenClaims): string {
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  verify(token: string, now = Date.now()): TokenClaims | null {
    const [payload, sig] = token.split('.');
    if (!payload || !sig) return null;
    const expected = Buffer.from(this.mac(payload));
    const actual = Buffer.from(sig);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as TokenClaims;
      return typeof claims.exp === 'number' && claims.exp > now ? claims : null;
    } catch {
      return null;
    }
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}
