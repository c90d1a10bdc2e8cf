import { describe, expect, it } from 'vitest';
import { describeListenAddress, exposureWarning } from './listen-address';

const AUTH_OFF = { disabled: false, users: [], apiKeys: [] };
const AUTH_ON = {
  disabled: false,
  users: [{ username: 'a', role: 'admin' as const, passwordHash: 'scrypt$1$1$1$a$b' }],
  apiKeys: [],
};

describe('listen address', () => {
  it('says what was bound, and gives a URL that reaches it from this machine', () => {
    expect(describeListenAddress({ address: '0.0.0.0', port: 3401, family: 'IPv4' })).toEqual({
      bound: '0.0.0.0:3401',
      url: 'http://127.0.0.1:3401',
      loopbackOnly: false,
    });
    expect(describeListenAddress({ address: '::', port: 80, family: 'IPv6' })).toEqual({
      bound: '[::]:80',
      url: 'http://[::1]:80',
      loopbackOnly: false,
    });
    expect(describeListenAddress({ address: '127.0.0.1', port: 3000, family: 'IPv4' })).toMatchObject({
      url: 'http://127.0.0.1:3000',
      loopbackOnly: true,
    });
    expect(describeListenAddress({ address: '192.168.1.5', port: 3000, family: 'IPv4' })).toMatchObject({
      bound: '192.168.1.5:3000',
      url: 'http://192.168.1.5:3000',
      loopbackOnly: false,
    });
  });

  it('warns loudly only when auth is off and the port is reachable from other machines', () => {
    const open = describeListenAddress({ address: '0.0.0.0', port: 3000, family: 'IPv4' });
    const local = describeListenAddress({ address: '127.0.0.1', port: 3000, family: 'IPv4' });
    expect(exposureWarning(open, AUTH_OFF)).toMatch(/^AUTH IS OFF and the API listens on 0\.0\.0\.0:3000/);
    expect(exposureWarning(open, AUTH_OFF)).toContain('CROWDLENS_HTTP_HOST=127.0.0.1');
    expect(exposureWarning(open, { ...AUTH_ON, disabled: true })).not.toBeNull();
    expect(exposureWarning(open, AUTH_ON)).toBeNull();
    expect(exposureWarning(local, AUTH_OFF)).toBeNull();
  });
});
