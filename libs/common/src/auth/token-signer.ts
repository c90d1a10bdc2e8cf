import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { UserRoleSchema, type UserRole } from '@crowdlens/config';

export interface TokenClaims {
  readonly sub: string;
  readonly role: UserRole;
  /** Expiry, epoch ms. */
  readonly exp: number;
  /** Token id: what logout revokes. */
  readonly jti: string;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Compact HMAC-SHA256 tokens (payload.signature, base64url). Enough for one product's own sessions. */
export class TokenSigner {
  private readonly secret: Buffer;

  constructor(secret?: string) {
    this.secret = secret ? Buffer.from(secret) : randomBytes(32);
  }

  /** Signs the claims; a fresh token id is added when none is given. */
  sign(claims: Omit<TokenClaims, 'jti'> & { jti?: string }): string {
    const full: TokenClaims = { ...claims, jti: claims.jti ?? randomBytes(16).toString('base64url') };
    const payload = Buffer.from(JSON.stringify(full)).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The claims of a well-formed, correctly signed, unexpired token; null for anything else. */
  verify(token: string, now = Date.now()): TokenClaims | null {
    // Exactly two base64url parts: a third segment or stray characters are not "the same token".
    const parts = token.split('.');
    if (parts.length !== 2) return null;
    const [payload, sig] = parts as [string, string];
    if (!BASE64URL.test(payload) || !BASE64URL.test(sig)) return null;
    const expected = Buffer.from(this.mac(payload));
    const actual = Buffer.from(sig);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    } catch {
      return null;
    }
    if (!isClaims(claims)) return null;
    return claims.exp > now ? claims : null;
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}

function isClaims(value: unknown): value is TokenClaims {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return (
    typeof c.sub === 'string' &&
    UserRoleSchema.safeParse(c.role).success &&
    typeof c.exp === 'number' &&
    Number.isFinite(c.exp) &&
    typeof c.jti === 'string' &&
    c.jti.length > 0
  );
}
