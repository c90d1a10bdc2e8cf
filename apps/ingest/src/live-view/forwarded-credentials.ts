import type { AuthedRequest } from '@crowdlens/common';

/** Header names whose values prove who the caller is: forwarded as they came, so the ingest process checks the role itself. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'x-api-key'] as const;

/** The caller's own credentials, for a request analytics forwards to an ingest process on their behalf. */
export function forwardedCredentials(req: AuthedRequest): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const name of CREDENTIAL_HEADERS) {
    const v = req.headers[name];
    out[name] = Array.isArray(v) ? v[0] : v;
  }
  return out;
}
