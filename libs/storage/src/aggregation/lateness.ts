/**
 * What one event does to its camera's watermark (the newest event time seen on that stream):
 * - `first`: no watermark yet, the event's time becomes it;
 * - `late`: further behind the watermark than the allowed lateness: counted, not aggregated;
 * - `advance`: newer than the watermark, which moves up to it;
 * - `within`: behind the watermark but within the allowed lateness: applied, watermark kept.
 */
export type LatenessVerdict = 'first' | 'late' | 'advance' | 'within';

/** `watermark` undefined = the camera has none yet on this stream. */
export function judgeLateness(
  watermark: number | undefined,
  eventTs: number,
  allowedLatenessMs: number,
): LatenessVerdict {
  if (watermark === undefined) return 'first';
  if (eventTs < watermark - allowedLatenessMs) return 'late';
  return eventTs > watermark ? 'advance' : 'within';
}
