/**
 * Camera URLs carry credentials (rtsp://user:pass@host), and the Kafka bus
 * has a SASL password and maybe a client key. Everything that leaves the
 * process — logs, status messages, API responses, errors — goes through
 * these first.
 */
const CREDENTIALS_IN_URL = /([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]+)(?::([^\s/@]*))?@/gi;

export function redactUrl(url: string): string {
  return url.replace(CREDENTIALS_IN_URL, (_m, scheme: string) => `${scheme}***:***@`);
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
  let out = redactUrl(text);
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('***');
  return out;
}
