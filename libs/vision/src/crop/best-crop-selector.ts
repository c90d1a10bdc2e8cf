/**
 * Decides which crops of a track are worth sending. The first crop goes out
 * at once (a person walking past may never be seen again); after that only a
 * crop clearly better than the best one sent so far, and never more than
 * `cropsPerTrack`. Inference cost is then bounded per person, not per frame.
 */
export class BestCropSelector {
  private readonly sent = new Map<string, { count: number; best: number }>();

  constructor(
    private readonly cropsPerTrack: number,
    /** How much better (quality units) a later crop must be. */
    private readonly minImprovement = 0.05,
  ) {
    if (!Number.isInteger(cropsPerTrack) || cropsPerTrack < 1)
      throw new RangeError(`cropsPerTrack must be >= 1, got ${cropsPerTrack}`);
  }

  /** False once the track has used its budget: callers skip even scoring the crop. */
  wants(trackId: string): boolean {
    return (this.sent.get(trackId)?.count ?? 0) < this.cropsPerTrack;
  }

  /**
   * The lowest quality `offer` would accept for this track now (0 for a track with no crop yet,
   * above 1 once its budget is spent): a caller whose crop cannot reach it skips scoring it.
   */
  minAccepted(trackId: string): number {
    const entry = this.sent.get(trackId);
    if (!entry) return 0;
    return entry.count >= this.cropsPerTrack ? Number.POSITIVE_INFINITY : entry.best + this.minImprovement;
  }

  /** Records and returns whether a crop of this quality should be sent. */
  offer(trackId: string, quality: number): boolean {
    const entry = this.sent.get(trackId);
    if (!entry) {
      this.sent.set(trackId, { count: 1, best: quality });
      return true;
    }
    if (entry.count >= this.cropsPerTrack || quality < entry.best + this.minImprovement) return false;
    entry.count++;
    entry.best = quality;
    return true;
  }

  /** Track closed: forget it so the map does not grow with every visitor. */
  end(trackId: string): void {
    this.sent.delete(trackId);
  }

  get trackedCount(): number {
    return this.sent.size;
  }
}
