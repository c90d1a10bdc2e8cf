import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthConfig } from '@crowdlens/config';
import { LoginThrottle } from './login-throttle';
import { verifyPasswordAsync } from './password-hash';
import type { Principal } from './roles';
import { TokenSigner } from './token-signer';

export const AUTH_COOKIE = 'crowdlens_token';

export interface Credentials {
  readonly authorization?: string | undefined;
  readonly apiKey?: string | undefined;
  readonly cookie?: string | undefined;
}

export interface LoginResult {
  readonly token: string;
  readonly principal: Principal;
  readonly expiresAt: number;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k !== name) continue;
    try {
      return decodeURIComponent(v.join('='));
    } catch {
      return undefined; // a malformed escape (%E0%A4%A) is no token: 401, not a 500
    }
  }
  return undefined;
}

/** Who is calling: a login token (header or cookie) or an API key. Plain class, no HTTP. */
export class Authenticator {
  readonly enabled: boolean;
  private readonly signer: TokenSigner;
  /** Token ids logged out, with their expiry (after which the signature check refuses them anyway). */
  private readonly revoked = new Map<string, number>();

  constructor(
    private readonly config: AuthConfig,
    private readonly throttle = new LoginThrottle(),
  ) {
    this.enabled = !config.disabled && (config.users.length > 0 || config.apiKeys.length > 0);
    this.signer = new TokenSigner(config.tokenSecret);
  }

  /**
   * Checks a password off the event loop; null for a wrong one. Throws
   * LoginThrottledError while the username or the client must wait after
   * repeated failures, or too many logins run at once.
   */
  async login(username: string, password: string, client = 'unknown', now = Date.now): Promise<LoginResult | null> {
    const user = this.config.users.find((u) => u.username === username);
    // Verify against a dummy hash when the user is unknown so timing does not reveal usernames.
    const ok = await this.throttle.run(
      [`user:${username}`, `ip:${client}`],
      async () => (await verifyPasswordAsync(password, user?.passwordHash ?? DUMMY_HASH)) && user !== undefined,
      now,
    );
    if (!ok || !user) return null;
    const expiresAt = now() + this.config.tokenTtlMinutes * 60_000;
    return {
      token: this.signer.sign({ sub: user.username, role: user.role, exp: expiresAt }),
      principal: { name: user.username, role: user.role, via: 'token' },
      expiresAt,
    };
  }

  authenticate(creds: Credentials, now = Date.now()): Principal | null {
    // Without auth the caller may be any web page the browser visits: no admin API unless the config asks for it.
    if (!this.enabled)
      return { name: 'anonymous', role: this.config.adminWithoutAuth ? 'admin' : 'operator', via: 'auth-disabled' };
    const bearer = creds.authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
    const key = creds.apiKey ?? bearer;
    if (key) {
      const digest = sha256(key);
      const match = this.config.apiKeys.find((k) => timingSafeEqual(Buffer.from(k.keySha256, 'hex'), digest));
      if (match) return { name: match.name, role: match.role, via: 'api-key' };
    }
    const token = bearer ?? cookieValue(creds.cookie, AUTH_COOKIE);
    const claims = token ? this.signer.verify(token, now) : null;
    if (!claims || this.revoked.has(claims.jti)) return null;
    // The user as configured now: one removed from the config is logged out, a changed role applies at once.
    const user = this.config.users.find((u) => u.username === claims.sub);
    return user ? { name: user.username, role: user.role, via: 'token' } : null;
  }

  /**
   * Revokes a login token until it would have expired anyway. In this process
   * only: processes that share auth.tokenSecret each keep their own list.
   */
  logout(creds: Pick<Credentials, 'authorization' | 'cookie'>, now = Date.now()): void {
    const bearer = creds.authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
    const token = bearer ?? cookieValue(creds.cookie, AUTH_COOKIE);
    const claims = token ? this.signer.verify(token, now) : null;
    for (const [jti, exp] of this.revoked) if (exp <= now) this.revoked.delete(jti);
    if (claims) this.revoked.set(claims.jti, claims.exp);
  }
}

const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
