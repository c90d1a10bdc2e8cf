import { Inject, Injectable } from '@nestjs/common';
import { METRICS } from '@crowdlens/common';
import type { CameraStatus } from '@crowdlens/contracts';
import { Counter, Gauge, type Registry } from 'prom-client';

const STATES = ['connecting', 'streaming', 'backoff', 'failed', 'stopped'] as const;

/** Per-camera health for Prometheus, fed by the statuses the cameras publish anyway. */
@Injectable()
export class IngestMetrics {
  private readonly crops: Counter;
  private readonly counters: Record<'framesIn' | 'framesAnalysed' | 'framesDropped' | 'facesDetected' | 'reconnects', Gauge>;
  private readonly fps: Gauge;
  private readonly tracks: Gauge;
  private readonly state: Gauge;

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
      facesDetected: gauge('crowdlens_camera_faces_detected_total', 'Faces detected'),
      reconnects: gauge('crowdlens_camera_reconnects_total', 'Times the camera was reconnected'),
    };
    this.fps = gauge('crowdlens_camera_analysed_fps', 'Analysed frames per second, recent');
    this.tracks = gauge('crowdlens_camera_tracks_total', 'Tracks (people) started');
    this.state = gauge('crowdlens_camera_state', '1 for the camera\'s current state', ['camera', 'state']);
  }

  crop(cameraId: string): void {
    this.crops.inc({ camera: cameraId });
  }

  status(s: CameraStatus): void {
    const camera = s.cameraId;
    for (const [key, g] of Object.entries(this.counters) as [keyof typeof this.counters, Gauge][]) g.set({ camera }, s[key]);
    this.fps.set({ camera }, s.fps);
    this.tracks.set({ camera }, s.tracks);
    for (const state of STATES) this.state.set({ camera, state }, s.state === state ? 1 : 0);
  }
}
