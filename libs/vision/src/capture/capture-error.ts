import type { FfmpegInput } from '../ffmpeg/ffmpeg-args';

/**
 * Why a capture run ended, in words an operator can act on. `retryable`
 * decides between backoff (the camera may come back) and failed (the
 * configuration must change).
 */
export type CaptureErrorKind =
  | 'not-found'
  | 'invalid-input'
  | 'unreachable'
  | 'timeout'
  | 'auth'
  | 'ended'
  | 'stalled'
  /** The input changed resolution mid-stream; the run is restarted at once for the new size. */
  | 'resized'
  | 'spawn'
  | 'unsupported'
  | 'unknown';

export class CaptureError extends Error {
  constructor(
    readonly kind: CaptureErrorKind,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'CaptureError';
  }
}

export interface FfmpegExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Recent [error]/[fatal] lines, already redacted, oldest first. */
  readonly errorLines: readonly string[];
  readonly framesReceived: number;
  /** How long the run lasted, and the I/O timeout ffmpeg was given (network inputs). */
  readonly elapsedMs?: number;
  readonly ioTimeoutMs?: number;
}

interface Rule {
  readonly test: RegExp;
  readonly kind: CaptureErrorKind;
  readonly message: string;
  /** Network diagnoses make no sense for a local file and vice versa. */
  readonly appliesTo: 'file' | 'network' | 'any';
}

// Ordered: the first rule matching any error line wins. Texts are ffmpeg's
// (and the OS's strerror) as printed by ffmpeg 4.x-7.x.
const RULES: readonly Rule[] = [
  {
    test: /\b401\b|Unauthorized|\b403\b|Forbidden/i,
    kind: 'auth',
    message: 'authentication failed (401/403): check the camera user and password',
    appliesTo: 'network',
  },
  {
    test: /Connection refused/i,
    kind: 'unreachable',
    message: 'connection refused: nothing is listening at the camera address',
    appliesTo: 'network',
  },
  {
    test: /Network is unreachable|No route to host|Name or service not known|Temporary failure in name resolution|Failed to resolve hostname|Cannot assign requested address/i,
    kind: 'unreachable',
    message: 'camera unreachable: host not found or no network route',
    appliesTo: 'network',
  },
  {
    test: /timed out|Connection timeout/i,
    kind: 'timeout',
    message: 'connection timed out: the camera did not answer',
    appliesTo: 'network',
  },
  {
    test: /Connection reset by peer|End of file|Broken pipe/i,
    kind: 'unreachable',
    message: 'connection lost: the camera closed the stream',
    appliesTo: 'network',
  },
  {
    test: /\b404\b/,
    kind: 'not-found',
    message: 'stream not found on the camera (404): check the URL path',
    appliesTo: 'network',
  },
  { test: /No such file or directory/i, kind: 'not-found', message: 'file not found', appliesTo: 'file' },
  { test: /Permission denied/i, kind: 'not-found', message: 'file not readable: permission denied', appliesTo: 'file' },
  {
    test: /Invalid data found when processing input|could not find codec parameters|Unknown input format|moov atom not found|matches no streams|does not contain any stream|Decoder .* not found|unsupported codec/i,
    kind: 'invalid-input',
    message: 'not a video file or an unsupported format',
    appliesTo: 'any',
  },
];

function summary(lines: readonly string[]): string {
  const last = lines[lines.length - 1];
  return last ? `: ${last.slice(0, 300)}` : '';
}

/**
 * Turns an ffmpeg exit into a CaptureError. Local-file problems are not
 * retryable (the file will not appear by itself); network problems are,
 * including a 404 on an RTSP path (a restarting NVR answers 404 for a while).
 */
export function classifyFfmpegExit(exit: FfmpegExit, input: FfmpegInput): CaptureError {
  const isFile = input.kind === 'file';
  // A server that accepts the TCP connection and then never answers: ffmpeg's
  // read times out and it reports "Invalid data found when processing input",
  // which would otherwise read as "not a video" and give up for good.
  if (
    !isFile &&
    exit.framesReceived === 0 &&
    exit.ioTimeoutMs !== undefined &&
    (exit.elapsedMs ?? 0) >= exit.ioTimeoutMs * 0.9 &&
    exit.errorLines.every((l) => !/\b40[134]\b|Unauthorized|Forbidden|refused|unreachable|resolve/i.test(l))
  ) {
    const seconds = Math.round(exit.ioTimeoutMs / 1000);
    return new CaptureError('timeout', `connection timed out: the camera did not answer within ${seconds} s`, true);
  }
  // ffmpeg quotes the input in its messages; a path like /videos/cam-404.mp4 or a
  // URL with "401" in it must not decide the diagnosis, so names are removed first.
  const messages = exit.errorLines.map((l) => {
    const withoutPath = isFile && input.path ? l.split(input.path).join(' ') : l;
    return withoutPath.replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, ' ');
  });
  for (const rule of RULES) {
    if (rule.appliesTo === (isFile ? 'network' : 'file')) continue;
    // Video was decoded, so it is a video: "invalid data" here means damage (a
    // truncated file, corrupt packets), not the wrong kind of file.
    if (rule.kind === 'invalid-input' && exit.framesReceived > 0) continue;
    if (!messages.some((l) => rule.test.test(l))) continue;
    const retryable = !isFile && rule.kind !== 'auth' && rule.kind !== 'invalid-input';
    const fileMsg = rule.kind === 'not-found' && isFile ? `${rule.message}: ${input.path}` : rule.message;
    return new CaptureError(rule.kind, fileMsg, retryable);
  }
  if (exit.code === 0) {
    if (exit.framesReceived === 0) {
      return new CaptureError(
        'invalid-input',
        'stream ended before any frame was decoded: not a video or an empty one',
        !isFile,
      );
    }
    const damage = exit.errorLines.length > 0 ? ` (damaged input${summary(exit.errorLines)})` : '';
    return new CaptureError(
      'ended',
      (isFile ? 'end of file' : 'stream ended: the camera closed the connection') + damage,
      !isFile,
    );
  }
  const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
  return new CaptureError('unknown', `ffmpeg failed (${how})${summary(exit.errorLines)}`, true);
}
