import { hostname } from 'node:os';
import { Inject, Injectable, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, redactUrl, type AppConfig } from '@crowdlens/config';
import { MESSAGE_BUS, type MessageBus, type Subscription } from '@crowdlens/bus';
import { CAMERA_STATUS_TOPIC, CAMERA_STATUS_SCHEMA_VERSION, type CameraStatus } from '@crowdlens/contracts';

/** Every analytics instance needs every status (not a share of them): one group per process. */
export const cameraStatusGroup = (): string => `crowdlens-analytics-status-${hostname()}-${process.pid}`;

/**
 * Every camera analytics knows about: the configured ones, and whatever ingest
 * reports over the bus (cameras added at runtime, live health).
 */
@Injectable()
export class CameraRegistry implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly statuses = new Map<string, CameraStatus>();
  private subscription: Subscription | null = null;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
  ) {
    for (const cam of config.cameras) {
      this.statuses.set(cam.id, {
        schemaVersion: CAMERA_STATUS_SCHEMA_VERSION,
        cameraId: cam.id,
        name: cam.name ?? cam.id,
        ...(cam.group ? { group: cam.group } : {}),
        url: redactUrl(cam.url),
        state: 'connecting',
        lastError: null,
        fps: 0,
        framesIn: 0,
        framesAnalysed: 0,
        framesDropped: 0,
        framesSkipped: 0,
        facesDetected: 0,
        tracks: 0,
        reconnects: 0,
        updatedAt: 0,
      });
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    // From now, whatever bus.newGroupsStartFrom says: this group is new at every start (one per
    // process), and a streaming camera reports every 2 s, so the live picture is complete within
    // seconds; starting at the earliest retained status would replay days of heartbeats on every
    // start and bring back cameras removed since.
    this.subscription = await this.bus.subscribe(
      CAMERA_STATUS_TOPIC,
      { group: cameraStatusGroup(), fromBeginning: false },
      async (s) => {
        const known = this.statuses.get(s.cameraId);
        if (!known || known.updatedAt <= s.updatedAt) this.statuses.set(s.cameraId, s);
      },
    );
  }

  list(): CameraStatus[] {
    return [...this.statuses.values()].sort((a, b) => a.cameraId.localeCompare(b.cameraId));
  }

  has(cameraId: string): boolean {
    return this.statuses.has(cameraId);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.subscription?.close();
  }
}
