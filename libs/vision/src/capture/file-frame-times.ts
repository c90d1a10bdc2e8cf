/**
 * Capture times of a file decoded faster than real time: the run's start plus
 * the frame's media time. Every part is rounded to whole milliseconds before
 * it is added. With a fractional monotonic start (performance.now()), the sum
 * `start + 333.33…` would round differently from one run to the next, so the
 * duration between two frames (`(start + b) - (start + a)`) could land just
 * under or just over a threshold such as `counting.minVisitorMs`, and the
 * same video would give a track its first crop one frame apart in two runs.
 * Whole numbers subtract exactly: the durations depend on the video alone.
 */
export interface FileFrameTimes {
  /** Wall clock, epoch ms. */
  readonly ts: number;
  /** Monotonic ms. */
  readonly monoTs: number;
}

export function fileFrameTimes(
  start: { readonly wallMs: number; readonly monoMs: number },
  seq: number,
  fps: number,
): FileFrameTimes {
  const mediaMs = Math.round((seq * 1000) / fps);
  return { ts: Math.round(start.wallMs) + mediaMs, monoTs: Math.round(start.monoMs) + mediaMs };
}
