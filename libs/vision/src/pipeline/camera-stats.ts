/** Counters for one camera, the numbers in CameraStatus. Plain fields: stages increment them directly. */
export class CameraStats {
  framesAnalysed = 0;
  framesDropped = 0;
  facesDetected = 0;
  tracks = 0;
  cropsEmitted = 0;
  cropErrors = 0;
  detectErrors = 0;
  private readonly analysedAt: number[] = [];

  constructor(
    /** Window over which `fps` is averaged. */
    private readonly windowMs = 10_000,
  ) {}

  markAnalysed(now: number): void {
    this.framesAnalysed++;
    this.analysedAt.push(now);
    this.prune(now);
  }

  /** Analysed frames per second over the recent window; 0 when idle. */
  fps(now: number): number {
    this.prune(now);
    if (this.analysedAt.length < 2) return this.analysedAt.length === 0 ? 0 : 1000 / this.windowMs;
    const span = Math.max(now - (this.analysedAt[0] as number), 1000);
    return Math.round((this.analysedAt.length / Math.min(span, this.windowMs)) * 1000 * 100) / 100;
  }

  private prune(now: number): void {
    let drop = 0;
    while (drop < this.analysedAt.length && now - (this.analysedAt[drop] as number) > this.windowMs) drop++;
    if (drop > 0) this.analysedAt.splice(0, drop);
  }
}
