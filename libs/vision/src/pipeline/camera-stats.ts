/** Counters for one camera, the numbers in CameraStatus. Plain fields: stages increment them directly. */
export class CameraStats {
  framesAnalysed = 0;
  framesDropped = 0;
  /** Frames not sent to detection because nothing moved (motion gating). */
  framesSkipped = 0;
  facesDetected = 0;
  /** People found by the person detector (people counting). */
  peopleDetected = 0;
  tracks = 0;
  /** Faces on a track but smaller than the gender floor: seen, not classified. */
  facesBelowFloor = 0;
  trackEvents = 0;
  /** Whole-picture changes (camera moved, a cut) that ended every track. */
  viewChanges = 0;
  trackEventErrors = 0;
  /** Line crossings and zone entries/exits published, and those that failed. */
  lineZoneEvents = 0;
  lineZoneEventErrors = 0;
  cropsEmitted = 0;
  cropErrors = 0;
  detectErrors = 0;
  /** Why the last detection failed (a hung worker's deadline, a model error); null once one succeeds again. */
  lastDetectError: string | null = null;
  /** Detection latency (queue wait in the worker pool included), ms. */
  detectMsTotal = 0;
  detectCount = 0;
  detectMsMax = 0;
  /** Moving average of the latest detections (weight 0.1 each): what an alert on latency watches. */
  detectMsRecent = 0;
  private readonly analysedAt: number[] = [];
  /** [time, faces] of analysed frames with faces over the last minute. */
  private readonly facesAt: Array<[number, number]> = [];

  constructor(
    /** Window over which `fps` is averaged. */
    private readonly windowMs = 10_000,
  ) {}

  markAnalysed(now: number): void {
    this.framesAnalysed++;
    this.analysedAt.push(now);
    this.prune(now);
  }

  markFaces(now: number, faces: number): void {
    this.facesDetected += faces;
    if (faces > 0) this.facesAt.push([now, faces]);
    this.pruneFaces(now);
  }

  /** Faces detected over the last 60 s. */
  facesPerMinute(now: number): number {
    this.pruneFaces(now);
    let n = 0;
    for (const [, faces] of this.facesAt) n += faces;
    return n;
  }

  private pruneFaces(now: number): void {
    let drop = 0;
    while (drop < this.facesAt.length && now - (this.facesAt[drop] as [number, number])[0] > 60_000) drop++;
    if (drop > 0) this.facesAt.splice(0, drop);
  }

  markDetected(ms: number): void {
    this.detectMsTotal += ms;
    this.detectCount++;
    if (ms > this.detectMsMax) this.detectMsMax = ms;
    this.detectMsRecent = this.detectCount === 1 ? ms : 0.9 * this.detectMsRecent + 0.1 * ms;
  }

  /** Mean detection latency since the camera was added, ms; 0 before the first detection. */
  get detectMsMean(): number {
    return this.detectCount === 0 ? 0 : this.detectMsTotal / this.detectCount;
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
