/**
 * What the HTTP server actually bound, said plainly: the configured host is
 * not always what a reader assumes (0.0.0.0 is every interface, not
 * 127.0.0.1), and an API without auth on a network interface hands admin
 * rights to anyone who can reach the port.
 */
import type { AddressInfo } from 'node:net';
import { isAuthOff, isLoopbackHost, type AuthConfig } from '@crowdlens/config';

export interface ListenAddress {
  /** host:port as bound (IPv6 in brackets), e.g. `0.0.0.0:3000`, `[::1]:3000`. */
  readonly bound: string;
  /** A URL that reaches the server from this machine (loopback when it listens on every interface). */
  readonly url: string;
  /** Whether the server is reachable only from this machine. */
  readonly loopbackOnly: boolean;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '::0', '0:0:0:0:0:0:0:0']);

export function describeListenAddress(address: Pick<AddressInfo, 'address' | 'port' | 'family'>): ListenAddress {
  const ipv6 = address.family === 'IPv6' || address.address.includes(':');
  const hostPart = (h: string) => (ipv6 && h.includes(':') ? `[${h}]` : h);
  const bound = `${hostPart(address.address)}:${address.port}`;
  const local = WILDCARDS.has(address.address) ? (ipv6 ? '[::1]' : '127.0.0.1') : hostPart(address.address);
  return { bound, url: `http://${local}:${address.port}`, loopbackOnly: isLoopbackHost(address.address) };
}

/** Whether the API answers without credentials (the Authenticator's rule). */
export function authIsOff(auth: Pick<AuthConfig, 'disabled' | 'users' | 'apiKeys'>): boolean {
  return isAuthOff(auth);
}

/** The start-up warning for an API without auth on a network interface; null when there is nothing to warn about. */
export function exposureWarning(
  listen: ListenAddress,
  auth: Pick<AuthConfig, 'disabled' | 'users' | 'apiKeys'>,
): string | null {
  if (listen.loopbackOnly || !authIsOff(auth)) return null;
  return (
    `AUTH IS OFF and the API listens on ${listen.bound}, reachable from other machines: anyone who can reach ` +
    'this port has admin rights. Add auth.users (npm run hash-password) or bind to this machine only ' +
    '(http.host: 127.0.0.1 or CROWDLENS_HTTP_HOST=127.0.0.1).'
  );
}
