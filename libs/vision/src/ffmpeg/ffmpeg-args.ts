/**
 * Typed ffmpeg command lines for the raw-frame pipe. The pipeline needs one
 * shape only (one video input -> sampled, scaled RGB24 on stdout), so a small
 * builder beats a general wrapper: every flag here is deliberate and tested.
 */
import { CameraSourceError, parseCameraSource, type CameraSource } from '@crowdlens/config';

export type FfmpegInput =
  | { readonly kind: 'file'; readonly path: string; readonly realtime: boolean; readonly loop: boolean }
  | { readonly kind: 'rtsp'; readonly url: string }
  | { readonly kind: 'http'; readonly url: string };

export interface FfmpegOutput {
  /** Frames per second sampled from the stream (ffmpeg `fps` filter). */
  readonly fps: number;
  /** Output width; height follows the source aspect, rounded to even. */
  readonly width: number;
}

export interface FfmpegArgsSpec {
  readonly input: FfmpegInput;
  readonly output: FfmpegOutput;
  /** Network read/connect timeout; a dead camera must not hang ffmpeg forever. */
  readonly ioTimeoutMs: number;
  /** `-hwaccel` value (cuda, vaapi, ...); decoded frames are downloaded automatically for the CPU filters. */
  readonly hwaccel?: string;
  /**
   * Decoder threads (`-threads` before the input); absent: ffmpeg's own choice, several per
   * stream. One per stream costs 11-18 % less CPU when many cameras share the cores
   * (bench/ingest/decode-cost.sh); a single 4K stream needs more to keep up.
   */
  readonly decodeThreads?: number;
  /** From FfmpegBinary: selects option names that changed in ffmpeg 5 (libavformat 59). */
  readonly libavformatMajor: number;
}

export class UnsupportedSourceError extends Error {
  constructor(
    readonly redactedUrl: string,
    readonly reason = 'use rtsp://, rtsps://, http(s):// or a file path',
  ) {
    super(`unsupported source "${redactedUrl}": ${reason}`);
    this.name = 'UnsupportedSourceError';
  }
}

/**
 * Maps a camera URL to an input kind with the config's strict parser (see
 * parseCameraSource): a path or file:/// URL is a local file, made absolute;
 * `realtime` and `loop` only mean something for files.
 * @param redacted the same URL with credentials removed, used in errors.
 */
export function inputFromUrl(url: string, opts: { realtime: boolean; loop: boolean }, redacted: string): FfmpegInput {
  let source: CameraSource;
  try {
    source = parseCameraSource(url);
  } catch (err) {
    if (err instanceof CameraSourceError) throw new UnsupportedSourceError(redacted, err.message);
    throw err;
  }
  if (source.kind === 'file') return { kind: 'file', path: source.path, realtime: opts.realtime, loop: opts.loop };
  return source;
}

/**
 * The protocols ffmpeg may open for each input kind, nested opens included
 * (an HTTP redirect, a playlist or concat script inside a file): a camera can
 * never make ffmpeg speak gopher, udp or tcp to an arbitrary port.
 */
export const PROTOCOL_WHITELIST: Readonly<Record<FfmpegInput['kind'], string>> = {
  file: 'file',
  rtsp: 'rtsp,rtsps,tcp,tls',
  http: 'http,https,tcp,tls',
};

function assertPositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
}

export function buildFfmpegArgs(spec: FfmpegArgsSpec): string[] {
  const { input, output } = spec;
  assertPositive('fps', output.fps);
  assertPositive('ioTimeoutMs', spec.ioTimeoutMs);
  if (!Number.isInteger(output.width) || output.width < 2)
    throw new RangeError(`width must be an integer >= 2, got ${output.width}`);

  const timeoutUs = String(Math.round(spec.ioTimeoutMs * 1000));
  const args: string[] = [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    // `level+` tags every line ([error], [warning], [info]) so the reader can map
    // them to log levels. Not `error`: the output stream line (`Video: rawvideo
    // ..., 640x360`, info) is how the frame size becomes known, and the filter
    // graph lines (`graph 0 input from stream 0:0 ... w:640 h:360`, verbose) are
    // how a mid-stream resolution change is noticed. Verbose adds a few dozen
    // lines per run, none per frame.
    '-loglevel',
    'level+verbose',
  ];
  if (spec.hwaccel) args.push('-hwaccel', spec.hwaccel);
  if (spec.decodeThreads !== undefined) {
    if (!Number.isInteger(spec.decodeThreads) || spec.decodeThreads < 1)
      throw new RangeError(`decodeThreads must be an integer >= 1, got ${spec.decodeThreads}`);
    args.push('-threads', String(spec.decodeThreads));
  }
  args.push('-protocol_whitelist', PROTOCOL_WHITELIST[input.kind]);

  switch (input.kind) {
    case 'rtsp':
      // UDP drops packets behind NAT and on lossy links; TCP interleaving is what works everywhere.
      // The socket I/O timeout is `-timeout` since ffmpeg 5; before that `-timeout` meant
      // "listen for incoming connections" and the I/O timeout was `-stimeout`.
      args.push(
        '-rtsp_transport',
        'tcp',
        spec.libavformatMajor >= 59 ? '-timeout' : '-stimeout',
        timeoutUs,
        '-i',
        input.url,
      );
      break;
    case 'http':
      args.push('-rw_timeout', timeoutUs, '-i', input.url);
      break;
    case 'file':
      // A file played at native speed behaves like a camera; without -re it is decoded as fast as possible.
      if (input.realtime) args.push('-re');
      if (input.loop) args.push('-stream_loop', '-1');
      args.push('-i', input.path);
      break;
  }

  args.push(
    // First video stream only; a file without one fails with a clear "matches no streams".
    '-map',
    '0:v:0',
    '-vf',
    `fps=${output.fps},scale=${output.width}:-2`,
    '-an',
    '-sn',
    '-dn',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  );
  return args;
}
