import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

/**
 * Finds the ffmpeg binary once per process. The system build is preferred
 * (distro builds carry hardware decoders and security updates); the binary
 * shipped in @ffmpeg-installer/ffmpeg is the fallback so `npm install` alone
 * gives a working demo. Its version matters: some options were renamed in
 * ffmpeg 5 (see FfmpegArgs).
 */
export interface FfmpegBinary {
  readonly path: string;
  readonly source: 'system' | 'npm' | 'explicit';
  /** First line of `ffmpeg -version`. */
  readonly versionLine: string;
  /** libavformat major version; 59 and above is ffmpeg 5+. Snapshot builds have no release number, libavformat always does. */
  readonly libavformatMajor: number;
}

export class FfmpegNotFoundError extends Error {
  constructor(detail: string) {
    super(
      `ffmpeg not found: ${detail}. Install it (e.g. apt-get install ffmpeg) or run npm install so that ` +
        `@ffmpeg-installer/ffmpeg provides a binary.`,
    );
    this.name = 'FfmpegNotFoundError';
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function npmBinary(): string | null {
  try {
    const installer = require('@ffmpeg-installer/ffmpeg') as { path?: unknown };
    return typeof installer.path === 'string' && isExecutable(installer.path) ? installer.path : null;
  } catch {
    // Optional platform package missing (unsupported OS/arch): fall through to the error.
    return null;
  }
}

/** Runs `-version`; null when the binary cannot be started at all (ENOENT: not on PATH). */
function tryProbe(path: string, source: FfmpegBinary['source'], pathEnv?: string): FfmpegBinary | null {
  const res = spawnSync(path, ['-hide_banner', '-version'], {
    encoding: 'utf8',
    timeout: 10_000,
    ...(pathEnv === undefined ? {} : { env: { PATH: pathEnv } }),
  });
  if ((res.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return null;
  if (res.error || res.status !== 0) {
    throw new FfmpegNotFoundError(`${path} -version failed (${res.error?.message ?? `exit ${res.status}`})`);
  }
  const out = res.stdout;
  const versionLine = out.split('\n')[0]?.trim() ?? '';
  const lavf = /libavformat\s+(\d+)\./.exec(out);
  if (!lavf) throw new FfmpegNotFoundError(`${path} does not look like ffmpeg (no libavformat version)`);
  return { path, source, versionLine, libavformatMajor: Number(lavf[1]) };
}

export function probeFfmpeg(path: string, source: FfmpegBinary['source']): FfmpegBinary {
  const found = tryProbe(path, source);
  if (!found) throw new FfmpegNotFoundError(`${path} does not exist`);
  return found;
}

export interface LocateFfmpegOptions {
  /** Use exactly this binary (tests, unusual installs). */
  readonly explicitPath?: string;
  /** PATH to search instead of the process's (tests). */
  readonly pathEnv?: string;
}

let cached: FfmpegBinary | null = null;

export function locateFfmpeg(opts: LocateFfmpegOptions = {}): FfmpegBinary {
  if (opts.explicitPath) return probeFfmpeg(opts.explicitPath, 'explicit');
  const useCache = opts.pathEnv === undefined;
  if (useCache && cached) return cached;
  // A bare name lets spawn resolve it through PATH, as a shell would.
  let found = tryProbe('ffmpeg', 'system', opts.pathEnv);
  if (!found) {
    const bundled = npmBinary();
    if (!bundled)
      throw new FfmpegNotFoundError('not on PATH and @ffmpeg-installer/ffmpeg has no binary for this platform');
    found = probeFfmpeg(bundled, 'npm');
  }
  if (useCache) cached = found;
  return found;
}
