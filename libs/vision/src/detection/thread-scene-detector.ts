import type { Frame } from '../frame';
import type { FaceDetectOptions, FaceDetector } from './face-detector.port';
import type { PersonDetector } from './person-detector.port';
import type { SceneDetections, SceneDetector } from './scene-detector.port';

/**
 * Face and (optionally) person detection on the calling thread: what each
 * detector worker runs, and the whole detector when `detector.workers` is 0.
 * The two run one after the other on the same frame: each detector may
 * borrow `frame.data` and hands it back before resolving.
 */
export class ThreadSceneDetector implements SceneDetector {
  constructor(
    private readonly faces: FaceDetector,
    private readonly people: PersonDetector | null,
  ) {}

  get concurrency(): number {
    return this.faces.concurrency;
  }

  get detectsPeople(): boolean {
    return this.people !== null;
  }

  get backend(): string {
    return this.people ? `${this.faces.backend}+people:${this.people.backend}` : this.faces.backend;
  }

  get fallbackReason(): string | null {
    return this.faces.fallbackReason ?? this.people?.fallbackReason ?? null;
  }

  async load(): Promise<void> {
    await Promise.all([this.faces.load(), this.people?.load()]);
  }

  async detect(frame: Frame, options?: FaceDetectOptions): Promise<SceneDetections> {
    const people = this.people ? await this.people.detect(frame) : [];
    const faces = await this.faces.detect(frame, options);
    return { faces, people };
  }

  async close(): Promise<void> {
    await Promise.all([this.faces.close(), this.people?.close()]);
  }
}
