/**
 * Reading ffmpeg's stderr (run with `-loglevel level+verbose`): per-line levels,
 * the output frame size, and the lines that explain a failure.
 */

export type FfmpegLogLevel = 'trace' | 'debug' | 'verbose' | 'info' | 'warning' | 'error' | 'fatal' | 'panic';

export interface FfmpegLogLine {
  readonly level: FfmpegLogLevel;
  /** The line without the level tag, e.g. `[tcp @ 0x55] Connection refused`. */
  readonly text: string;
}

// The tag follows an optional `[component @ 0x...] ` context prefix.
const LEVEL_TAG = /\[(trace|debug|verbose|info|warning|error|fatal|panic)\] /;

export function parseFfmpegLogLine(line: string): FfmpegLogLine {
  const m = LEVEL_TAG.exec(line);
  if (!m) return { level: 'info', text: line };
  return { level: m[1] as FfmpegLogLevel, text: (line.slice(0, m.index) + line.slice(m.index + m[0].length)).trim() };
}

/** Splits a byte stream into lines; ffmpeg ends progress lines with `\r`, so both count. */
export class LineSplitter {
  private rest = '';

  push(chunk: Buffer | string): string[] {
    const text = this.rest + chunk.toString();
    const parts = text.split(/\r\n|\r|\n/);
    this.rest = parts.pop() ?? '';
    // A runaway line without newline must not grow memory without bound.
    if (this.rest.length > 64 * 1024) {
      parts.push(this.rest);
      this.rest = '';
    }
    return parts.filter((p) => p.length > 0);
  }

  flush(): string[] {
    const last = this.rest;
    this.rest = '';
    return last ? [last] : [];
  }
}

/**
 * Learns the raw frame size from the output stream description, e.g.
 * `Output #0, rawvideo, to 'pipe:1':` followed by
 * `  Stream #0:0: Video: rawvideo (RGB[24] / 0x18424752), rgb24, 640x360 [SAR 1:1 DAR 16:9], ...`.
 * Only lines after the `Output #0` header count: the input streams print
 * their own (different) sizes first.
 */
export class OutputSizeDetector {
  private inOutputSection = false;
  private found: { width: number; height: number } | null = null;

  get size(): { width: number; height: number } | null {
    return this.found;
  }

  /** Returns the size when this line revealed it. */
  push(text: string): { width: number; height: number } | null {
    if (this.found) return null;
    if (/^Output #0\b/.test(text)) {
      this.inOutputSection = true;
      return null;
    }
    if (!this.inOutputSection) return null;
    if (!/Stream #\d+:\d+.*Video: rawvideo/.test(text)) return null;
    // `, WxH` — the comma keeps the fourcc `0x18424752` from matching.
    const m = /,\s(\d{1,5})x(\d{1,5})\b/.exec(text);
    if (!m) return null;
    this.found = { width: Number(m[1]), height: Number(m[2]) };
    return this.found;
  }
}

export interface SizeChange {
  readonly from: { width: number; height: number };
  readonly to: { width: number; height: number };
}

/**
 * Notices the decoded input changing resolution mid-stream (a camera switched
 * profile, an NVR spliced two recordings). ffmpeg then rebuilds its filter
 * graph and, to keep the output size of the run, silently stretches the new
 * picture into the old frame size (its `-autoscale` default): the frames stay
 * whole but faces come out squashed. Each graph (re)configuration prints, at
 * `verbose` level, `[graph 0 input from stream 0:0 @ 0x..] w:480 h:480 ...`;
 * a second one with another size is the change.
 */
export class InputSizeWatcher {
  private current: { width: number; height: number } | null = null;

  get size(): { width: number; height: number } | null {
    return this.current;
  }

  /** Returns the change when this line revealed one; the first size seen is not a change. */
  push(text: string): SizeChange | null {
    const m = /\bgraph \d+ input from stream \d+:\d+\b.*?\bw:(\d+) h:(\d+)\b/.exec(text);
    if (!m) return null;
    const size = { width: Number(m[1]), height: Number(m[2]) };
    const previous = this.current;
    this.current = size;
    if (!previous || (previous.width === size.width && previous.height === size.height)) return null;
    return { from: previous, to: size };
  }
}
