import { describe, expect, it } from 'vitest';
import { AuthConfigSchema, type AuthConfig } from '@crowdlens/config';
import { AUTH_COOKIE, Authenticator } from './authenticator';
import { LoginThrottle, LoginThrottledError } from './login-throttle';
import { hashPassword } from './password-hash';
import { TokenSigner } from './token-signer';

const SECRET = 's'.repeat(32);
const ADA: AuthConfig['users'][number] = { username: 'ada', role: 'admin', passwordHash: hashPassword('ada-pass') };
const config = (users: AuthConfig['users'] = [ADA]): AuthConfig =>
  AuthConfigSchema.parse({ users, tokenSecret: SECRET });

describe('login tokens (item 8)', () => {
  it('are refused after logout, by bearer and by cookie', async () => {
    const auth = new Authenticator(config());
    const { token } = (await auth.login('ada', 'ada-pass'))!;
    expect(auth.authenticate({ authorization: `Bearer ${token}` })).toMatchObject({ name: 'ada' });
    auth.logout({ cookie: `${AUTH_COOKIE}=${token}` });
    expect(auth.authenticate({ authorization: `Bearer ${token}` })).toBeNull();
    expect(auth.authenticate({ cookie: `${AUTH_COOKIE}=${token}` })).toBeNull();
  });

  it('are refused once the user is removed from the config, and carry the role configured now', async () => {
    const { token } = (await new Authenticator(config()).login('ada', 'ada-pass'))!;
    const bob = { ...ADA, username: 'bob' };
    expect(new Authenticator(config([bob])).authenticate({ authorization: `Bearer ${token}` })).toBeNull();
    const demoted = new Authenticator(config([{ ...ADA, role: 'viewer' }]));
    expect(demoted.authenticate({ authorization: `Bearer ${token}` })).toMatchObject({ role: 'viewer' });
  });

  it('must be exactly payload.signature: an extra segment or stray characters are refused', () => {
    const signer = new TokenSigner(SECRET);
    const token = signer.sign({ sub: 'ada', role: 'admin', exp: Date.now() + 60_000 });
    expect(signer.verify(token)).toMatchObject({ sub: 'ada' });
    expect(signer.verify(`${token}.extra`)).toBeNull();
    expect(signer.verify(`${token}.`)).toBeNull();
    expect(signer.verify(` ${token}`)).toBeNull();
    const badRole = signer.sign({ sub: 'ada', role: 'root' as 'admin', exp: Date.now() + 60_000 });
    expect(signer.verify(badRole)).toBeNull();
  });
});

describe('login throttling (item 6)', () => {
  it('checks the password off the event loop', async () => {
    const auth = new Authenticator(config());
    let ticked = false;
    const login = auth.login('ada', 'ada-pass');
    setImmediate(() => (ticked = true));
    await login;
    // With a synchronous scrypt the answer was ready before any other callback could run.
    expect(ticked).toBe(true);
  });

  it('makes a username wait after repeated failures, twice as long each time, even with the right password', async () => {
    let t = 1_000_000;
    const now = () => t;
    const auth = new Authenticator(config());
    for (let i = 0; i < 5; i++) expect(await auth.login('ada', 'wrong', `10.0.0.${i}`, now)).toBeNull();
    expect(await auth.login('ada', 'wrong', '10.0.1.1', now)).toBeNull(); // 6th failure: 1 s wait
    await expect(auth.login('ada', 'ada-pass', '10.0.1.2', now)).rejects.toMatchObject({ retryAfterS: 1 });
    t += 1000;
    expect(await auth.login('ada', 'wrong', '10.0.1.3', now)).toBeNull(); // 7th: 2 s
    t += 1000;
    await expect(auth.login('ada', 'ada-pass', '10.0.1.4', now)).rejects.toBeInstanceOf(LoginThrottledError);
    t += 1000;
    expect(await auth.login('ada', 'ada-pass', '10.0.1.4', now)).not.toBeNull();
    // Success clears it.
    expect(await auth.login('ada', 'wrong', '10.0.1.5', now)).toBeNull();
    expect(await auth.login('ada', 'ada-pass', '10.0.1.6', now)).not.toBeNull();
  });

  it('makes a client address wait whatever usernames it tries', async () => {
    const t = 5_000_000;
    const auth = new Authenticator(config());
    for (let i = 0; i < 6; i++) expect(await auth.login(`user${i}`, 'x', '10.9.9.9', () => t)).toBeNull();
    await expect(auth.login('ada', 'ada-pass', '10.9.9.9', () => t)).rejects.toMatchObject({ reason: 'backoff' });
    expect(await auth.login('ada', 'ada-pass', '10.9.9.8', () => t)).not.toBeNull();
  });

  it('refuses logins beyond the concurrency cap at once', async () => {
    const throttle = new LoginThrottle({
      freeFailures: 5,
      baseDelayMs: 1000,
      maxDelayMs: 60_000,
      maxConcurrent: 2,
      maxKeys: 100,
    });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slow = async () => {
      await gate;
      return true;
    };
    const running = [throttle.run(['a'], slow), throttle.run(['b'], slow)];
    await expect(throttle.run(['c'], slow)).rejects.toMatchObject({ reason: 'busy' });
    release();
    await Promise.all(running);
    await expect(throttle.run(['c'], async () => true)).resolves.toBe(true);
  });
});
