import { Inject, Injectable } from '@nestjs/common';
import { METRICS } from '@crowdlens/common';
import type { CameraStatus } from '@crowdlens/contracts';
import type { CameraDetails } from '@crowdlens/vision';
import { Counter, Gauge, type Registry } from 'prom-client';

const STATES = ['connecting', 'streaming', 'backoff', 'failed', 'stopped'] as const;

type StatusCounter = 'framesIn' | 'framesAnalysed' | 'framesDropped' | 'framesSkipped' | 'facesDetected' | 'reconnects';
type DetailGauge = 'detectMsMean' | 'facesPerMinute';

/** Per-camera health for Prometheus, fed by the statuses the cameras publish anyway. */
@Injectable()
export class IngestMetrics {
  private readonly crops: Counter;
  private readonly counters: Record<StatusCounter, Gauge>;
  private readonly details: Record<DetailGauge, Gauge>;
  private readonly fps: Gauge;
  private readonly tracks: Gauge;
  private readonly state: Gauge;
  private readonly detectRecent: Gauge;

  constructor(@Inject(METRICS) registry: Registry) {
    const gauge = (name: string, help: string, labelNames = ['camera']) =>
      new Gauge({ name, help, labelNames, registers: [registry] });
    this.crops = new Counter({
      name: 'crowdlens_ingest_crops_published_total',
      help: 'Face crops published to the bus',
      labelNames: ['camera'],
      registers: [registry],
    });
    this.counters = {
      framesIn: gauge('crowdlens_camera_frames_in_total', 'Frames read from the camera'),
      framesAnalysed: gauge('crowdlens_camera_frames_analysed_total', 'Frames that went through face detection'),
      framesDropped: gauge('crowdlens_camera_frames_dropped_total', 'Frames skipped because detection was behind'),
      framesSkipped: gauge(
        'crowdlens_camera_frames_motion_skipped_total',
        'Frames not sent to detection because nothing moved',
      ),
      facesDetected: gauge('crowdlens_camera_faces_detected_total', 'Faces detected'),
      reconnects: gauge('crowdlens_camera_reconnects_total', 'Times the camera was reconnected'),
    };
    this.details = {
      detectMsMean: gauge(
        'crowdlens_camera_detection_latency_ms',
        'Mean face detection latency, worker queue included',
      ),
      facesPerMinute: gauge('crowdlens_camera_faces_per_minute', 'Faces detected over the last minute'),
    };
    this.fps = gauge('crowdlens_camera_analysed_fps', 'Analysed frames per second, recent');
    this.detectRecent = gauge(
      'crowdlens_camera_detection_latency_recent_ms',
      'Face detection latency over the last ~10 detections (moving average, worker queue included)',
    );
    this.tracks = gauge('crowdlens_camera_tracks_total', 'Tracks (people) started');
    this.state = gauge('crowdlens_camera_state', "1 for the camera's current state", ['camera', 'state']);
  }

  crop(cameraId: string): void {
    this.crops.inc({ camera: cameraId });
  }

  status(s: CameraStatus, details?: CameraDetails): void {
    const camera = s.cameraId;
    for (const [key, g] of Object.entries(this.counters) as [StatusCounter, Gauge][]) g.set({ camera }, s[key]);
    if (details)
      for (const [key, g] of Object.entries(this.details) as [DetailGauge, Gauge][]) g.set({ camera }, details[key]);
    this.fps.set({ camera }, s.fps);
    if (s.detectMsRecent !== undefined) this.detectRecent.set({ camera }, s.detectMsRecent);
    this.tracks.set({ camera }, s.tracks);
    for (const state of STATES) this.state.set({ camera, state }, s.state === state ? 1 : 0);
  }

  /** A removed camera's series go away rather than freeze at their last value. */
  forget(cameraId: string): void {
    const camera = cameraId;
    for (const g of [
      ...Object.values(this.counters),
      ...Object.values(this.details),
      this.fps,
      this.tracks,
      this.detectRecent,
    ])
      g.remove({ camera });
    for (const state of STATES) this.state.remove({ camera, state });
    this.crops.remove({ camera });
  }
}
