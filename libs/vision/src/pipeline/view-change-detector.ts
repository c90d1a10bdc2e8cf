import type { Frame } from '../frame';
import { changedFraction, greyThumbnail, type GreyThumbnail } from './motion-gate';

/** A cell this much brighter or darker (grey levels) has changed for real, not by noise or a passer-by's shadow. */
const CUT_PIXEL_THRESHOLD = 30;
/** Share of the picture that must change at once for a cut; people walking change a few percent. */
const CUT_FRACTION = 0.6;

/**
 * Notices when the whole view changes between two analysed frames: a camera
 * moved to another preset, a stream that skipped, an edited clip cutting to
 * another scene. Nobody tracked before such a change can be followed after
 * it, and matching boxes across it would merge different people.
 */
export class ViewChangeDetector {
  private previous: GreyThumbnail | null = null;

  isCut(frame: Frame): boolean {
    const thumb = greyThumbnail(frame, 32);
    const prev = this.previous;
    this.previous = thumb;
    return prev !== null && changedFraction(prev, thumb, CUT_PIXEL_THRESHOLD) >= CUT_FRACTION;
  }
}
