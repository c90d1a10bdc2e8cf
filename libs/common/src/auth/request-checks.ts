/**
 * Checks on requests that change something (POST, PUT, PATCH, DELETE), made
 * before authentication: a browser attaches the login cookie to a
 * cross-site form post, and with auth off every caller is let in, so a page
 * on another site (or another port of this host: same-site, so SameSite
 * cookies do not help) must not be able to change anything. Plain functions
 * over the headers, no HTTP framework.
 */

export type HeaderValue = string | string[] | undefined;

export interface RequestHeadersView {
  readonly method: string;
  readonly headers: Readonly<Record<string, HeaderValue>>;
}

export interface RequestProblem {
  /** 415 for a body that is not JSON, 403 for a cross-site request. */
  readonly status: 403 | 415;
  readonly message: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function first(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function hasBody(headers: RequestHeadersView['headers']): boolean {
  const length = first(headers['content-length']);
  return (length !== undefined && length.trim() !== '0') || first(headers['transfer-encoding']) !== undefined;
}

/** application/json or application/<something>+json, any parameters (charset). */
export function isJsonContentType(value: string | undefined): boolean {
  const type = value?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/json' || (type !== undefined && /^application\/[a-z0-9.+-]+\+json$/.test(type));
}

/**
 * Whether the browser says the request comes from another origin. A
 * request with neither header (curl, scripts, server-side clients) is not
 * a browser's cross-site request and passes; a browser always sends one.
 */
function crossSite(headers: RequestHeadersView['headers']): string | null {
  const site = first(headers['sec-fetch-site'])?.toLowerCase();
  if (site !== undefined) return site === 'same-origin' || site === 'none' ? null : `Sec-Fetch-Site: ${site}`;
  const origin = first(headers.origin);
  if (origin === undefined) return null;
  const host = first(headers.host);
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return `Origin: ${origin}`; // "null" (sandboxed frames, file:// pages) and anything unparsable
  }
  return host !== undefined && originHost === host.toLowerCase() ? null : `Origin: ${origin}`;
}

/** What is wrong with a request before it reaches a route; null when nothing is. */
export function unsafeRequestProblem(req: RequestHeadersView): RequestProblem | null {
  if (SAFE_METHODS.has(req.method.toUpperCase())) return null;
  const { headers } = req;
  // HTML forms can only send urlencoded, multipart or text/plain bodies without a CORS preflight.
  if (hasBody(headers) && !isJsonContentType(first(headers['content-type']))) {
    return { status: 415, message: 'send the request body as application/json' };
  }
  // A credential in a header is never attached by the browser on its own: only ambient ones need the check.
  if (first(headers.authorization) !== undefined || first(headers['x-api-key']) !== undefined) return null;
  const why = crossSite(headers);
  return why === null
    ? null
    : {
        status: 403,
        message: `cross-site request refused (${why}): change things from this server's own pages, or send an API key`,
      };
}
