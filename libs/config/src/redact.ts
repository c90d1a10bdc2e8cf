/**
 * Camera URLs carry credentials (rtsp://user:pass@host). Everything that
 * leaves the process — logs, status messages, API responses, errors — goes
 * through these first.
 */
const CREDENTIALS_IN_URL = /([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]+)(?::([^\s/@]*))?@/gi;

export function redactUrl(url: string): string {
  return url.replace(CREDENTIALS_IN_URL, (_m, scheme: string) => `${scheme}***:***@`);
}

/** Redacts credential-bearing URLs anywhere in a free-text message (ffmpeg stderr, error messages). */
export function redactText(text: string): string {
  return redactUrl(text);
}
