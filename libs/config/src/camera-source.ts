/**
 * What a camera URL may name. ffmpeg opens whatever protocol a string names
 * (`gopher:`, `tcp:`, `concat:`, `data:`, `subfile:` ... and `http:host`
 * without slashes), so anything not recognised here is refused instead of
 * being read as "a local path": a camera URL is attacker input once the admin
 * API can add cameras. Pure: no filesystem access, usable from the schema.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export type CameraSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'rtsp'; readonly url: string }
  | { readonly kind: 'http'; readonly url: string };

/** Why a camera URL is refused; the message never quotes the URL (it may hold credentials). */
export class CameraSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CameraSourceError';
  }
}

const NETWORK_SCHEMES: Readonly<Record<string, 'rtsp' | 'http'>> = {
  rtsp: 'rtsp',
  rtsps: 'rtsp',
  http: 'http',
  https: 'http',
};

const ALLOWED = 'use rtsp://, rtsps://, http://, https:// or a file path (./name for a file whose name has a colon)';

/**
 * Parses a camera URL strictly; throws CameraSourceError for anything ffmpeg
 * should not be given. A file path comes back absolute (relative ones against
 * the working directory, as ffmpeg would read them).
 */
export function parseCameraSource(url: string): CameraSource {
  // Control characters split ffmpeg's own URL parsing from ours (and smuggle CR/LF into requests).
  if (/[\x00-\x1f\x7f]/.test(url)) throw new CameraSourceError('control characters are not allowed');
  if (url.trim() !== url) throw new CameraSourceError('leading or trailing spaces are not allowed');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  // A path is resolved here, and ffmpeg is given the absolute form, which it can only read as a
  // file: a relative `name:rest` would name a protocol, so such a file must be written `./name:rest`.
  if (scheme === undefined) return { kind: 'file', path: resolve(url) };
  if (scheme === 'file') {
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch {
      throw new CameraSourceError('a file:// URL must be file:///absolute/path on this machine');
    }
    return { kind: 'file', path: resolve(path) };
  }
  const kind = NETWORK_SCHEMES[scheme];
  if (kind === undefined) throw new CameraSourceError(`scheme "${scheme}:" is not allowed: ${ALLOWED}`);
  // ffmpeg accepts `http:host` and `rtsp:user:pass@host` too; only the unambiguous form is allowed.
  const rest = url.slice(scheme.length + 1);
  if (!rest.startsWith('//')) throw new CameraSourceError(`write "${scheme}://host/...": ${ALLOWED}`);
  // The WHATWG parser skips extra slashes and reads "\" as "/" where ffmpeg does not: refuse both.
  if (/^\/\/[/\\]/.test(rest) || rest.includes('\\'))
    throw new CameraSourceError(`a ${scheme}:// URL needs a host right after "//" and no backslashes`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CameraSourceError(`not a valid ${scheme}:// URL`);
  }
  if (parsed.hostname === '') throw new CameraSourceError(`a ${scheme}:// URL needs a host`);
  return { kind, url };
}

/** Whether `path` (absolute, normalised) lies inside `dir`. */
export function isInsideDir(path: string, dir: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Checks a parsed source against `ingest.mediaDir`: when it is set, a file
 * source must lie inside it. Unset, any local file is allowed (the demo
 * plays assets/sample.mp4 from the checkout, tests play files in temp dirs).
 */
export function checkMediaDir(source: CameraSource, mediaDir: string | undefined): void {
  if (source.kind !== 'file' || mediaDir === undefined) return;
  if (!isInsideDir(source.path, mediaDir))
    throw new CameraSourceError(`files must lie inside ingest.mediaDir (${mediaDir})`);
}
