/**
 * Camera URLs carry credentials (rtsp://user:pass@host, ?user=admin&pwd=…),
 * and the Kafka bus has a SASL password and maybe a client key. Everything
 * that leaves the process — logs, status messages, API responses, errors —
 * goes through these first.
 */

/** Query keys whose values are credentials (`?user=admin&pwd=…`, `?token=…`), matched whole and case-insensitively. */
const CREDENTIAL_QUERY_KEY =
  /^(?:user(?:name)?|login|pass(?:word|wd)?|pwd|secret|token|access[_-]?token|auth|authorization|api[_-]?key|key|sig(?:nature)?|credentials?)$/i;

/** A URL inside free text: a scheme and everything up to white space or a quote. */
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:[^\s"'<>`]+/gi;

function redactQuery(query: string): string {
  return query
    .split(/([&;])/)
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq < 0) return part;
      let key = part.slice(0, eq);
      try {
        key = decodeURIComponent(key.replace(/\+/g, ' '));
      } catch {
        // a malformed escape: match the key as written
      }
      return CREDENTIAL_QUERY_KEY.test(key) ? `${part.slice(0, eq)}=***` : part;
    })
    .join('');
}

/**
 * Redacts the user info and credential-like query values of one URL, as the
 * URL grammar (and ffmpeg's av_url_split) reads it: the user info ends at the
 * last "@" of the authority, so `http://user:Pa@ss@host` hides all of
 * "Pa@ss". ffmpeg also accepts `rtsp:user:pass@host` (slashes optional), so
 * they are here too. Everything else is kept as written, not re-serialised.
 */
export function redactUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:)(\/{0,2})([\s\S]*)$/i.exec(url);
  if (!m) return url;
  const [, scheme, slashes, rest] = m as unknown as [string, string, string, string];
  const queryAt = rest.search(/[?#]/);
  const beforeQuery = queryAt < 0 ? rest : rest.slice(0, queryAt);
  const authorityEnd = beforeQuery.search(/\//);
  const authority = authorityEnd < 0 ? beforeQuery : beforeQuery.slice(0, authorityEnd);
  let at = authority.lastIndexOf('@');
  // `user:pa/ss@host` is not a valid URL, but its password would show as a host and path: hide it too.
  if (at < 0) {
    const loose = beforeQuery.lastIndexOf('@');
    if (loose >= 0 && beforeQuery.slice(0, loose).includes(':')) at = loose;
  }
  const afterUser = at < 0 ? rest : rest.slice(at + 1);
  const q = afterUser.indexOf('?');
  let redacted = afterUser;
  if (q >= 0) {
    const hash = afterUser.indexOf('#', q);
    const end = hash < 0 ? afterUser.length : hash;
    redacted = afterUser.slice(0, q + 1) + redactQuery(afterUser.slice(q + 1, end)) + afterUser.slice(end);
  }
  return `${scheme}${slashes}${at < 0 ? '' : '***:***@'}${redacted}`;
}

/** Secret values (not patterns) known to this process; see registerSecret. */
const secrets = new Set<string>();

/**
 * Makes `redactText` replace this exact value from now on, raw or as it reads
 * inside a JSON string (the logger redacts serialised lines). For secrets
 * that have no recognisable shape, such as a password; the config loader
 * and the bus factory register theirs as soon as they hold them.
 */
export function registerSecret(secret: string | undefined): void {
  if (!secret) return;
  secrets.add(secret);
  const escaped = JSON.stringify(secret).slice(1, -1);
  if (escaped !== secret) secrets.add(escaped);
}

/** Redacts credential-bearing URLs and registered secrets anywhere in a free-text message (ffmpeg stderr, error messages). */
export function redactText(text: string): string {
  let out = text.replace(URL_IN_TEXT, (url) => redactUrl(url));
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('***');
  return out;
}
