import type { Frame, SceneDetections, SceneDetector } from '@crowdlens/vision';

/** A scene detector that tells the bench what each frame gave, the pipeline seeing no difference. */
export class TappedSceneDetector implements SceneDetector {
  constructor(
    private readonly inner: SceneDetector,
    private readonly tap: (frameTs: number, found: SceneDetections) => void,
  ) {}

  get concurrency(): number {
    return this.inner.concurrency;
  }

  get backend(): string {
    return this.inner.backend;
  }

  get detectsPeople(): boolean {
    return this.inner.detectsPeople;
  }

  load(): Promise<void> {
    return this.inner.load();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  async detect(frame: Frame): Promise<SceneDetections> {
    // Read before the call: the detector may lend the frame's buffer out meanwhile.
    const ts = frame.ts;
    const found = await this.inner.detect(frame);
    this.tap(ts, found);
    return found;
  }
}
