import { hostname } from 'node:os';
import { Inject, Injectable, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, redactUrl, type AppConfig } from '@crowdlens/config';
import { MESSAGE_BUS, type MessageBus, type Subscription } from '@crowdlens/bus';
import { CAMERA_STATUS_TOPIC, CAMERA_STATUS_SCHEMA_VERSION, type CameraStatus } from '@crowdlens/contracts';

/**
 * Every analytics instance needs every status (not a share of them), so each
 * has a status group of its own: the one per-instance group in CrowdLens
 * (predictions and track events use one fixed group that all instances
 * share). Its id names the instance by host and HTTP port — stable across
 * restarts, and no two running processes on one host can share a port.
 * (It used to end in the pid: every restart made a new Kafka group, and the
 * old one stayed behind with its offsets for the broker's
 * offsets.retention.minutes, 7 days by default.) Only a process on an
 * ephemeral port (http.port 0) has nothing stable to go by and uses its pid.
 */
export function cameraStatusGroup(httpPort: number, host = hostname(), pid = process.pid, instance = 0): string {
  // Port 0 (tests, tools): several analytics apps may share one process, and each needs every status.
  return `crowdlens-analytics-status-${host}-${httpPort > 0 ? httpPort : `pid${pid}${instance > 0 ? `-${instance}` : ''}`}`;
}

/** Analytics apps started in this process so far (numbers the port-0 groups). */
let instancesInProcess = 0;

/**
 * Every camera analytics knows about: the configured ones, and whatever ingest
 * reports over the bus (cameras added at runtime, live health).
 */
@Injectable()
export class CameraRegistry implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly statuses = new Map<string, CameraStatus>();
  private subscription: Subscription | null = null;

  private readonly group: string;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
  ) {
    this.group = cameraStatusGroup(config.http.port, hostname(), process.pid, instancesInProcess++);
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
    // A new instance starts from now, whatever bus.newGroupsStartFrom says: a streaming camera
    // reports every 2 s, so the live picture is complete within seconds, and starting at the
    // earliest retained status would replay days of heartbeats and bring back cameras removed
    // since. A restarted instance goes on from its group's offsets: it catches up on the statuses
    // of its downtime (the newest per camera wins) instead of starting blind.
    this.subscription = await this.bus.subscribe(
      CAMERA_STATUS_TOPIC,
      { group: this.group, fromBeginning: false },
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
